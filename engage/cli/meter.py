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
  score, no_pending_ask), `last_contact` (ISO 8601 with offset, or null).
- `engage explain PERSON --json`: one such object plus `points_by_kind` ({kind: points}),
  `history` (a list of [ISO date, score], the last 180 days), `timeline` (the last events:
  id, kind, direction, when, url, note), `intro_paths` (see below) and `linkedin` (true when
  the person is one of your LinkedIn connections).
- `engage intro PERSON --json`: `person`, `paths` (below), `note` (the draft, or null),
  `contact` (true when PERSON is a contact you already know: no paths, no note) and
  `longer_paths` (with one hop and no path found: how many two-hop paths exist).
- Intro paths: objects with `via` (the intermediaries, the connector first), `strength`
  (0..1, the product of the ties) and `evidence` (a list of {text, url}).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engage.cli.common import config_option, data_option, load_watchlist, open_store
from engage.cli.interactions import local_zone, read_when, record, resolve_person
from engage.errors import EngageError
from engage.meter import needs_ask_warning, read_meter, status_order
from engage.models import Event, EventKind, Person, Reading, Role, Stage

if TYPE_CHECKING:
    from engage.intro import IntroPath
    from engage.store import Snapshot

STAGES = [stage.value for stage in Stage]
TIMELINE_EVENTS = 12
BAR_WIDTH = 12
BAR_FULL = 18.0  # points that fill the bar: the ready line (12) sits at two thirds


class _World:
    """One read of the store, grouped once: what every command here needs."""

    def __init__(
        self,
        config_path: Path | None,
        data_dir: Path | None,
        at: str | None,
        *,
        future_ok: bool = True,
    ) -> None:
        """`at` moves the clock: any moment for --at (a what-if, past or future); only
        the past for `ask --when` (future_ok=False), which records what happened."""
        self.watchlist = load_watchlist(config_path)
        self.store = open_store(data_dir, self.watchlist)
        self.snapshot: Snapshot = self.store.load_precious_only()
        real_now = datetime.now(tz=local_zone())
        self.now = read_when(at, real_now, past=not future_ok) if at else real_now
        self.rules = self.watchlist.settings.meter
        # The snapshot lives until the command ends: moving it out of the collector's
        # sight keeps its full passes, which 200 readings' allocations trigger, from
        # walking 50,000 events each time (bench_status: 0.05–0.1 s).
        gc.freeze()
        self._readings: dict[str, Reading] | None = None
        self.by_person: dict[str, list[Event]] = {}
        for event in self.snapshot.events:
            self.by_person.setdefault(event.person.casefold(), []).append(event)

    def reading(self, name: str, *, history: bool = False) -> Reading:
        events = self.by_person.get(name.casefold(), [])
        return read_meter(name, events, self.now, self.rules, history_days=180 if history else 0)

    def readings(self) -> dict[str, Reading]:
        """Everyone's reading, computed once per command (intro paths ask more than once)."""
        if self._readings is None:
            everyone = (*self.watchlist.people, *self.watchlist.contacts)
            self._readings = {p.name: self.reading(p.name) for p in everyone}
        return self._readings

    def paths(self, target: str, hops: int = 1) -> list[IntroPath]:
        from engage.intro import intro_paths

        return intro_paths(
            target,
            self.watchlist,
            self.snapshot.intro_evidence,
            self.readings(),
            self.snapshot.linkedin_contacts,
            self.now,
            self.rules,
            hops=hops,
        )

    def on_linkedin(self, person: Person) -> bool:
        from engage.linkedin import match_people

        matches = match_people(self.snapshot.linkedin_contacts, self.watchlist)
        return any(m.person is not None and m.person.name == person.name for m in matches)


def reading_json(reading: Reading, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person": reading.person,
        "stage": reading.stage.value,
        "score": round(reading.score, 2),
        "score_in": round(reading.score_in, 2),
        "score_out": round(reading.score_out, 2),
        "score_both": round(reading.score_both, 2),
        "reason": reading.reason,
        "reasons": list(reading.reasons),
        "next_step": reading.next_step,
        "action": reading.action,
        "gates": [{"name": g.name, "passed": g.passed, "detail": g.detail} for g in reading.gates],
        "last_contact": reading.last_contact.isoformat() if reading.last_contact else None,
    }
    if full:
        data["points_by_kind"] = dict(reading.points_by_kind)
        data["history"] = [[day, score] for day, score in reading.history]
    return data


def path_json(path: IntroPath) -> dict[str, Any]:
    return {
        "via": list(path.via),
        "strength": path.strength,
        "evidence": [{"text": e.text, "url": e.url} for e in path.evidence],
    }


def _bar(score: float, *, fancy: bool) -> str:
    filled = min(BAR_WIDTH, round(score / BAR_FULL * BAR_WIDTH))
    return (
        ("█" * filled + "·" * (BAR_WIDTH - filled))
        if fancy
        else ("#" * filled + "-" * (BAR_WIDTH - filled))
    )


def _stage_word(stage: Stage) -> str:
    return stage.value.replace("_", " ")


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
@_at_option
@config_option
@data_option
def status(
    stages: Sequence[str],
    as_json: bool,
    at: str | None,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Everyone you follow, what needs action first: stage, score and why.

    JSON: a list of objects with person, stage (cold, noticed, in_dialogue, ready,
    asked, connected, went_cold), score, score_in, score_out, score_both, reason,
    reasons, next_step, action, gates [{name, passed, detail}] and last_contact.

    \b
    Example:
      engage status
      engage status --stage ready --stage in_dialogue
      engage status --json --at 2024-06-01T09:00
    """
    world = _World(config_path, data_dir, at)
    readings = status_order(world.reading(p.name) for p in world.watchlist.people)
    if stages:
        readings = [r for r in readings if r.stage.value in stages]
    if as_json:
        click.echo(json.dumps([reading_json(r) for r in readings], ensure_ascii=False, indent=2))
        return
    if not readings:
        click.echo("Nobody to show." if stages else "No people in the watchlist yet.")
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for column in ("person", "stage", "score", "", "why / next"):
            table.add_column(column)
        for r in readings:
            table.add_row(
                escape(r.person),
                _stage_word(r.stage),
                f"{r.score:.1f}",
                _bar(r.score, fancy=True),
                # Notes and URLs are the user's text: never rich markup.
                f"{escape(r.reason)}\n[dim]→ {escape(r.next_step)}[/dim]",
            )
        Console().print(table)
        return
    width = max(len(r.person) for r in readings)
    for r in readings:
        click.echo(
            f"{r.person:<{width}}  {_stage_word(r.stage):<11}  {r.score:5.1f} "
            f"{_bar(r.score, fancy=False)}  {r.reason}"
        )
        click.echo(f"{'':<{width}}  → {r.next_step}")


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
    world = _World(config_path, data_dir, at)
    who = resolve_person(world.watchlist, person)
    reading = world.reading(who.name, history=True)
    events = sorted(
        (e for e in world.by_person.get(who.name.casefold(), []) if e.when <= world.now),
        key=lambda e: e.when,
        reverse=True,
    )[:TIMELINE_EVENTS]
    paths = world.paths(who.name)
    longer = 0 if paths else len(world.paths(who.name, 2))
    linked = world.on_linkedin(who)
    if as_json:
        data = reading_json(reading, full=True)
        data["timeline"] = [
            {
                "id": e.id,
                "kind": e.kind.value,
                "direction": e.direction.value,
                "when": e.when.isoformat(),
                "url": e.url,
                "note": e.note,
            }
            for e in events
        ]
        data["intro_paths"] = [path_json(p) for p in paths]
        data["linkedin"] = linked
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    r = reading
    click.echo(
        f"{r.person} — {_stage_word(r.stage)}, score {r.score:.1f} "
        f"(from them {r.score_in:.1f}, from you {r.score_out:.1f}, together {r.score_both:.1f})"
    )
    click.echo(f"Why:  {r.reason}")
    for more in r.reasons:
        click.echo(f"      {more}")
    click.echo(f"Next: {r.next_step}")
    if linked:
        click.echo("      (you are already connected on LinkedIn; the meter counts exchanges)")
    click.echo("Gates:")
    for gate in r.gates:
        click.echo(f"  {'pass' if gate.passed else 'FAIL'}  {gate.name:<15} {gate.detail}")
    if r.points_by_kind:
        click.echo("Points by kind:")
        for kind, points in r.points_by_kind.items():
            click.echo(f"  {kind:<22} {points:5.2f}")
    if events:
        click.echo("Recent events:")
        zone = local_zone()
        for e in events:
            where = f"  {e.url}" if e.url else ""
            note = f"  ({e.note})" if e.note else ""
            stamp = e.when.astimezone(zone).strftime("%Y-%m-%d")
            click.echo(f"  {stamp}  {e.kind.value:<22} {e.direction.value:<4}{where}{note}")
    _print_paths(paths, who.name, limit=3, longer=longer)


def _print_paths(
    paths: Sequence[IntroPath], target: str, *, limit: int, longer: int = 0
) -> None:
    """`longer`: how many two-hop paths exist when one hop found none."""
    if not paths and longer:
        click.echo(
            f"Nobody you know knows {target} directly; `engage intro {_quote(target)} --hops 2` "
            f"finds {longer} longer path{'s' if longer != 1 else ''}."
        )
        return
    if not paths:
        click.echo(
            f"Nobody you know is known to know {target} yet (add `knows:` in feeds.yaml, "
            "or engage import-linkedin Connections.csv)."
        )
        return
    click.echo(f"Who could introduce you to {target}:")
    for path in paths[:limit]:
        click.echo(f"  {' → '.join(path.via)}  (strength {path.strength:.2f})")
        for ev in path.evidence:
            click.echo(f"      - {ev.text}" + (f" <{ev.url}>" if ev.url else ""))


def _quote(name: str) -> str:
    import shlex

    return shlex.quote(name)


def _render_note(path: IntroPath, world: _World, target_reading: Reading) -> str:
    import jinja2

    from engage.intro import draft_context

    folders = []
    if world.watchlist.path:
        folders.append(Path(world.watchlist.path).parent / "templates")  # the user's override
    folders.append(Path(__file__).resolve().parents[2] / "templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # a plain-text e-mail draft, never HTML
    )
    events = [e for e in world.by_person.get(path.target.casefold(), []) if e.when <= world.now]
    context = draft_context(path, world.watchlist, target_reading, events)
    return env.get_template("intro_request.txt.j2").render(**context)


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
    drafted double opt-in note to the best connector. engage never sends it.

    \b
    Example:
      engage intro "Will Cooke"
      engage intro will --hops 2
    """
    world = _World(config_path, data_dir, at)
    who = resolve_person(world.watchlist, person)
    if who.role is Role.CONTACT:
        # I already know a contact: an introduction to them is the wrong tool.
        if as_json:
            data: dict[str, Any] = {
                "person": who.name, "paths": [], "note": None, "contact": True, "longer_paths": 0,
            }  # fmt: skip
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        click.echo(
            f"{who.name} is one of your contacts: you already know them, so no introduction "
            f"is needed — write to them directly (see engage explain {_quote(who.name)})."
        )
        return
    paths = world.paths(who.name, hops)
    longer = len(world.paths(who.name, 2)) if not paths and hops == 1 else 0
    note = _render_note(paths[0], world, world.reading(who.name)) if paths else None
    if as_json:
        data = {
            "person": who.name,
            "paths": [path_json(p) for p in paths],
            "note": note,
            "contact": False,
            "longer_paths": longer,
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    _print_paths(paths, who.name, limit=10, longer=longer)
    if note is not None:
        click.echo("")
        click.echo(f"Draft for {paths[0].connector} (copy, edit, send it yourself):")
        click.echo("")
        click.echo(note.rstrip("\n"))


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
    world = _World(config_path, data_dir, when_text, future_ok=False)
    who = resolve_person(world.watchlist, person)
    reading = world.reading(who.name)
    warning = needs_ask_warning(reading)
    if warning is not None and not anyway:
        click.echo(warning, err=True)
        for more in reading.reasons:
            click.echo(f"  {more}", err=True)
        click.echo(f"Next step instead: {reading.next_step}", err=True)
        paths = world.paths(who.name)
        if paths:
            names = ", ".join(f"{p.connector} ({p.strength:.2f})" for p in paths[:3])
            click.echo(
                f"Who could introduce you instead: {names} — see engage intro {who.name!r}",
                err=True,
            )
        click.echo(f"Nothing recorded. To record it anyway: engage ask {who.name!r} --anyway",
                   err=True)  # fmt: skip
        sys.exit(1)  # refused, not a user mistake in the command line: 1, not 2
    if warning is not None:
        click.echo(f"Recording anyway. {warning}")
    real_now = datetime.now(tz=local_zone())
    event = record(world.store, who, EventKind.MY_ASK, world.now, url=None, note=note, now=real_now)
    if event is None:
        click.echo(f"already recorded: your ask to {who.name} at {world.now:%Y-%m-%d %H:%M}")
        return
    days = world.rules.ask_follow_up_days
    click.echo(
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
    from engage.linkedin import match_people, parse_connections

    watchlist = load_watchlist(config_path)
    try:
        text = csv_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EngageError(f"{csv_path}: not UTF-8 text ({exc.reason})") from exc
    found = parse_connections(text, strength=strength, label=str(csv_path))
    matches = match_people(found.people, watchlist)
    # A connection who is a contact in feeds.yaml is stored under that contact's name, so
    # the introductions graph sees one node.
    people = [
        _renamed(m.connection, m.person.name) if m.person is not None else m.connection
        for m in matches
    ]
    store = open_store(data_dir, watchlist)
    with store.transaction() as tx:
        added, updated = tx.put_linkedin_contacts(people)
    unchanged = len(people) - added - updated
    click.echo(
        f"Imported {len(people)} LinkedIn connections from {csv_path.name}: {added} new, "
        f"{updated} updated, {unchanged} unchanged"
        + (f"; {found.skipped} rows without a name skipped." if found.skipped else ".")
    )
    for match in matches:
        if match.note:
            click.echo(f"  {match.note}")


def _a_number(value: float) -> float:
    """FloatRange lets NaN through (every comparison with it is false)."""
    if value != value:  # NaN
        raise click.BadParameter("must be a number between 0 and 1, not nan")
    return value


def _renamed(person: Person, name: str) -> Person:
    from dataclasses import replace

    return replace(person, name=name)
