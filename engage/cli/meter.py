"""`engage status / explain / intro / ask / import-linkedin`: the meter and introductions.

Only click and our own light modules load at import time; the store (TinyDB), rich and
jinja2 are imported inside the commands that use them.

JSON interface (`--json`), stable for scripts:
- `engage status --json`: a list, most urgent first, of objects with
  `person`, `stage` (cold, noticed, in_dialogue, ready, asked, connected, went_cold),
  `score`, `score_in`, `score_out`, `score_both` (numbers, 2 decimals), `reason` (one
  sentence), `reasons` (up to two more), `next_step`, `action` (what is due: ask,
  follow_up_meeting, reply, follow_up_ask, give, stay_in_touch, reopen, wait, parked, start,
  or ""), `gates` (a list of {name, passed, detail}; names reciprocity, recency, gives,
  score, no_pending_ask), `last_contact` (ISO 8601 with offset, or null), `due` (for a
  connected person, when getting back in touch is due; else null).
- `engage explain PERSON --json`: one such object plus `points_by_kind` ({kind: points}),
  `history` (a list of [ISO date, score], the last 180 days), `timeline` (the last events:
  id, kind, direction, when, url, note, confirmed), `intro_paths` (see below) and
  `linkedin` (true when the person is one of your LinkedIn connections).
- `engage intro PERSON --json`: `person`, `paths` (below), `note` (the draft, or null),
  `contact` (true when PERSON is a contact you already know: no paths, no note),
  `longer_paths` (with one hop and no path found: how many two-hop paths exist),
  `withheld` (why no note was drafted: the best path is weaker than
  settings.meter.intro_min_strength; or null) and `unsupported_paths` (links with no
  evidence worth an ask behind them: never recommended, never drafted for; each path
  object plus `missing`, what would make it one).
- Intro paths: objects with `via` (the intermediaries, the connector first), `strength`
  (0..1, the product of the ties) and `evidence` (a list of {text, url}).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engage.app import orphan_line, stage_words
from engage.cli.common import quote
from engage.cli.output import cell, echo, echo_json, lines, print_table, table
from engage.errors import EngageError
from engage.launch import config_option, data_option, open_app
from engage.models import Reading, Stage

if TYPE_CHECKING:
    from engage.intro import IntroPath

STAGES = [stage.value for stage in Stage]
BAR_WIDTH = 12
BAR_FULL = 18.0  # points that fill the bar: the ready line (12) sits at two thirds


def _bar(score: float, *, fancy: bool) -> str:
    filled = min(BAR_WIDTH, round(score / BAR_FULL * BAR_WIDTH))
    return (
        ("█" * filled + "·" * (BAR_WIDTH - filled))
        if fancy
        else ("#" * filled + "-" * (BAR_WIDTH - filled))
    )


def _at_option(func: Any) -> Any:
    return click.option(
        "--at",
        "at",
        default=None,
        metavar="WHEN",
        help="Evaluate the meter at another moment, past or future (ISO date or date-time, "
        "'yesterday', '3 days ago'; a date means its start). For what-if and tests.",
    )(func)


@click.command("status")
@click.option(
    "--stage", "stages", multiple=True, type=click.Choice(STAGES), help="Only this stage."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see `engage explain --help`).")
@click.option(
    "--all", "show_all", is_flag=True, help="List the cold one by one too (one line otherwise)."
)
@_at_option
@config_option
@data_option
def status(
    stages: Sequence[str],
    as_json: bool,
    show_all: bool,
    at: str | None,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Everyone you follow, what needs action first: stage, score, why and the next
    step. The people with no contact yet (cold) share one line; --all lists them.

    JSON: a list of objects with person, stage (cold, noticed, in_dialogue, ready,
    asked, connected, went_cold), score, score_in, score_out, score_both, reason,
    reasons, next_step, action, gates [{name, passed, detail}], last_contact and due.

    \b
    Example:
      engage status
      engage status --all
      engage status --stage ready --stage in_dialogue
      engage status --json --at 2024-06-01T09:00
    """
    from engage.views import reading_json

    app = open_app(config_path, data_dir)
    readings = app.status(at, stages)
    where = Path(app.watchlist.path or "feeds.yaml").name
    # A history nobody in the watchlist resolves to is never silent; with --json the line
    # goes to stderr, so the document stays what scripts expect.
    orphans = [orphan_line(orphan, where) for orphan in app.orphans()]
    if as_json:
        echo_json([reading_json(r) for r in readings])
        for line in orphans:
            echo(line, err=True)
        return
    cold: list[str] = []
    if not (show_all or stages):
        # Twenty people printed 40 lines, five of them the same "leave a comment": the cold
        # share one line, and every other line says something of its own.
        cold = [r.person for r in readings if r.stage is Stage.COLD]
        readings = [r for r in readings if r.stage is not Stage.COLD]
    if readings or not cold:
        _status_table(readings, stages)
    if cold:
        shown = ", ".join(cold[:3]) + (f" and {len(cold) - 3} more" if len(cold) > 3 else "")
        echo(
            f"cold: {len(cold)} {'person' if len(cold) == 1 else 'people'} with no contact "
            f"yet ({shown}); `engage status --all` gives each a first step"
        )
    waiting = len(app.pending_review())
    if waiting:
        echo(
            f"{waiting} detection{'s' if waiting != 1 else ''} on a name alone "
            f"wait{'s' if waiting == 1 else ''} for your review (they do not count towards "
            "ready yet): engage review"
        )
    for line in orphans:
        echo(line)


def _status_table(readings: Sequence[Reading], stages: Sequence[str]) -> None:
    if not readings:
        echo("Nobody to show." if stages else "No people in the watchlist yet.")
        return
    if sys.stdout.isatty():
        made = table(("person", "stage", "score", "", "why / next"))
        for r in readings:
            made.add_row(
                cell(r.person),
                cell(stage_words(r.stage)),
                cell(f"{r.score:.1f}"),
                cell(_bar(r.score, fancy=True)),
                lines((r.reason, None), (f"\n→ {r.next_step}", "dim")),
            )
        print_table(made)
        return
    width = max(len(r.person) for r in readings)
    for r in readings:
        echo(
            f"{r.person:<{width}}  {stage_words(r.stage):<11}  {r.score:5.1f} "
            f"{_bar(r.score, fancy=False)}  {r.reason}"
        )
        echo(f"{'':<{width}}  → {r.next_step}")


@click.command("explain")
@click.argument("person")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_at_option
@config_option
@data_option
def explain(
    person: str, as_json: bool, at: str | None, config_path: Path | None, data_dir: Path | None
) -> None:
    """The full reading for PERSON: gates, points by kind, recent events, next step,
    and who could introduce you.

    JSON: the fields of `engage status --json` plus points_by_kind, history
    ([date, score] for 180 days), timeline, intro_paths [{via, strength,
    evidence [{text, url}]}] and linkedin.

    \b
    Example:
      engage explain "Will Cooke"
      engage explain will --json --at yesterday
    """
    from engage.views import explanation_json

    found = open_app(config_path, data_dir).explain(person, at)
    if as_json:
        echo_json(explanation_json(found))
        return
    reading, events, linked = found.reading, found.timeline, found.linkedin
    r = reading
    echo(
        f"{r.person} — {stage_words(r.stage)}, score {r.score:.1f} "
        f"(from them {r.score_in:.1f}, from you {r.score_out:.1f}, together {r.score_both:.1f})"
    )
    echo(f"Why:  {r.reason}")
    for more in r.reasons:
        echo(f"      {more}")
    echo(f"Next: {r.next_step}")
    if linked:
        echo("      (you are already connected on LinkedIn; the meter counts exchanges)")
    echo("Gates:")
    for gate in r.gates:
        echo(f"  {'pass' if gate.passed else 'FAIL'}  {gate.name:<15} {gate.detail}")
    if r.points_by_kind:
        echo("Points by kind:")
        for kind, points in r.points_by_kind.items():
            echo(f"  {kind:<22} {points:5.2f}")
    if events:
        echo("Recent events:")
        from engage.app import local_zone

        zone = local_zone()
        for e in events:
            where = f"  {e.url}" if e.url else ""
            note = f"  ({e.note})" if e.note else ""
            waits = "" if e.confirmed else "  [a name alone: engage review]"
            stamp = e.when.astimezone(zone).strftime("%Y-%m-%d")
            echo(f"  {stamp}  {e.kind.value:<22} {e.direction.value:<4}{where}{note}{waits}")
    _print_paths(found.paths, found.person.name, limit=3, longer=found.longer_paths)


def _print_paths(paths: Sequence[IntroPath], target: str, *, limit: int, longer: int = 0) -> None:
    """`longer`: how many two-hop paths exist when one hop found none."""
    if not paths and longer:
        echo(
            f"Nobody you know knows {target} directly; `engage intro {quote(target)} --hops 2` "
            f"finds {longer} longer path{'s' if longer != 1 else ''}."
        )
        return
    if not paths:
        echo(
            f"Nobody you know is known to know {target} yet (add `knows:` in feeds.yaml, "
            "or engage import-linkedin Connections.csv)."
        )
        return
    echo(f"Who could introduce you to {target}:")
    for path in paths[:limit]:
        echo(f"  {' → '.join(path.via)}  (strength {path.strength:.2f})")
        for ev in path.evidence:
            echo(f"      - {ev.text}" + (f" <{ev.url}>" if ev.url else ""))


def _print_unsupported(paths: Sequence[IntroPath], target: str) -> None:
    from engage.intro import missing_evidence

    echo(
        f"Nobody can introduce you to {target} yet: the links found have no evidence worth "
        "an ask behind them, so no note is drafted."
    )
    for path in paths[:10]:
        echo(f"  {' → '.join(path.via)}  (strength {path.strength:.2f})")
        echo(f"      missing: {missing_evidence(path)}")


@click.command("intro")
@click.argument("person")
@click.option(
    "--hops", type=click.IntRange(1, 2), default=1, show_default=True,
    help="Intermediaries allowed between you and PERSON.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the paths and the note as JSON.")
@_at_option
@config_option
@data_option
def intro(
    person: str,
    hops: int,
    as_json: bool,
    at: str | None,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Who could introduce you to PERSON, strongest first, with the evidence, and a
    drafted double opt-in note to the best connector. engage never sends it. A path
    weaker than settings.meter.intro_min_strength (0.3) gets no draft, only the reason.

    \b
    Example:
      engage intro "Will Cooke"
      engage intro will --hops 2
    """
    from engage.views import introduction_json

    found = open_app(config_path, data_dir).intro(person, hops, at)
    if as_json:
        echo_json(introduction_json(found))
        return
    who = found.person
    if found.contact:
        # I already know a contact: an introduction to them is the wrong tool.
        echo(
            f"{who.name} is one of your contacts: you already know them, so no introduction "
            f"is needed — write to them directly (see engage explain {quote(who.name)})."
        )
        return
    if not found.paths and found.unsupported:
        _print_unsupported(found.unsupported, who.name)
    else:
        _print_paths(found.paths, who.name, limit=10, longer=found.longer_paths)
    if found.withheld is not None:
        echo("")
        echo(found.withheld)
    if found.note is not None:
        echo("")
        echo(f"Draft for {found.paths[0].connector} (copy, edit, send it yourself):")
        echo("")
        echo(found.note.rstrip("\n"))


@click.command("ask")
@click.argument("person")
@click.option("--anyway", is_flag=True, help="Record the ask even though it is not ready.")
@click.option("--when", "when_text", default=None, help="When you asked (default: now).")
@click.option("--note", default="", help="A few words to remember it by.")
@config_option
@data_option
def ask(
    person: str,
    anyway: bool,
    when_text: str | None,
    note: str,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Record that you asked PERSON to connect. Before "ready" it warns that it would
    be a cold invitation, says what is missing and who could introduce you instead,
    and records nothing (exit code 1) unless you pass --anyway.

    \b
    Example:
      engage ask "Will Cooke"
      engage ask will --anyway --note "asked after the meetup"
    """
    done = open_app(config_path, data_dir).ask(person, when=when_text, note=note, anyway=anyway)
    who, reading, warning = done.person, done.reading, done.warning
    if done.refused:
        assert warning is not None
        echo(warning, err=True)
        for more in reading.reasons:
            echo(f"  {more}", err=True)
        echo(f"Next step instead: {reading.next_step}", err=True)
        if done.paths:
            names = ", ".join(f"{p.connector} ({p.strength:.2f})" for p in done.paths[:3])
            echo(
                f"Who could introduce you instead: {names} — see engage intro {who.name!r}",
                err=True,
            )
        echo(f"Nothing recorded. To record it anyway: engage ask {who.name!r} --anyway",
                   err=True)  # fmt: skip
        sys.exit(1)  # refused, not a user mistake in the command line: 1, not 2
    if warning is not None:
        echo(f"Recording anyway. {warning}")
    assert done.logged is not None
    event, when = done.logged.event, done.logged.when
    if event is None:
        echo(f"already recorded: your ask to {who.name} at {when:%Y-%m-%d %H:%M}")
        return
    days = done.follow_up_days
    echo(
        f"Recorded your ask to {who.name} (id {event.id}). One follow-up is fine after "
        f"{days} days; log the answer with: engage outcome {who.name!r} "
        "accepted|declined|no-answer"
    )


@click.command("import-linkedin")
@click.argument("csv_path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--strength", type=click.FloatRange(0, 1), default=0.3, show_default=True,
    callback=lambda _ctx, _param, value: _a_number(value),
    help="The tie strength (0..1) to give each connection.",
)  # fmt: skip
@config_option
@data_option
def import_linkedin(
    csv_path: Path, strength: float, config_path: Path | None, data_dir: Path | None
) -> None:
    """Add your own LinkedIn export (Connections.csv, from LinkedIn's "Get a copy of
    your data") as contacts who could introduce you. Re-importing updates them without
    duplicates. Nothing is fetched from LinkedIn.

    \b
    Example:
      engage import-linkedin ~/Downloads/Connections.csv
      engage import-linkedin Connections.csv --strength 0.2
    """
    app = open_app(config_path, data_dir)
    app.watchlist  # a clear error first when there is no watchlist  # noqa: B018
    try:
        text = csv_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EngageError(f"{csv_path}: not UTF-8 text ({exc.reason})") from exc
    done = app.import_linkedin(text, label=str(csv_path), strength=strength)
    unchanged = done.connections - done.added - done.updated
    echo(
        f"Imported {done.connections} LinkedIn connections from {csv_path.name}: "
        f"{done.added} new, {done.updated} updated, {unchanged} unchanged"
        + (f"; {done.skipped_rows} rows without a name skipped." if done.skipped_rows else ".")
    )
    for note in done.notes:
        echo(f"  {note}")


def _a_number(value: float) -> float:
    """FloatRange lets NaN through (every comparison with it is false)."""
    if value != value:  # NaN
        raise click.BadParameter("must be a number between 0 and 1, not nan")
    return value
