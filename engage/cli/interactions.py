"""Log by hand what no feed shows (a meeting, a call, an e-mail, an ask's answer), list
events, and undo one. Only click and our own light modules are imported at the top, so
`engage log` starts fast; the store (TinyDB) is imported when the application opens it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from engage.app import OUTCOMES, REVIEW_DECISIONS, Logged, Reviewed, local_zone
from engage.cli.output import cell, choose, console, echo, echo_json, print_table, table
from engage.launch import config_option, data_option, open_app
from engage.models import Event
from engage.views import EVENT_FIELDS, event_json

JSON_FIELDS = ", ".join(EVENT_FIELDS)


def _say_logged(logged: Logged, config: Path) -> None:
    event, person, kind, when = logged.event, logged.person, logged.kind, logged.when
    url, note = logged.url, logged.note
    if logged.created:
        echo(f"added {person.name} to people in {config}")
    if logged.introducer is not None:
        _say_logged(logged.introducer, config)
    stamp = when.strftime("%Y-%m-%d %H:%M")
    if event is not None:
        echo(f"logged {kind.value} with {person.name} at {stamp} (id {event.id})")
        return
    if logged.detected is not None:
        found = logged.detected
        echo(
            f"already found by `engage poll`: {found.kind.value} with {person.name} at "
            f"{found.when.astimezone(local_zone()):%Y-%m-%d %H:%M} (id {found.id}), same link; "
            "nothing added"
        )
        return
    same = ["person", "kind", "time (to the minute)"]
    same.append(f"URL {url}" if url else "no URL")
    same.append(f"note {note!r}" if note else "no note")
    echo(f"already logged: {kind.value} with {person.name} at {stamp}")
    echo(f"  (an event with the same {', '.join(same)} is already there; nothing added)")
    echo(
        f"  To log another one, give its time of day (--when {when:%Y-%m-%d}THH:MM) "
        "or a different --note."
    )


@click.command("log")
@click.argument("person")
@click.argument("kind")
@click.option("--when", "when_text", default=None, help="When it happened (default: now).")
@click.option("--url", default=None, help="Where it happened (a link to the message, post, ...).")
@click.option("--note", default="", help="A few words to remember it by.")
@click.option("--create", is_flag=True, help="Add PERSON to people: in feeds.yaml if not there.")
@click.option("--via", default=None, metavar="NAME", help="Who made the introduction.")
@config_option
@data_option
def log(
    person: str,
    kind: str,
    when_text: str | None,
    url: str | None,
    note: str,
    create: bool,
    via: str | None,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Log an interaction no feed shows: a meeting, a call, an e-mail or DM, a favour.

    PERSON is a name or alias, or a URL on their site (the person is found from their
    sites: and feeds:, and the URL is the event's). With --create, someone not in the
    watchlist yet is added to people: first. For an introduction, --via NAME says who
    made it; an accepted one is also recorded on NAME as their_intro (the favour counts
    on their meter, and thanking them is the next step).

    KIND is one of the event kinds (met_in_person, call, their_email_or_dm,
    my_email_or_dm, my_favour, their_like, their_share, their_follow,
    intro_requested, intro_accepted, intro_declined, ask_accepted, ...)
    or a friendly alias: met, call, email-in, email-out, dm-in, dm-out,
    favour/favor, their-comment, intro-requested, intro-accepted. Words that
    do not say whose act it was (share, comment, like, reply, mention, follow,
    email, dm) are refused with the choices: my_share or their_share.
    WHEN is an ISO 8601 date or date-time, 'now', 'today', 'yesterday',
    'N days ago', 'N hours ago' or 'last monday' (a day means its 00:00). Logging
    the same thing twice (same person, kind, minute, URL and note) keeps one event;
    a different note, or a time of day, logs another one. Asks are recorded with
    `engage ask PERSON`, which checks first that it is not a cold invitation.

    \b
    Example:
      engage log "Will Cooke" call --when yesterday --note "talked about SIP phones"
      engage log will email-in --when 2024-05-02T09:30 --url https://mail.example/123
      engage log https://whizzy.example/2024/05/sip/ their_share
      engage log "Ana Beltrán" dm-out --create
      engage log "Sergio Vela" intro-accepted --via "Ana Beltrán"
    """
    app = open_app(config_path, data_dir)
    logged = app.log(person, kind, when=when_text, url=url, note=note, create=create, via=via)
    _say_logged(logged, app.config_path)


@click.command("met")
@click.argument("person")
@click.option("--event", "event_name", default=None, help="Where you met (e.g. 'PyCon 2024').")
@click.option("--when", "when_text", default=None, help="When (default: now).")
@click.option("--url", default=None, help="A link about the meeting.")
@click.option("--note", default="", help="A few words to remember it by.")
@click.option("--create", is_flag=True, help="Add PERSON to people: in feeds.yaml if not there.")
@config_option
@data_option
def met(
    person: str,
    event_name: str | None,
    when_text: str | None,
    url: str | None,
    note: str,
    create: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Log meeting PERSON in person (the strongest sign of a real tie). With --create,
    someone not in the watchlist yet is added to people: first.

    \b
    Example:
      engage met "Will Cooke" --event "PyCon UK" --when yesterday
      engage met will --note "coffee after the meetup"
      engage met "Sergio Vela" --event "PyCon UK" --create
    """
    app = open_app(config_path, data_dir)
    logged = app.met(
        person, event_name=event_name, when=when_text, url=url, note=note, create=create
    )
    _say_logged(logged, app.config_path)


@click.command("events")
@click.argument("person", required=False)
@click.option("--kind", "kind_text", default=None, help="Only this kind (identifier or alias).")
@click.option("--since", "since_text", default=None, help="Only events at or after this time.")
@click.option("--json", "as_json", is_flag=True, help=f"Print a JSON list ({JSON_FIELDS}).")
@config_option
@data_option
def events(
    person: str | None,
    kind_text: str | None,
    since_text: str | None,
    as_json: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """List interaction events, oldest first, with the ids `engage undo` takes.

    With --json, prints a list of objects with the fields id, person, kind,
    direction (in/out/both), when (ISO 8601 with offset), url, source
    (auto/manual), evidence, note, created and confirmed (true or false for
    detections, null for what you logged).

    \b
    Example:
      engage events "Will Cooke" --since "30 days ago"
      engage events --kind their_reply --json
    """
    chosen = open_app(config_path, data_dir).events(person, kind=kind_text, since=since_text)
    if as_json:
        echo_json([event_json(e) for e in chosen])
        return
    if not chosen:
        echo("no events")
        return
    if sys.stdout.isatty():
        _rich_table(chosen)
    else:
        for event in chosen:
            echo("\t".join(_row(event)))


def _row(event: Event) -> list[str]:
    when = event.when.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    detail = event.note or event.evidence
    if event.url:
        detail = f"{detail} <{event.url}>" if detail else event.url
    return [
        event.id,
        when,
        event.person,
        event.kind.value,
        event.direction.value,
        event.source.value,
        detail,
    ]


# The id, the time and the kind alone take 55 columns: under this width a table leaves
# nothing for the person and the detail, so each event is two lines instead.
WIDE_EVENTS = 120


def _rich_table(chosen: Sequence[Event]) -> None:
    rows = [_row(event) for event in chosen]
    screen = console()
    if screen.width < WIDE_EVENTS:
        for event_id, when, person, kind, direction, source, detail in rows:
            echo(f"{event_id}  {when}  {kind} ({direction}, {source})")
            echo(f"    {person}" + (f": {detail}" if detail else ""))
        return
    made = table((), plain=False)
    # The id is what `engage undo` takes, the kind is the scripting name: never cut them.
    for index, name in enumerate(("id", "when", "person", "kind", "dir", "source", "detail")):
        if name in ("id", "when", "kind"):
            made.add_column(name, no_wrap=True, min_width=max(len(r[index]) for r in rows))
        else:
            made.add_column(name)
    for row in rows:
        made.add_row(*(cell(text) for text in row))
    print_table(made, on=screen)


@click.command("undo")
@click.argument("event_id")
@config_option
@data_option
def undo(event_id: str, config_path: Path | None, data_dir: Path | None) -> None:
    """Remove one event by its id (or a unique start of it), as shown by `engage events`.

    A removed auto event is remembered, so detection does not bring it back.

    \b
    Example:
      engage undo manual:3f2a9c
      engage undo auto:91b0
    """
    removed = open_app(config_path, data_dir).undo(event_id)
    stamp = removed.when.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    echo(f"removed {removed.kind.value} with {removed.person} at {stamp} ({removed.id})")


@click.command("outcome")
@click.argument("person")
@click.argument(
    "answer", type=click.Choice(sorted(OUTCOMES)), metavar="accepted|declined|no-answer"
)
@click.option("--when", "when_text", default=None, help="When the answer came (default: now).")
@click.option("--note", default="", help="A few words to remember it by.")
@config_option
@data_option
def outcome(
    person: str,
    answer: str,
    when_text: str | None,
    note: str,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Record the answer to my ask to connect with PERSON (recorded by `engage ask`).

    \b
    Example:
      engage outcome "Will Cooke" accepted
      engage outcome will no-answer --when "3 days ago"
    """
    app = open_app(config_path, data_dir)
    _say_logged(app.outcome(person, answer, when=when_text, note=note), app.config_path)


@click.command("review")
@click.argument("event_id", required=False)
@click.argument(
    "decision", required=False, type=click.Choice(REVIEW_DECISIONS), metavar="confirm|reject|trust"
)
@click.option("--person", default=None, help="Only this person's detections.")
@click.option("--interactive", "-i", is_flag=True, help="Ask about each detection in turn.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON (as `events`).")
@config_option
@data_option
def review(
    event_id: str | None,
    decision: str | None,
    person: str | None,
    interactive: bool,
    as_json: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Detections that rest on a name alone, and your decision about each.

    A comment signed "Lucia" may be yours or a stranger's: until you decide, such a
    detection counts as contact (noticed, in dialogue) but never towards "ready".
    Decide with EVENT_ID (or a unique start of it) and one of:

    \b
      confirm  it is right: it counts from now on
      reject   a stranger: removed, and it stays removed when polled again
      trust    always trust this name on this site: confirms every detection
               resting on it, now and in later polls

    \b
    Example:
      engage review
      engage review auto:3f2a confirm
      engage review auto:91b0 trust
      engage review --interactive
    """
    app = open_app(config_path, data_dir)
    if event_id is not None:
        if decision is None:
            raise click.UsageError("say what to do with it: confirm, reject or trust")
        _say_reviewed(app.review(event_id, decision))
        return
    pending = app.pending_review(person)
    if as_json:
        echo_json([event_json(e) for e in pending])
        return
    if not pending:
        echo("Nothing waits for review: every detection is confirmed.")
        return
    echo(
        f"{_count(len(pending), 'detection rests', 'detections rest')} on a name alone and "
        "wait for your review (they count as contact, not towards ready):"
    )
    done: set[str] = set()
    for event in pending:
        if event.id in done:
            continue  # confirmed meanwhile by trusting a name
        echo("")
        for line in _review_lines(event):
            echo(line)
        if interactive:
            answer = choose(
                "  [c]onfirm, [r]eject, [t]rust this name on this site, [s]kip, [q]uit",
                ["c", "r", "t", "s", "q"],
            )
            if answer == "q":
                return
            if answer != "s":
                chosen = {"c": "confirm", "r": "reject", "t": "trust"}[answer]
                reviewed = app.review(event.id, chosen)
                done.update(e.id for e in reviewed.confirmed)
                _say_reviewed(reviewed)
    if not interactive:
        echo("")
        echo("Decide with: engage review ID confirm|reject|trust (or engage review -i).")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _review_lines(event: Event) -> list[str]:
    when = event.when.astimezone(local_zone()).strftime("%Y-%m-%d")
    lines = [f"{event.id}  {when}  {event.person}  {event.kind.value}", f"    {event.evidence}"]
    if event.url:
        lines.append(f"    {event.url}")
    names = "; ".join(f"the name {name!r} on {site or 'an unknown site'}"
                      for site, name in event.name_matches)  # fmt: skip
    if names:
        lines.append(f"    rests on {names}")
    return lines


def _say_reviewed(reviewed: Reviewed) -> None:
    event = reviewed.event
    what = f"{event.kind.value} with {event.person} ({event.id})"
    if reviewed.rejected is not None:
        echo(f"rejected {what}: removed; it stays removed when polled again")
    elif reviewed.trusted:
        names = ", ".join(f"{name!r} on {site}" for site, name in reviewed.trusted)
        count = _count(len(reviewed.confirmed), "detection", "detections")
        echo(f"trusted {names}: confirmed {count}")
    elif reviewed.confirmed:
        echo(f"confirmed {what}")
    else:
        echo(f"{what} was already confirmed; nothing changed")
