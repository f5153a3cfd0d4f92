"""Log by hand what no feed shows (a meeting, a call, an e-mail, an ask's answer), list
events, and undo one. Only click and our own light modules are imported at the top, so
`engage log` starts fast; the store (TinyDB) is imported when a command opens it."""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engage.cli.common import config_option, data_option, load_watchlist, open_store
from engage.errors import EngageError
from engage.models import DIRECTION, Event, EventKind, EventSource, Person, Watchlist
from engage.when import parse_when

if TYPE_CHECKING:
    from engage.store import Store

# Friendly names for the kinds; the EventKind values themselves (and with dashes) always work.
KIND_ALIASES: dict[str, EventKind] = {
    "met": EventKind.MET_IN_PERSON,
    "meeting": EventKind.MET_IN_PERSON,
    "met-in-person": EventKind.MET_IN_PERSON,
    "call": EventKind.CALL,
    "email-in": EventKind.THEIR_EMAIL_OR_DM,
    "dm-in": EventKind.THEIR_EMAIL_OR_DM,
    "email-out": EventKind.MY_EMAIL_OR_DM,
    "dm-out": EventKind.MY_EMAIL_OR_DM,
    "favour": EventKind.MY_FAVOUR,
    "favor": EventKind.MY_FAVOUR,
    "my-favor": EventKind.MY_FAVOUR,
    "help": EventKind.MY_FAVOUR,
    "comment": EventKind.MY_COMMENT,
    "share": EventKind.MY_SHARE,
    "their-comment": EventKind.THEIR_COMMENT_ON_MINE,
    "reply": EventKind.THEIR_REPLY,
    "mention": EventKind.THEIR_MENTION,
    "like": EventKind.THEIR_LIKE,
    "follow": EventKind.THEIR_FOLLOW,
    "shared": EventKind.THEIR_SHARE,
    "intro-requested": EventKind.INTRO_REQUESTED,
    "intro-accepted": EventKind.INTRO_ACCEPTED,
    "intro-declined": EventKind.INTRO_DECLINED,
    "ask": EventKind.MY_ASK,
    "accepted": EventKind.ASK_ACCEPTED,
    "declined": EventKind.ASK_DECLINED,
    "no-answer": EventKind.ASK_NO_ANSWER,
}

OUTCOMES: dict[str, EventKind] = {
    "accepted": EventKind.ASK_ACCEPTED,
    "declined": EventKind.ASK_DECLINED,
    "no-answer": EventKind.ASK_NO_ANSWER,
}

JSON_FIELDS = "id, person, kind, direction, when, url, source, evidence, note, created"


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def resolve_kind(text: str) -> EventKind:
    """An EventKind from its identifier (underscores or dashes) or a friendly alias."""
    key = text.strip().casefold()
    for candidate in (key.replace("-", "_"), key):
        try:
            return EventKind(candidate)
        except ValueError:
            pass
    alias = KIND_ALIASES.get(key.replace("_", "-"))
    if alias is not None:
        return alias
    kinds = ", ".join(kind.value for kind in EventKind)
    aliases = ", ".join(sorted(KIND_ALIASES))
    raise EngageError(
        f"unknown kind {text!r}",
        lines=[
            f"unknown kind {text!r}.",
            f"  kinds: {kinds}",
            f"  aliases: {aliases}",
        ],
    )


def resolve_person(watchlist: Watchlist, name: str) -> Person:
    """A person or contact by name or alias (case, accents and spacing ignored), or an
    error that suggests the closest names."""
    from engage.models import Role, fold_name

    found = watchlist.find(name)
    if found is not None and found.role != Role.ME:
        return found
    folded = fold_name(name)
    candidates = (*watchlist.people, *watchlist.contacts)
    known = {fold_name(p.name): p.name for p in candidates}
    for person in candidates:
        for alias in person.aliases:
            known.setdefault(fold_name(alias), person.name)
    close = difflib.get_close_matches(folded, list(known), n=3, cutoff=0.6)
    suggestion = list(dict.fromkeys(known[c] for c in close))  # best first, each person once
    if suggestion:
        hint = "did you mean " + " or ".join(repr(n) for n in suggestion) + "?"
    elif candidates:
        hint = "known: " + ", ".join(p.name for p in candidates)
    else:
        hint = "the watchlist has no people yet (engage add-person)"
    where = f" in {watchlist.path}" if watchlist.path else ""
    raise EngageError(f"no person or contact named {name!r}{where}; {hint}")


def read_when(text: str | None, now: datetime, *, past: bool = True) -> datetime:
    if text is None:
        return now
    try:
        when = parse_when(text, now, local_zone())
    except ValueError as exc:
        raise EngageError(str(exc)) from exc
    # A planned meeting is not an interaction yet; a future time is almost always a typo
    # (a wrong year or month) that would keep the meter "fresh" for months.
    if past and when > now + timedelta(minutes=5):
        raise EngageError(
            f"{text!r} is in the future ({when:%Y-%m-%d %H:%M}); log what already happened"
        )
    return when


def manual_id(
    person: str, kind: EventKind, when: datetime, url: str | None, note: str = ""
) -> str:
    """Stable for (person, kind, minute, url, note): logging the same thing twice gives one
    event, but two calls "yesterday" with different notes are two events ('yesterday'
    means 00:00, so the minute alone cannot tell them apart). For `met` the note holds the
    event's name. Without a note the key is what it always was, so old ids still match."""
    utc_minute = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    parts = [person, kind.value, utc_minute, url or ""]
    if note:
        parts.append(note)
    key = "|".join(parts)
    return "manual:" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def record(
    store: Store,
    person: Person,
    kind: EventKind,
    when: datetime,
    *,
    url: str | None,
    note: str,
    now: datetime,
) -> Event | None:
    """Store one manual event; None when the same event is already there."""
    base_id = manual_id(person.name, kind, when, url, note)
    event = Event(
        id=base_id,
        person=person.name,
        kind=kind,
        when=when,
        direction=DIRECTION[kind],
        source=EventSource.MANUAL,
        url=url,
        note=note,
        created=now,
    )
    with store.transaction() as tx:
        # The store refuses an id that was undone (so detection cannot resurrect it); a
        # thing logged by hand again after an undo is meant, so it gets the next free id.
        undone = tx.tombstones()
        copy = 1
        while event.id in undone:
            copy += 1
            event = replace(event, id=f"{base_id}-{copy}")
        added = tx.add_events([event])
    return added[0] if added else None


def _say_logged(
    event: Event | None,
    person: Person,
    kind: EventKind,
    when: datetime,
    *,
    url: str | None = None,
    note: str = "",
) -> None:
    stamp = when.strftime("%Y-%m-%d %H:%M")
    if event is not None:
        click.echo(f"logged {kind.value} with {person.name} at {stamp} (id {event.id})")
        return
    same = ["person", "kind", "time (to the minute)"]
    same.append(f"URL {url}" if url else "no URL")
    same.append(f"note {note!r}" if note else "no note")
    click.echo(f"already logged: {kind.value} with {person.name} at {stamp}")
    click.echo(f"  (an event with the same {', '.join(same)} is already there; nothing added)")
    click.echo(
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
    watchlist = load_watchlist(config_path)
    who = resolve_person(watchlist, person)
    event_kind = resolve_kind(kind)
    if event_kind is EventKind.MY_ASK:
        # `engage ask` checks first whether asking would be a cold invitation (DESIGN §4);
        # logging it here would slip past that guard.
        raise EngageError(
            f"`engage log` does not record asks ({kind!r}); use `engage ask {who.name!r}`: it "
            "says first whether the ask would be a cold invitation, and records it (add "
            "--anyway to record it regardless; --when and --note work there too)"
        )
    now = datetime.now(tz=local_zone())
    when = read_when(when_text, now)
    store = open_store(data_dir, watchlist)
    event = record(store, who, event_kind, when, url=url, note=note, now=now)
    _say_logged(event, who, event_kind, when, url=url, note=note)


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
    watchlist = load_watchlist(config_path)
    who = resolve_person(watchlist, person)
    now = datetime.now(tz=local_zone())
    when = read_when(when_text, now)
    parts = [f"at {event_name}"] if event_name else []
    if note:
        parts.append(note)
    store = open_store(data_dir, watchlist)
    text = "; ".join(parts)
    event = record(store, who, EventKind.MET_IN_PERSON, when, url=url, note=text, now=now)
    _say_logged(event, who, EventKind.MET_IN_PERSON, when, url=url, note=text)


def event_json(event: Event) -> dict[str, Any]:
    """The documented shape of one event in `engage events --json`."""
    return {
        "id": event.id,
        "person": event.person,
        "kind": event.kind.value,
        "direction": event.direction.value,
        "when": event.when.isoformat(),
        "url": event.url,
        "source": event.source.value,
        "evidence": event.evidence,
        "note": event.note,
        "created": event.created.isoformat() if event.created else None,
    }


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
    watchlist = load_watchlist(config_path)
    who = resolve_person(watchlist, person).name if person else None
    kind = resolve_kind(kind_text) if kind_text else None
    now = datetime.now(tz=local_zone())
    since = read_when(since_text, now, past=False) if since_text else None
    store = open_store(data_dir, watchlist)
    chosen = [
        event
        for event in store.events(person=who)
        if (kind is None or event.kind == kind) and (since is None or event.when >= since)
    ]
    chosen.sort(key=lambda e: (e.when, e.id))
    if as_json:
        click.echo(json.dumps([event_json(e) for e in chosen], indent=2, ensure_ascii=False))
        return
    if not chosen:
        click.echo("no events")
        return
    if sys.stdout.isatty():
        _rich_table(chosen)
    else:
        for event in chosen:
            click.echo("\t".join(_row(event)))


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


def _rich_table(chosen: Sequence[Event]) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = [_row(event) for event in chosen]
    table = Table()
    # The id is what `engage undo` takes, the kind is the scripting name: never cut them.
    for index, name in enumerate(("id", "when", "person", "kind", "dir", "source", "detail")):
        if name in ("id", "when", "kind"):
            table.add_column(name, no_wrap=True, min_width=max(len(r[index]) for r in rows))
        else:
            table.add_column(name)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


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
    watchlist = load_watchlist(config_path)
    store = open_store(data_dir, watchlist)
    wanted = event_id.strip()
    # Find and remove under one lock: another process may be changing events meanwhile.
    with store.transaction() as tx:
        events = tx.events()
        matches = [e for e in events if e.id == wanted] or [
            e for e in events if e.id.startswith(wanted)
        ]
        if not matches:
            raise EngageError(f"no event with id {wanted!r} (see `engage events`)")
        if len(matches) > 1:
            shown = ", ".join(e.id for e in matches[:5])
            raise EngageError(
                f"{wanted!r} matches {len(matches)} events ({shown}); give more of the id"
            )
        removed = tx.remove_event(matches[0].id)
    if removed is None:
        raise EngageError(f"event {matches[0].id} was removed meanwhile")
    stamp = removed.when.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    click.echo(f"removed {removed.kind.value} with {removed.person} at {stamp} ({removed.id})")


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
    watchlist = load_watchlist(config_path)
    who = resolve_person(watchlist, person)
    now = datetime.now(tz=local_zone())
    when = read_when(when_text, now)
    store = open_store(data_dir, watchlist)
    asks = [e for e in store.events(person=who.name) if e.kind == EventKind.MY_ASK]
    if not asks:
        raise EngageError(
            f"no ask recorded for {who.name}; record it first with `engage ask {who.name!r}`"
        )
    last_ask = max(asks, key=lambda e: e.when)
    if when < last_ask.when:
        stamp = last_ask.when.strftime("%Y-%m-%d %H:%M")
        raise EngageError(f"the answer cannot come before the ask ({stamp})")
    kind = OUTCOMES[answer]
    event = record(store, who, kind, when, url=None, note=note, now=now)
    _say_logged(event, who, kind, when, note=note)
