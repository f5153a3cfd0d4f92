"""Log by hand what no feed shows (a meeting, a call, an e-mail, an ask's answer), list
events, and undo one. Only click and our own light modules are imported at the top, so
`engage log` starts fast; the store (TinyDB) is imported when the application opens it."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from engage.app import OUTCOMES, Logged, local_zone
from engage.cli.output import cell, console, echo, echo_json, print_table, table
from engage.launch import config_option, data_option, open_app
from engage.models import Event
from engage.views import EVENT_FIELDS, event_json

JSON_FIELDS = ", ".join(EVENT_FIELDS)


def _say_logged(logged: Logged) -> None:
    event, person, kind, when = logged.event, logged.person, logged.kind, logged.when
    url, note = logged.url, logged.note
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
@config_option
@data_option
def log(
    person: str,
    kind: str,
    when_text: str | None,
    url: str | None,
    note: str,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Log an interaction no feed shows: a meeting, a call, an e-mail or DM, a favour.

    KIND is one of the event kinds (met_in_person, call, their_email_or_dm,
    my_email_or_dm, my_favour, their_like, their_share, their_follow,
    intro_requested, intro_accepted, intro_declined, ask_accepted, ...)
    or a friendly alias: met, call, email-in, email-out, dm-in, dm-out,
    favour/favor, comment, share, like, follow, reply, mention, intro-requested.
    WHEN is an ISO 8601 date or date-time, 'now', 'today', 'yesterday',
    'N days ago', 'N hours ago' or 'last monday' (a day means its 00:00). Logging
    the same thing twice (same person, kind, minute, URL and note) keeps one event;
    a different note, or a time of day, logs another one. Asks are recorded with
    `engage ask PERSON`, which checks first that it is not a cold invitation.

    \b
    Example:
      engage log "Will Cooke" call --when yesterday --note "talked about SIP phones"
      engage log will email-in --when 2024-05-02T09:30 --url https://mail.example/123
    """
    app = open_app(config_path, data_dir)
    _say_logged(app.log(person, kind, when=when_text, url=url, note=note))


@click.command("met")
@click.argument("person")
@click.option("--event", "event_name", default=None, help="Where you met (e.g. 'PyCon 2024').")
@click.option("--when", "when_text", default=None, help="When (default: now).")
@click.option("--url", default=None, help="A link about the meeting.")
@click.option("--note", default="", help="A few words to remember it by.")
@config_option
@data_option
def met(
    person: str,
    event_name: str | None,
    when_text: str | None,
    url: str | None,
    note: str,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Log meeting PERSON in person (the strongest sign of a real tie).

    \b
    Example:
      engage met "Will Cooke" --event "PyCon UK" --when yesterday
      engage met will --note "coffee after the meetup"
    """
    app = open_app(config_path, data_dir)
    _say_logged(app.met(person, event_name=event_name, when=when_text, url=url, note=note))


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
    (auto/manual), evidence, note and created.

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
    _say_logged(app.outcome(person, answer, when=when_text, note=note))
