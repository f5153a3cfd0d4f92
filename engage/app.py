"""The application: one door to everything engage does, for every surface.

`Engage(config, data)` opens a watchlist and a data folder; its methods are the operations
a user can ask for (poll, detect, status and explain at a moment, intro, log, undo, ask,
outcome, feeds, posts, events, export, forget, OPML in and out, LinkedIn import) and they
return typed values. The CLI, the digest, the daemon and the web report call these methods
and render what comes back; they never reach into the store, the watchlist editor or the
poller themselves, and never into one another. The JSON shapes they share are made in
`engage.views`.

What the user types (a person's name or alias, a WHEN such as "yesterday", a kind such as
"email-in") is read here, once, so every surface accepts the same words and gets the same
one-line EngageError for a mistake.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import shlex
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engage import places
from engage.errors import EngageError
from engage.identity import (
    Keys,
    Orphan,
    filed_as,
    find_identity,
    manual_id,
    resolve,
)
from engage.models import (
    DIRECTION,
    AccountStatus,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    FeedRef,
    FeedState,
    IntroEvidence,
    MeterRules,
    Person,
    Post,
    Reading,
    Role,
    Settings,
    SocialAccount,
    Stage,
    Watchlist,
    fold_name,
)
from engage.when import parse_when

if TYPE_CHECKING:
    import jinja2

    from engage.agenda import Agenda, FollowUp, ReadyToAsk
    from engage.digest.render import RenderedDigest
    from engage.intro import IntroPath
    from engage.models import CycleSummary, FeedOutcome, ProgressHook, ProgressStart
    from engage.poll.discover import Resolution
    from engage.store import Snapshot, Store, Transaction

Notify = Callable[[str], None]

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
    "their-comment": EventKind.THEIR_COMMENT_ON_MINE,
    "intro-requested": EventKind.INTRO_REQUESTED,
    "intro-accepted": EventKind.INTRO_ACCEPTED,
    "intro-declined": EventKind.INTRO_DECLINED,
    "ask": EventKind.MY_ASK,
    "accepted": EventKind.ASK_ACCEPTED,
    "declined": EventKind.ASK_DECLINED,
    "no-answer": EventKind.ASK_NO_ANSWER,
}

# Words that do not say whose act it was. `share` once meant my_share and `like` their_like,
# so `log "Hugo Lenz" share` for his boost of my post was recorded as mine: they are refused
# with the choices (the kinds, or an alias that names the direction) and what each means.
UNDIRECTED_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "share": (("my_share", "you shared their work"), ("their_share", "they shared yours")),
    "comment": (
        ("my_comment", "you commented on their post"),
        ("their_comment_on_mine", "they commented on your blog"),
    ),
    "reply": (
        ("their_reply", "they answered you"),
        ("my_comment", "you answered on their blog"),
        ("dm-out", "you answered a message"),
    ),
    "mention": (
        ("their_mention", "they mentioned you"),
        ("my_share", "you mentioned them, with credit"),
    ),
    "like": (("their_like", "they liked something of yours; your own likes are not counted"),),
    "follow": (("their_follow", "they followed you; your own follows are not counted"),),
    "email": (("email-in", "they wrote to you"), ("email-out", "you wrote to them")),
    "dm": (("dm-in", "they wrote to you"), ("dm-out", "you wrote to them")),
    "message": (("dm-in", "they wrote to you"), ("dm-out", "you wrote to them")),
}
UNDIRECTED_KINDS["shared"] = UNDIRECTED_KINDS["share"]
UNDIRECTED_KINDS["liked"] = UNDIRECTED_KINDS["like"]
UNDIRECTED_KINDS["mentioned"] = UNDIRECTED_KINDS["mention"]
UNDIRECTED_KINDS["replied"] = UNDIRECTED_KINDS["reply"]
UNDIRECTED_KINDS["commented"] = UNDIRECTED_KINDS["comment"]

# The kinds about an introduction: `log … --via NAME` says who made it.
INTRO_KINDS = (EventKind.INTRO_REQUESTED, EventKind.INTRO_ACCEPTED, EventKind.INTRO_DECLINED)

OUTCOMES: dict[str, EventKind] = {
    "accepted": EventKind.ASK_ACCEPTED,
    "declined": EventKind.ASK_DECLINED,
    "no-answer": EventKind.ASK_NO_ANSWER,
}

# What `engage review` can decide about a detection that rests on a name alone.
REVIEW_DECISIONS = ("confirm", "reject", "trust")

TIMELINE_EVENTS = 12
# 2: adds `identities` and `tombstone_records`; a format 1 document still imports.
EXPORT_FORMAT = 2
FIRST_DIGEST_DAYS = 7  # the first digest shows the posts of the last week
DIGESTS_META = "digests_built"  # {day: when its digest was built}
LAST_SENT_META = "last_digest_sent"  # the day of the last digest delivered
DIGESTS_FOLDER = "digests"
# A long-running report reads the meter at a new moment every minute: the read model keeps
# the readings of the last few moments only, not one set per minute for as long as it runs.
MOMENTS_KEPT = 4


def local_zone() -> tzinfo:
    """The user's time zone, with its DST rules where the system names the zone (`TZ`,
    /etc/localtime): day-sized words ('yesterday'), digests and the daemon's digest time
    follow it, and a time on a DST night is read right."""
    name = os.environ.get("TZ", "").removeprefix(":")
    try:
        if name:
            return ZoneInfo(name)
        with open("/etc/localtime", "rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        # A POSIX TZ string, Windows, a container without zone data: the fixed offset of
        # this moment is still right for today.
        return datetime.now().astimezone().tzinfo or UTC


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
    choices = UNDIRECTED_KINDS.get(key)
    if choices is not None:
        said = "; ".join(f"{kind} ({meaning})" for kind, meaning in choices)
        one = "say which" if len(choices) > 1 else "say it"
        raise EngageError(f"{text!r} does not say whose it was: {one}: {said}")
    kinds = ", ".join(kind.value for kind in EventKind)
    aliases = ", ".join(sorted(KIND_ALIASES))
    raise EngageError(
        f"unknown kind {text!r}",
        lines=[f"unknown kind {text!r}.", f"  kinds: {kinds}", f"  aliases: {aliases}"],
    )


def is_url(text: str) -> bool:
    """Whether what the user typed for a person is a web address instead."""
    return text.strip().casefold().startswith(("http://", "https://"))


def resolve_person(watchlist: Watchlist, name: str) -> Person:
    """A person or contact by name or alias (case, accents and spacing ignored), or an
    error that suggests the closest names."""
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


def one_event(events: Sequence[Event], event_id: str) -> Event:
    """The event with this id, or with an id that starts with it when only one does."""
    wanted = event_id.strip()
    matches = [e for e in events if e.id == wanted] or [
        e for e in events if wanted and e.id.startswith(wanted)
    ]
    if not matches:
        raise EngageError(f"no event with id {wanted!r} (see `engage events`)")
    if len(matches) > 1:
        shown = ", ".join(e.id for e in matches[:5])
        if len(matches) > 5:
            shown += f" and {len(matches) - 5} more"
        raise EngageError(
            f"{wanted!r} matches {len(matches)} events ({shown}); give more of the id"
        )
    return matches[0]


def read_when(text: str | None, now: datetime, *, past: bool = True) -> datetime:
    """The moment a user's WHEN names (None, the option not given: now). Every command reads
    --when, --at and --since here, so each accepts the same words and range, and refuses the
    same mistakes (empty text included). With `past`, a time in the future is refused: a
    planned meeting is not an interaction yet, and a future time is almost always a typo (a
    wrong year or month) that would keep the meter "fresh" for months."""
    if text is None:
        return now
    try:
        when = parse_when(text, now, local_zone())
    except ValueError as exc:
        raise EngageError(str(exc)) from exc
    if past and when > now + timedelta(minutes=5):
        raise EngageError(
            f"{text!r} is in the future ({when:%Y-%m-%d %H:%M}); log what already happened"
        )
    return when


def stay_in_touch_cadence(person: Person, settings: Settings) -> int | None:
    """A person's stay-in-touch cadence in days: their own `stay_in_touch:`, else the
    shortest of their tags' (settings.stay_in_touch), else None (the meter's)."""
    if person.stay_in_touch_days is not None:
        return person.stay_in_touch_days
    by_tag = {fold_name(tag): days for tag, days in settings.stay_in_touch_by_tag.items()}
    tagged = [by_tag[fold_name(t)] for t in person.tags if fold_name(t) in by_tag]
    return min(tagged) if tagged else None


# ---------------------------------------------------------------------------
# What the operations return


@dataclass(frozen=True)
class Explanation:
    """The full reading for one person, with what `explain` shows beside it."""

    person: Person
    reading: Reading  # with its 180-day history
    timeline: tuple[Event, ...]  # the most recent events up to the reading's moment
    paths: tuple[IntroPath, ...]  # who could introduce me (one intermediary)
    longer_paths: int  # with no one-hop path: how many two-hop paths exist
    linkedin: bool  # already connected on LinkedIn


@dataclass(frozen=True)
class Introduction:
    person: Person
    contact: bool  # a contact I already know: no paths, no note
    paths: tuple[IntroPath, ...]  # strong enough to recommend, strongest first
    longer_paths: int
    note: str | None  # a drafted double opt-in note to the best connector; never sent
    withheld: str | None = None  # why no note was drafted (the best path is too weak)
    # Links with no evidence worth an ask behind them (intro.supported): not recommended,
    # listed with what is missing.
    unsupported: tuple[IntroPath, ...] = ()


@dataclass(frozen=True)
class Logged:
    """A manual event: `event` is None when the very same one was logged before, or when
    detection already found it (`detected`: the same person, kind and link)."""

    event: Event | None
    person: Person
    kind: EventKind
    when: datetime
    url: str | None = None
    note: str = ""
    created: bool = False  # the person was added to the watchlist first (--create)
    introducer: Logged | None = None  # intro_accepted: their_intro on who introduced me
    detected: Event | None = None


@dataclass(frozen=True)
class Asked:
    """What `ask` did. `refused`: it would be a cold invitation and nothing was recorded."""

    person: Person
    reading: Reading
    warning: str | None
    refused: bool
    logged: Logged | None
    paths: tuple[IntroPath, ...]
    follow_up_days: int


@dataclass(frozen=True)
class Reviewed:
    """What `review` did: `confirmed` holds every event confirmed by it (trusting a name
    on a site confirms every detection that rested on it); `rejected` the one removed."""

    decision: str
    event: Event
    confirmed: tuple[Event, ...] = ()
    rejected: Event | None = None
    trusted: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Detected:
    added: int
    removed: int  # automatic events removed first (a rebuild)
    new_evidence: int
    warnings: tuple[str, ...]
    rebuilt: bool


@dataclass(frozen=True)
class Forgotten:
    person: str  # as resolved: the name in the watchlist, else as stored
    counts: dict[str, int]  # what went, by kind (store.FORGOTTEN_KINDS, backups, digests)
    listed: Person | None  # still in the watchlist
    had_watchlist: bool
    near: str | None  # a stored name the user probably meant, when nothing matched
    left: tuple[Path, ...] = ()  # files in the data folder that still name them
    unlisted: bool = False  # taken out of the watchlist too (--from-watchlist)


@dataclass(frozen=True)
class Moves:
    moves: dict[str, str]  # old URL -> new URL
    changed: int  # entries rewritten in the watchlist


@dataclass(frozen=True)
class AddedFeed:
    url: str
    kind: FeedKind
    listed_for: str | None = None  # already in the watchlist, for this person: not added


@dataclass(frozen=True)
class Added:
    """What `add` put in the watchlist, in order."""

    person: str
    created: bool  # the person was new
    feeds: tuple[AddedFeed, ...]
    entries: int = 0  # entries in the feed now
    handle: tuple[str, str] | None = None  # (network, handle) put under handles:
    kept_handle: str | None = None  # the handle they already had for that network (kept)
    feed_error: str | None = None  # why no feed was found for a handle that was added


@dataclass(frozen=True)
class BuiltDigest:
    day: date
    page: Path  # where the HTML page was written
    rendered: RenderedDigest


@dataclass(frozen=True)
class OpmlImport:
    people: tuple[tuple[str, tuple[FeedRef, ...]], ...]
    outlines: int
    people_added: int = 0
    feeds_added: int = 0
    skipped: int = 0
    dry_run: bool = False


@dataclass(frozen=True)
class LinkedInImport:
    connections: int
    added: int
    updated: int
    skipped_rows: int
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Renamed:
    """What `rename` did. `linked`: OLD was only a name in the stored history (renamed by
    hand without an alias), and that history now belongs to NEW."""

    old: str  # as it was written in feeds.yaml, or as the history knew them
    new: str
    alias_added: bool
    linked: bool
    events: int  # in the history that is theirs now
    carried: dict[str, int] = field(default_factory=dict)  # records re-filed, `duplicates`


@dataclass(frozen=True)
class Merged:
    kept: str
    merged: str
    carried: dict[str, int]  # records re-filed under the kept person, and `duplicates`
    dropped_handles: tuple[str, ...]  # the merged entry's handles the kept one had otherwise


@dataclass(frozen=True)
class Imported:
    added: dict[str, int]  # documents added, by table
    offered: dict[str, int]  # documents in the file, by table
    format: int
    schema: int


# ---------------------------------------------------------------------------
# The read model


class World:
    """One read of the precious data with the watchlist, grouped once: what status,
    explain, intro, ask, the digest and the web pages need. Readings are computed once
    per moment and person."""

    def __init__(self, watchlist: Watchlist, snapshot: Snapshot) -> None:
        from engage.store import LATEST_POSTS, latest_posts_of

        self.watchlist = watchlist
        self.snapshot = snapshot
        self.rules = watchlist.settings.meter
        # Records are filed under each person's key (engage.identity); what is shown and
        # what the introductions graph compares is the name they have today.
        self.keys = resolve(watchlist, snapshot.identities)
        self.by_person: dict[str, list[Event]] = {}
        for event in snapshot.events:
            self.by_person.setdefault(fold_name(event.person), []).append(event)
        self.evidence = tuple(self._shown_evidence(item) for item in snapshot.intro_evidence)
        self._readings: dict[datetime, dict[str, Reading]] = {}
        self.latest = latest_posts_of(snapshot.meta.get(LATEST_POSTS) or {})
        self._rules_of = {
            fold_name(p.name): self._rules_with(stay_in_touch_cadence(p, watchlist.settings))
            for p in (*watchlist.people, *watchlist.contacts)
        }

    def _rules_with(self, cadence: int | None) -> MeterRules:
        if cadence is None or cadence == self.rules.stay_in_touch_days:
            return self.rules
        return replace(self.rules, stay_in_touch_days=cadence)

    def rules_for(self, name: str) -> MeterRules:
        """The meter's rules for one person: their own stay-in-touch cadence, or their
        tag's, over the meter's."""
        return self._rules_of.get(fold_name(name), self.rules)

    def events_of(self, name: str, until: datetime | None = None) -> list[Event]:
        events = self.by_person.get(fold_name(self.keys.key(name)), [])
        return events if until is None else [e for e in events if e.when <= until]

    def reading(self, name: str, now: datetime, *, history: bool = False) -> Reading:
        if not history:
            cached = self._readings.get(now, {}).get(name)
            if cached is not None:
                return cached
        from engage.meter import read_meter  # not at the top: a poll never reads the meter
        from engage.meter.rules import HISTORY_DAYS

        key = self.keys.key(name)
        events = self.by_person.get(fold_name(key), [])
        days = HISTORY_DAYS if history else 0
        rules = self.rules_for(name)
        latest = self.latest.get(key)
        return read_meter(
            name, events, now, rules, history_days=days, key=key, latest=latest
        )

    def shown(self, event: Event) -> Event:
        """The event as the user knows it: under the person's name of today."""
        name = self.keys.display(event.person)
        return event if name == event.person else replace(event, person=name)

    def _shown_evidence(self, item: IntroEvidence) -> IntroEvidence:
        contact, person = self.keys.display(item.contact), self.keys.display(item.person)
        if (contact, person) == (item.contact, item.person):
            return item
        return replace(item, contact=contact, person=person)

    def orphans(self) -> list[Orphan]:
        """Stored histories nobody in the watchlist resolves to (docs/design.md, "Identity")."""
        counts = {key: len(events) for key, events in self.by_person.items()}
        return self.keys.orphans(counts, self.watchlist)

    def readings(self, now: datetime) -> dict[str, Reading]:
        """Everyone's reading (people and contacts) at `now`, computed once."""
        found = self._readings.get(now)
        if found is None:
            from engage.store import gc_paused

            everyone = (*self.watchlist.people, *self.watchlist.contacts)
            # 200 readings allocate enough to trigger many full collections, each walking
            # every decoded event: pausing the collector meanwhile saves 0.05–0.1 s
            # (bench_status), and unlike gc.freeze() pins nothing once it is done.
            with gc_paused():
                found = {p.name: self.reading(p.name, now) for p in everyone}
            while len(self._readings) >= MOMENTS_KEPT:
                self._readings.pop(next(iter(self._readings)))  # the oldest moment
            self._readings[now] = found
        return found

    def people_readings(self, now: datetime) -> list[Reading]:
        """The people I follow, what needs action first."""
        from engage.meter import status_order

        readings = self.readings(now)
        return status_order(readings[p.name] for p in self.watchlist.people)

    def paths(self, target: str, now: datetime, hops: int = 1) -> list[IntroPath]:
        """Who could introduce me, strongest first: only paths with evidence behind them."""
        from engage.intro import supported

        return [p for p in self.all_paths(target, now, hops) if supported(p)]

    def all_paths(self, target: str, now: datetime, hops: int = 1) -> list[IntroPath]:
        """Every path, those too weak to recommend included."""
        from engage.intro import intro_paths

        return intro_paths(
            target,
            self.watchlist,
            self.evidence,
            self.readings(now),
            self.snapshot.linkedin_contacts,
            now,
            self.rules,
            hops=hops,
        )

    def on_linkedin(self, person: Person) -> bool:
        from engage.linkedin import match_people

        matches = match_people(self.snapshot.linkedin_contacts, self.watchlist)
        return any(m.person is not None and m.person.name == person.name for m in matches)


# ---------------------------------------------------------------------------
# The facade


@dataclass
class _Loaded:
    key: tuple[int, int, int] | None
    value: Any = field(default=None)


class Engage:
    """A watchlist and a data folder, and everything a user can do with them.

    Cheap to make: the watchlist is loaded on first use (from the watchlist cache when
    unchanged) and the store opened on first use. `notify` receives one-line notices a
    surface should show (a new data folder, detection warnings); by default they are
    dropped."""

    def __init__(
        self,
        config: Path | None = None,
        data: Path | None = None,
        *,
        notify: Notify | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config_path = places.config_path(config)
        self._config_arg = config
        self._data_arg = data
        self._notify = notify or (lambda _message: None)
        self._clock = clock or (lambda: datetime.now(tz=local_zone()))
        self._watchlist: Watchlist | None = None
        self._watchlist_key: tuple[int, int, int] | None = None
        self._store: Store | None = None
        self._world = _Loaded(None)
        self._posts = _Loaded(None)  # recent_posts: posts by folded name, from cache.json
        self._slugs: tuple[Watchlist, dict[str, str]] | None = None

    # -- plumbing

    def now(self) -> datetime:
        return self._clock()

    @property
    def watchlist(self) -> Watchlist:
        """The validated watchlist, loaded again when the file changed since (a stat per
        use: a long-running web report follows the user's edits)."""
        try:
            stat = self.config_path.stat()
            key: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        if self._watchlist is None or key is None or key != self._watchlist_key:
            from engage.watchlist_cache import load_watchlist

            self._watchlist = load_watchlist(self.config_path)
            self._watchlist_key = key
        return self._watchlist

    def watchlist_if_any(self) -> Watchlist | None:
        """The watchlist when there is one to find. It may name the data folder
        (settings.data_dir), so without --data a broken one is an error, not a guess at
        another folder; with --data it only feeds hints, and a broken one is skipped."""
        if self._config_arg is None and not self.config_path.exists():
            return None
        try:
            return self.watchlist
        except EngageError:
            if self._data_arg is not None and self._config_arg is None:
                return None
            raise

    @property
    def data_dir(self) -> Path:
        watchlist = self.watchlist_if_any() if self._data_arg is None else None
        settings = watchlist.settings if watchlist is not None else None
        return places.data_dir(
            self._data_arg,
            settings.data_dir if settings else None,
            watchlist.path if watchlist else None,
        )

    @property
    def store(self) -> Store:
        if self._store is None:
            from engage.store import Store

            folder = self.data_dir
            store = Store(folder, notify=self._notify)
            if store.created:
                # A mistyped --data or $ENGAGE_DATA would otherwise show an empty world as
                # if it were the truth ("everyone is cold"); say where the new store is.
                self._notify(f"engage: starting a new, empty data folder at {folder}")
            self._store = store
        return self._store

    @contextmanager
    def single_instance(self, name: str) -> Iterator[None]:
        """Hold the data folder for one long-running `engage NAME` (the daemon): a second
        one on the same folder is refused with one line naming the first."""
        from engage.files import LockTimeout, exclusive_lock

        folder = self.data_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EngageError(f"{folder}: cannot create the data folder ({exc})") from None
        pid_file = folder / f"{name}.pid"
        with ExitStack() as held:
            try:
                held.enter_context(exclusive_lock(folder / f"{name}.lock", timeout=0))
            except LockTimeout:
                try:
                    pid = pid_file.read_text(encoding="ascii").strip()
                except OSError:
                    pid = ""
                who = f" (process {pid})" if pid.isdigit() else ""
                raise EngageError(
                    f"engage {name} is already running on {folder}{who}; stop it first, "
                    "or give this one another data folder"
                ) from None
            except OSError as exc:
                raise EngageError(f"{folder}: cannot lock the data folder ({exc})") from None
            pid_file.write_text(f"{os.getpid()}\n", encoding="ascii")
            held.callback(pid_file.unlink, missing_ok=True)
            yield

    def existing_store(self) -> Store:
        """The store, refusing a folder without one: opening it would create an empty
        store, and a mistyped --data would then export or forget nothing without a word.
        A folder that held data but lost engage.json gets the store's own restore line."""
        from engage.store import PRECIOUS, held_data

        folder = self.data_dir
        if not folder.is_file() and not (folder / PRECIOUS).exists() and not held_data(folder):
            raise EngageError(f"{folder}: no engage data here (no {PRECIOUS}); check --data")
        return self.store

    def world(self) -> World:
        """The read model, read again only when engage.json or the watchlist changed (a
        long-running web report shows fresh data without re-reading on every request)."""
        from engage.store import PRECIOUS

        watchlist = self.watchlist
        store = self.store
        try:
            stat = (store.folder / PRECIOUS).stat()
            # Every write replaces the file, so a new inode means new data.
            key: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        loaded = self._world
        stale = loaded.value is None or key is None or loaded.key != key
        if stale or loaded.value.watchlist is not watchlist:
            loaded = self._world = _Loaded(key, World(watchlist, store.load_precious_only()))
        world: World = loaded.value
        return world

    def keys(self) -> Keys:
        """Each person's key (docs/design.md, "Identity"), from one light read of the store:
        what showing a feed, a post or a poll's outcome by today's name needs, without
        decoding every event as the read model does."""
        view = self.store.view(with_cache=False)
        try:
            return resolve(self.watchlist, view.identities())
        finally:
            view.close()

    def refresh(self) -> None:
        """Forget the loaded watchlist (the next use reads it again if the file changed)."""
        self._watchlist = None

    def moment(self, at: str | None, *, past_only: bool = False) -> datetime:
        """`at` as a moment (None: now); any moment for a what-if, only the past when it
        records what happened."""
        return read_when(at, self.now(), past=past_only)

    def person(self, name: str) -> Person:
        return resolve_person(self.watchlist, name)

    def anyone(self, name: str) -> Person:
        """Anyone in the watchlist, me included; otherwise the same did-you-mean as `log`."""
        found = self.watchlist.find(name)
        return found if found is not None else self.person(name)

    # -- the meter

    def status(self, at: str | None = None, stages: Sequence[str] = ()) -> list[Reading]:
        """Everyone I follow, what needs action first (only `stages` when given)."""
        now = self.moment(at)
        readings = self.world().people_readings(now)
        if stages:
            readings = [r for r in readings if r.stage.value in stages]
        return readings

    def explain(self, person: str, at: str | None = None) -> Explanation:
        world = self.world()
        who = self.person(person)
        now = self.moment(at)
        reading = world.reading(who.name, now, history=True)
        events = sorted(world.events_of(who.name, now), key=lambda e: e.when, reverse=True)
        paths = world.paths(who.name, now)
        longer = 0 if paths else len(world.paths(who.name, now, 2))
        return Explanation(
            person=who,
            reading=reading,
            timeline=tuple(events[:TIMELINE_EVENTS]),
            paths=tuple(paths),
            longer_paths=longer,
            linkedin=world.on_linkedin(who),
        )

    def intro(self, person: str, hops: int = 1, at: str | None = None) -> Introduction:
        world = self.world()
        who = self.person(person)
        if who.role is Role.CONTACT:
            # I already know a contact: an introduction to them is the wrong tool.
            return Introduction(who, contact=True, paths=(), longer_paths=0, note=None)
        from engage.intro import supported, weak_path

        now = self.moment(at)
        found = world.all_paths(who.name, now, hops)
        paths = [p for p in found if supported(p)]
        unsupported = tuple(p for p in found if not supported(p))
        longer = len(world.paths(who.name, now, 2)) if not paths and hops == 1 else 0
        withheld = weak_path(paths[0], world.rules) if paths else None
        # A draft asks someone for a favour: never on a weak path, nor on none.
        note = self._intro_note(paths[0], world, now) if paths and not withheld else None
        return Introduction(who, False, tuple(paths), longer, note, withheld, unsupported)

    def _intro_note(self, path: IntroPath, world: World, now: datetime) -> str:
        from engage.intro import draft_context

        target_reading = world.readings(now).get(path.target) or world.reading(path.target, now)
        events = world.events_of(path.target, now)
        context = draft_context(path, world.watchlist, target_reading, events)
        return self.templates(html=False).get_template("intro_request.txt.j2").render(**context)

    # -- the daily digest's agenda

    def digest_moment(self, day: str | None = None) -> tuple[date, datetime]:
        """The digest's day (default today, local) and the moment it is read at: the end
        of that day, or now when the day is today."""
        now = self.now()
        wanted = read_when(day, now, past=False).date() if day is not None else now.date()
        end = datetime.combine(wanted, time(23, 59, 59), tzinfo=now.tzinfo)
        return wanted, min(now, end)

    def agenda(self, day: str | None = None) -> Agenda:
        """What the digest of `day` holds: whom to ask, follow-ups due, posts worth joining
        (those that arrived since the previous digest, or in the last 7 days), warm
        introductions, people going quiet and feeds that need attention."""
        from dataclasses import replace as with_

        from engage.agenda import build_agenda

        world = self.world()
        wanted, now = self.digest_moment(day)
        readings = world.readings(now)
        paths = {
            p.name: world.paths(p.name, now)
            for p in self.watchlist.people
            if readings[p.name].stage not in (Stage.READY, Stage.ASKED, Stage.CONNECTED)
        }
        since = self._previous_digest(wanted) or now - timedelta(days=FIRST_DIGEST_DAYS)
        # The agenda speaks in today's names; the store files under keys (see Identity).
        everyone = (*self.watchlist.people, *self.watchlist.contacts)
        events = {fold_name(p.name): world.events_of(p.name) for p in everyone}
        agenda = build_agenda(
            self.watchlist,
            readings,
            events,
            self.posts(),
            [*self.feeds(), *self._accounts_in_trouble()],
            paths,
            day=wanted,
            now=now,
            since=since,
        )
        ready = tuple(with_(r, draft=self._ask_draft(r, world, now)) for r in agenda.ready)
        where = Path(self.watchlist.path or "feeds.yaml").name
        orphans = tuple(orphan_line(orphan, where) for orphan in world.orphans())
        notes = (*agenda.notes, *orphans)
        waiting = len(self.pending_review())
        if waiting:
            one = waiting == 1
            notes = (
                *notes,
                f"{waiting} detection{'' if one else 's'} rest{'s' if one else ''} on a name "
                f"alone and wait{'s' if one else ''} for your review; until then "
                f"{'it counts' if one else 'they count'} as contact, not towards ready: "
                "engage review",
            )
        return with_(agenda, ready=ready, notes=notes)

    def _accounts_in_trouble(self) -> list[FeedState]:
        """Accounts gone or failing, as the digest lists feeds that need attention. One
        that wants a login is not there (its profile feed is followed, nothing to do), nor
        one waiting for a server's rate limit (it goes on by itself)."""
        from engage.social.accounts import as_feed

        trouble = (AccountStatus.GONE, AccountStatus.ERROR)
        return [as_feed(a) for a in self.accounts() if a.status in trouble]

    def templates(self, *, html: bool) -> jinja2.Environment:
        """Jinja2 templates, the user's own first; `html` escapes every value."""
        from engage.templating import environment

        return environment(self.watchlist, autoescape=html)

    def save_digest(
        self, day: date, html: str, text: str, *, out: Path | None = None
    ) -> Path:
        """Write a digest page: `out`, or digests/YYYY-MM-DD.html in the data folder (with
        its text beside it) and digests/latest.html. Returns the page's path."""
        from engage.files import atomic_write

        try:
            if out is not None:
                atomic_write(out, html.encode("utf-8"))
                return out
            folder = self.data_dir / DIGESTS_FOLDER
            folder.mkdir(parents=True, exist_ok=True)
            page = folder / f"{day.isoformat()}.html"
            atomic_write(page, html.encode("utf-8"))
            atomic_write(page.with_suffix(".txt"), text.encode("utf-8"))
            atomic_write(folder / "latest.html", html.encode("utf-8"))
            return page
        except OSError as exc:
            where = exc.filename or out or self.data_dir
            raise EngageError(
                f"{where}: cannot write the digest ({exc.strerror or exc})"
            ) from None

    def build_digest(self, day: str | None = None, *, out: Path | None = None) -> BuiltDigest:
        """Build the digest of `day` (default today), write it (to `out`, or the data
        folder's digests/) and remember it was built, so the next one starts from here."""
        from engage.digest.render import render_digest

        agenda = self.agenda(day)
        rendered = render_digest(
            agenda, html_env=self.templates(html=True), text_env=self.templates(html=False)
        )
        page = self.save_digest(agenda.day, rendered.html, rendered.text, out=out)
        if out is None:
            self.record_digest(agenda.day, agenda.now)
        return BuiltDigest(agenda.day, page, rendered)

    def send_digest(self, built: BuiltDigest) -> str:
        """E-mail a built digest to settings.digest.to; one line (EngageError) when it
        cannot. Sending today's digest by hand counts as today's delivery."""
        from engage.digest.mail import build_message, send_message

        settings = self.watchlist.settings.digest
        if not settings.email_to:
            raise EngageError(
                "no e-mail address to send the digest to: set settings.digest.to in "
                f"{self.config_path} (and smtp_host, smtp_port, security, smtp_user and "
                "smtp_password_env as your mail provider needs)"
            )
        parts = built.rendered
        now = self.now()
        message = build_message(
            settings, subject=parts.subject, text=parts.text, html=parts.html, now=now
        )
        send_message(message, settings)
        if built.day == now.date():
            self.mark_digest_sent(built.day)
        return f"e-mailed to {settings.email_to}"

    def deliver_digest(self) -> str:
        """Today's digest, as the daemon delivers it: built and written, and e-mailed when
        an address is set. A line for the log."""
        built = self.build_digest()
        said = f"digest for {built.day} written to {built.page}"
        if self.watchlist.settings.digest.email_to:
            said += "; " + self.send_digest(built)
        return said

    def digests(self) -> list[tuple[date, Path]]:
        """The archive of digest pages, newest first."""
        folder = self.data_dir / DIGESTS_FOLDER
        found = []
        for page in folder.glob("????-??-??.html"):
            try:
                found.append((date.fromisoformat(page.stem), page))
            except ValueError:
                continue
        return sorted(found, reverse=True)

    def last_digest_sent(self) -> date | None:
        """The day of the last digest the daemon (or `digest --send`) delivered."""
        value = self.store.get_meta(LAST_SENT_META)
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def mark_digest_sent(self, day: date) -> None:
        with self.store.transaction() as tx:
            tx.set_meta(LAST_SENT_META, day.isoformat())

    def _previous_digest(self, day: date) -> datetime | None:
        """When the latest digest before `day` was built: its posts were already shown."""
        built = self.store.get_meta(DIGESTS_META, {}) or {}
        earlier = [stamp for d, stamp in built.items() if d < day.isoformat()]
        return datetime.fromisoformat(max(earlier)) if earlier else None

    def record_digest(self, day: date, built: datetime) -> None:
        """Remember that the digest of `day` was built (the next one starts from here)."""
        with self.store.transaction() as tx:
            built_at = dict(tx.get_meta(DIGESTS_META, {}) or {})
            built_at[day.isoformat()] = built.isoformat()
            # A year of days is plenty to find "the previous digest".
            tx.set_meta(DIGESTS_META, dict(sorted(built_at.items())[-366:]))

    def _ask_draft(self, ready: ReadyToAsk, world: World, now: datetime) -> str:
        from engage.intro import ask_context

        person = ready.reading.person
        context = ask_context(
            self.watchlist, person, ready.thread, world.events_of(person, now),
            ready.reading.stage, self._post_titles(),
        )  # fmt: skip
        return self.templates(html=False).get_template("ask_request.txt.j2").render(**context)

    def _post_titles(self) -> dict[str, str]:
        from engage.urls import thread_key

        return {thread_key(p.link): p.title for p in self.store.posts() if p.link}

    # -- recording what happened

    def _record(
        self, person: Person, kind: EventKind, when: datetime, *, url: str | None, note: str
    ) -> tuple[Event | None, Event | None]:
        """Store one manual event. Returns it (None when the same event is already there)
        and, when nothing was stored because detection found the same interaction (the
        same person, kind and link: docs/design.md, "Duplicates"), that event."""
        with self.store.transaction() as tx:
            key = self._keys_in(tx).key(person.name)
            base_id = manual_id(key, kind, when, url, note)
            event = Event(
                id=base_id,
                person=key,
                kind=kind,
                when=when,
                direction=DIRECTION[kind],
                source=EventSource.MANUAL,
                url=url,
                note=note,
                created=self.now(),
            )
            detected = tx.same_interaction(event)
            if detected is not None:
                return None, self._shown(detected, person)
            # The store refuses an id that was undone (so detection cannot resurrect it); a
            # thing logged by hand again after an undo is meant, so it gets the next free id.
            undone = tx.tombstones()
            copy = 1
            while event.id in undone:
                copy += 1
                event = replace(event, id=f"{base_id}-{copy}")
            added = tx.add_events([event])
        return (self._shown(added[0], person) if added else None), None

    @staticmethod
    def _shown(event: Event, person: Person) -> Event:
        return replace(event, person=person.name)

    def _keys_in(self, tx: Transaction) -> Keys:
        """Each person's key, read under the transaction's lock, and the watchlist's names
        and aliases registered with them: every write remembers who is who, so a later
        rename by hand still finds the history (docs/design.md, "Identity")."""
        watchlist = self.watchlist
        keys = resolve(watchlist, tx.identities())
        tx.remember_people(keys.keyed(watchlist).everyone())
        return keys

    def log(
        self,
        person: str,
        kind: str | EventKind,
        *,
        when: str | None = None,
        url: str | None = None,
        note: str = "",
        create: bool = False,
        via: str | None = None,
    ) -> Logged:
        """Log by hand an interaction no feed shows. `person` may be a URL on their site
        (the person is found from it, and it is the event's URL); with `create`, someone
        not in the watchlist yet is added to people: first. `via`: for an introduction,
        who made it; an accepted one is also their_intro on the introducer's record (their
        meter counts the favour, and thanking them becomes their next step)."""
        event_kind = kind if isinstance(kind, EventKind) else resolve_kind(kind)
        if event_kind is EventKind.MY_ASK:
            # `ask` checks first whether asking would be a cold invitation; logging it here
            # would slip past that guard.
            shown = self.watchlist.find(person)
            name = shown.name if shown is not None else person
            raise EngageError(
                f"`engage log` does not record asks ({kind!r}); use `engage ask {name!r}`: "
                "it says first whether the ask would be a cold invitation, and records it "
                "(add --anyway to record it regardless; --when and --note work there too)"
            )
        moment = self.moment(when, past_only=True)
        introducer = self._introducer(via, event_kind, person)
        if is_url(person):
            url = url or person.strip()
        who, created = self._who(person, create)
        if introducer is None and event_kind is EventKind.INTRO_ACCEPTED:
            introducer = self._requested_via(who)
        if introducer is not None:
            note = "; ".join(filter(None, (f"via {introducer.name}", note)))
        event, detected = self._record(who, event_kind, moment, url=url, note=note)
        thanks = None
        if introducer is not None and event_kind is EventKind.INTRO_ACCEPTED:
            what = f"introduced you to {who.name}"
            kind = EventKind.THEIR_INTRO
            done, _ = self._record(introducer, kind, moment, url=url, note=what)
            thanks = Logged(done, introducer, kind, moment, url, what)
        return Logged(
            event, who, event_kind, moment, url, note,
            created=created, introducer=thanks, detected=detected,
        )  # fmt: skip

    def _introducer(self, via: str | None, kind: EventKind, person: str) -> Person | None:
        if via is None:
            return None
        if kind not in INTRO_KINDS:
            raise EngageError(
                f"--via names who made an introduction; it goes with {', '.join(INTRO_KINDS)}"
            )
        introducer = self.person(via)
        if fold_name(introducer.name) == fold_name(person):
            raise EngageError(f"{introducer.name} cannot introduce you to themselves")
        return introducer

    def _requested_via(self, target: Person) -> Person | None:
        """Who I asked for this introduction, when `log … intro-requested --via` said."""
        asked = [
            e
            for e in self.world().events_of(target.name)
            if e.kind is EventKind.INTRO_REQUESTED and e.note.startswith("via ")
        ]
        if not asked:
            return None
        name = asked[-1].note.removeprefix("via ").split(";", 1)[0].strip()
        found = self.watchlist.find(name)
        return found if found is not None and found.role is not Role.ME else None

    def met(
        self,
        person: str,
        *,
        event_name: str | None = None,
        when: str | None = None,
        url: str | None = None,
        note: str = "",
        create: bool = False,
    ) -> Logged:
        """Log meeting someone in person; the note carries where ("at PyCon; …"). With
        `create`, someone not in the watchlist yet is added to people: first."""
        moment = self.moment(when, past_only=True)
        who, created = self._who(person, create)
        parts = [f"at {event_name}"] if event_name else []
        if note:
            parts.append(note)
        text = "; ".join(parts)
        event, detected = self._record(who, EventKind.MET_IN_PERSON, moment, url=url, note=text)
        return Logged(
            event, who, EventKind.MET_IN_PERSON, moment, url, text,
            created=created, detected=detected,
        )  # fmt: skip

    def _who(self, text: str, create: bool) -> tuple[Person, bool]:
        """The person `text` names (a name, an alias, or a URL on their site), and whether
        they were added to the watchlist just now (`create`: five people met at a
        conference are five commands, not ten)."""
        if is_url(text):
            return self.person_at(text), False
        found = self.watchlist.find(text)
        if found is None and create and text.strip():
            self.add_person(text.strip())
            return self.person(text), True
        if found is None:
            try:
                self.person(text)
            except EngageError as exc:
                raise EngageError(f"{exc}; to add them, pass --create") from None
        return self.person(text), False

    def person_at(self, url: str) -> Person:
        """Whose site `url` is on: their `sites:`, their blogs' hosts, or the host of a
        feed of theirs that nobody else shares; an error that lists the candidates when
        it is ambiguous or unknown."""
        from engage.detect import SHARED_HOSTS, build_identities, match_url
        from engage.urls import host_and_path

        watchlist = self.watchlist
        found = match_url(build_identities(watchlist), url)
        host = host_and_path(url)[0]
        hint = "name them instead: engage log NAME KIND --url URL"
        if found.role is Role.ME:
            raise EngageError(f"{url} is on your own site; {hint}")
        if found.identity is not None:
            return self.person(found.identity)
        candidates = list(found.ambiguous)
        if not candidates and host and host not in SHARED_HOSTS:
            candidates = [
                p.name
                for p in (*watchlist.people, *watchlist.contacts)
                if any(host_and_path(f.url)[0] == host for f in p.feeds)
            ]
            if len(candidates) == 1:
                return self.person(candidates[0])
        if candidates:
            raise EngageError(f"{url} could be {' or '.join(candidates)}'s; {hint}")
        where = watchlist.path or "the watchlist"
        raise EngageError(
            f"nobody in {where} has the site {host or url} (under sites: or feeds:); {hint}, "
            "or add the site to them"
        )

    def outcome(
        self, person: str, answer: str, *, when: str | None = None, note: str = ""
    ) -> Logged:
        """The answer to my ask: accepted, declined or no-answer."""
        who = self.person(person)
        kind = OUTCOMES.get(answer)
        if kind is None:
            raise EngageError(f"unknown answer {answer!r} (one of: {', '.join(OUTCOMES)})")
        moment = self.moment(when, past_only=True)
        asks = [e for e in self.world().events_of(who.name) if e.kind == EventKind.MY_ASK]
        if not asks:
            raise EngageError(
                f"no ask recorded for {who.name}; record it first with `engage ask {who.name!r}`"
            )
        last_ask = max(asks, key=lambda e: e.when)
        if moment < last_ask.when:
            stamp = last_ask.when.strftime("%Y-%m-%d %H:%M")
            raise EngageError(f"the answer cannot come before the ask ({stamp})")
        event, _ = self._record(who, kind, moment, url=None, note=note)
        return Logged(event, who, kind, moment, None, note)

    def ask(
        self, person: str, *, when: str | None = None, note: str = "", anyway: bool = False
    ) -> Asked:
        """Record that I asked to connect, unless it would be a cold invitation (then
        nothing is recorded and the answer says why, unless `anyway`)."""
        world = self.world()
        who = self.person(person)
        moment = self.moment(when, past_only=True)
        reading = world.reading(who.name, moment)
        from engage.meter import needs_ask_warning

        warning = needs_ask_warning(reading)
        rules = self.watchlist.settings.meter
        if warning is not None and not anyway:
            paths = tuple(world.paths(who.name, moment))
            return Asked(who, reading, warning, True, None, paths, rules.ask_follow_up_days)
        event, _ = self._record(who, EventKind.MY_ASK, moment, url=None, note=note)
        logged = Logged(event, who, EventKind.MY_ASK, moment, None, note)
        return Asked(who, reading, warning, False, logged, (), rules.ask_follow_up_days)

    def undo(self, event_id: str) -> Event:
        """Remove one event by its id or a unique start of it; a removed auto event is
        remembered, so detection does not bring it back."""
        # Find and remove under one lock: another process may be changing events meanwhile.
        with self.store.transaction() as tx:
            found = one_event(tx.events(), event_id)
            removed = tx.remove_event(found.id)
        if removed is None:
            raise EngageError(f"event {found.id} was removed meanwhile")
        return self.world().shown(removed) if self.watchlist_if_any() else removed

    # -- detections that wait for review

    def pending_review(self, person: str | None = None) -> list[Event]:
        """Detections that rest on a name alone, oldest first: what `engage review` lists,
        and the count `status`, the digest and the report show."""
        world = self.world()
        events = world.events_of(self.person(person).name) if person else world.snapshot.events
        return [
            world.shown(event)
            for event in events
            if event.source is EventSource.AUTO and not event.confirmed
        ]

    def review(self, event_id: str, decision: str) -> Reviewed:
        """Decide about one detection: `confirm` it, `reject` it (removed, and it stays
        removed when detected again, as with undo), or `trust` the names it rests on, on
        their sites, for good ("always trust this author on this site"): every detection
        that rested on them is confirmed, now and in later polls."""
        if decision not in REVIEW_DECISIONS:
            raise EngageError(
                f"unknown decision {decision!r} (one of: {', '.join(REVIEW_DECISIONS)})"
            )
        with self.store.transaction() as tx:
            event = one_event(tx.events(), event_id)
            if event.source is not EventSource.AUTO:
                raise EngageError(
                    f"{event.id} is an event you logged yourself; there is nothing to review "
                    "(engage undo removes it)"
                )
            if decision == "reject":
                tx.remove_event(event.id)
                done = Reviewed(decision, event, rejected=event)
            elif event.confirmed:
                done = Reviewed(decision, event)
            elif decision == "confirm":
                confirmed = tx.confirm_event(event.id)
                done = Reviewed(decision, event, confirmed=(confirmed,) if confirmed else ())
            elif not event.name_matches:
                raise EngageError(
                    f"{event.id} does not rest on a name to trust; confirm or reject it"
                )
            else:
                pairs = event.name_matches
                trusted = tuple(tx.trust_names(pairs, event.person))
                done = Reviewed(decision, event, confirmed=trusted, trusted=pairs)
        # What was decided, under the names of today (the store files events by key).
        world = self.world()
        return replace(
            done,
            event=world.shown(done.event),
            confirmed=tuple(world.shown(e) for e in done.confirmed),
            rejected=world.shown(done.rejected) if done.rejected else None,
        )

    # -- what is stored

    def events(
        self, person: str | None = None, *, kind: str | None = None, since: str | None = None
    ) -> list[Event]:
        """Interaction events, oldest first."""
        who = self.person(person).name if person else None
        event_kind = resolve_kind(kind) if kind else None
        moment = self.moment(since) if since is not None else None
        world = self.world() if self.watchlist_if_any() is not None else None
        if world is None:  # only a data folder: the records as they are stored
            stored = self.store.events()
        else:
            theirs = world.events_of(who) if who else world.snapshot.events
            stored = [world.shown(event) for event in theirs]
        chosen = [
            event
            for event in stored
            if (event_kind is None or event.kind == event_kind)
            and (moment is None or event.when >= moment)
        ]
        chosen.sort(key=lambda e: (e.when, e.id))
        return chosen

    def posts(
        self, person: str | None = None, *, since: str | None = None, limit: int = 0
    ) -> list[Post]:
        """Posts and episodes found, newest first; `limit` 0 means all."""
        who = self.anyone(person).name if person is not None else None
        moment = self.moment(since) if since is not None else None
        keys = self.keys() if self.watchlist_if_any() is not None else None
        if keys is not None and who is not None:
            who = keys.key(who)
        found = self.store.posts(person=who, since=moment)
        shown = []
        for post in found[:limit] if limit else found:
            name = keys.display(post.person) if keys is not None else post.person
            shown.append(post if name == post.person else replace(post, person=name))
        return shown

    def feeds(self) -> list[FeedState]:
        """Watched feeds (never polled ones too), then the ones engage discovered."""
        return self._listed_feeds(self.store.feeds(), self.keys())

    def _listed_feeds(self, states: Sequence[FeedState], keys: Keys) -> list[FeedState]:
        from engage.poll.cycle import watched_feeds

        watchlist = self.watchlist
        by_url = {s.url: s for s in states}
        out: list[FeedState] = []
        for owner, ref in watched_feeds(watchlist):
            stored_state = by_url.pop(ref.url) if ref.url in by_url else None
            out.append(
                replace(stored_state, person=owner.name)
                if stored_state
                else FeedState(url=ref.url, person=owner.name, kind=ref.kind, title=ref.title)
            )
        out += [
            replace(s, person=found.name)
            for s in by_url.values()
            if s.discovered and (found := keys.person(s.person)) is not None
        ]
        return out

    def accounts(self) -> list[SocialAccount]:
        """Every Mastodon and Bluesky account in the watchlist (mine first) with its health,
        under today's names; one never polled yet is `never`."""
        return self._listed_accounts(self.store.social_accounts(), self.keys())

    def _listed_accounts(self, states: Sequence[SocialAccount], keys: Keys) -> list[SocialAccount]:
        from engage.social.accounts import watched_accounts

        stored = {a.key: a for a in states}
        watched = watched_accounts(keys.keyed(self.watchlist))
        mine = {w.network for w in watched if w.person.role is Role.ME}
        out = []
        for account in watched:
            state = stored.get(account.key) or account.new_state()
            if account.network not in mine:
                network = account.network.value
                state = replace(
                    state,
                    last_error=f"not read: the conversation is with you, so put your own "
                    f"{network} account under me: handles: ({network}: …)",
                )
            out.append(replace(state, person=account.person.name))
        return out

    def apply_moves(self) -> Moves:
        """Rewrite the watchlist for feeds that moved permanently, and carry their state."""
        self.watchlist  # a clear error when there is no watchlist  # noqa: B018
        moves = {s.url: s.moved_to for s in self.store.feeds() if s.moved_to}
        if not moves:
            return Moves({}, 0)
        return self._apply_moves(moves)

    def _apply_moves(self, moves: dict[str, str]) -> Moves:
        from engage.config import apply_moves as rewrite

        changed = rewrite(self.config_path, moves)
        with self.store.transaction() as tx:
            for state in tx.feeds():
                if state.url in moves and state.moved_to:
                    tx.remove_feed(state.url)
                    tx.put_feeds([replace(state, url=state.moved_to, moved_to=None)])
        self.refresh()
        return Moves(moves, changed)

    # -- polling and detection

    def poll(
        self,
        *,
        everything: bool = False,
        person: str | None = None,
        progress: ProgressStart | None = None,
    ) -> CycleSummary:
        """Poll what is due (everything with `everything`), store it, find interactions:
        the feeds, then the Mastodon and Bluesky accounts. `progress` is told the feed URLs
        of each round as it begins, and returns what is told each feed's outcome as that
        feed finishes."""
        from engage.poll.cycle import run_cycle

        watchlist = self.watchlist
        name = self.anyone(person).name if person is not None else None
        # The cycle stores and hashes under each person's key, and shows today's names.
        keys = self.keys()

        def shown(outcome: FeedOutcome) -> FeedOutcome:
            return replace(outcome, person=keys.display(outcome.person))

        def hooks(urls: Sequence[str]) -> ProgressHook:
            assert progress is not None
            hook = progress(urls)
            return lambda outcome: hook(shown(outcome))

        keyed = keys.keyed(watchlist)
        now = datetime.now(UTC)
        key = keys.key(name) if name is not None else None
        summary = run_cycle(
            keyed,
            self.store,
            now=now,
            everything=everything,
            person=key,
            progress=hooks if progress is not None else None,
        )
        summary = replace(summary, outcomes=tuple(shown(o) for o in summary.outcomes))
        if summary.interrupted is not None:
            return summary  # stopped: the accounts wait for the next poll too
        if not keyed.me.handles:
            # Accounts are read only on the networks I am on (social.accounts.plan): with
            # none of mine there is nothing to read, and the module is not even imported.
            return summary
        from engage.social.poller import poll_accounts

        try:
            social = poll_accounts(keyed, self.store, now=now, everything=everything, person=key)
        except KeyboardInterrupt:
            # Ctrl-C while the accounts were read: the feeds are stored, the accounts'
            # poll stores nothing (it writes once, at its end) and runs again next time.
            import signal

            return replace(summary, interrupted=signal.SIGINT)
        return replace(
            summary,
            accounts=tuple(replace(a, person=keys.display(a.person)) for a in social.accounts),
            new_events=summary.new_events + social.new_events,
            seconds=summary.seconds + social.seconds,
        )

    def detect(self, *, rebuild: bool = False) -> Detected:
        """Find interactions in what was polled; with `rebuild`, recompute every automatic
        event (manual ones and undo markers stay)."""
        from engage.detect import detect as find
        from engage.social.accounts import conversation

        watchlist = self.watchlist
        with self.store.transaction() as tx:
            keyed = self._keys_in(tx).keyed(watchlist)
            removed = tx.remove_auto_events() if rebuild else 0
            tx.note_latest_posts(tx.posts())
            trusted = {(t.site, t.name) for t in tx.trusted_names()}
            rules = watchlist.settings.meter
            found = find(keyed, tx.posts(), tx.comments(), rules=rules, trusted=trusted)
            # The Mastodon and Bluesky conversation, from the statuses the cache keeps.
            social = conversation(keyed, tx.social_accounts(), tx.social_posts())
            added = tx.add_events((*found.events, *social))
            evidence = tx.put_intro_evidence(found.intro_evidence)
        return Detected(len(added), removed, evidence, found.warnings, rebuild)

    # -- the user's own data

    def export(self) -> dict[str, Any]:
        """Everything the store holds, as one JSON-ready document with the schema version."""
        from engage.codec import to_json

        self.watchlist_if_any()
        snapshot = self.existing_store().snapshot()
        return {
            "engage_export": EXPORT_FORMAT,
            "schema": snapshot.schema,
            "meta": to_json(snapshot.meta),
            "feeds": to_json(snapshot.feeds),
            "events": to_json(snapshot.events),
            "tombstones": sorted(snapshot.tombstones),
            "confirmations": to_json(snapshot.confirmations),
            "trusted_names": to_json(snapshot.trusted_names),
            "intro_evidence": to_json(snapshot.intro_evidence),
            "linkedin_contacts": to_json(snapshot.linkedin_contacts),
            "posts": to_json(snapshot.posts),
            "comments": to_json(snapshot.comments),
            # Since export format 2: who is who (docs/design.md, "Identity"), and the undo
            # markers in full (`tombstones` lists their ids, as format 1 did).
            "identities": to_json(sorted(snapshot.identities, key=lambda i: fold_name(i.key))),
            "tombstone_records": to_json(snapshot.undone),
            # Added later in format 2: the Mastodon and Bluesky accounts' state and the
            # statuses kept for detection (docs/design.md, "Social APIs").
            "social_accounts": to_json(snapshot.social_accounts),
            "social_posts": to_json(snapshot.social_posts),
        }

    def forget(self, person: str, *, from_watchlist: bool = False) -> Forgotten:
        """Remove everything about a person from the data folder: found by name or alias as
        every command finds them, or by the name their data is stored under once they are
        no longer in the watchlist. With `from_watchlist`, their entry in feeds.yaml goes too
        (and their name from everyone's `knows:`), comments kept."""
        from engage.detect import identity_of
        from engage.social.accounts import social_addresses
        from engage.store import Forgetting

        watchlist = self.watchlist_if_any()
        store = self.existing_store()
        listed = watchlist.find(person) if watchlist is not None else None
        if watchlist is not None and listed is watchlist.me:
            raise EngageError(
                f"{person!r} is you (me: in {watchlist.path or 'the watchlist'}); forget "
                "removes what engage keeps about someone else"
            )
        snapshot = store.load_precious_only()
        known = snapshot.identities
        # Their records are filed under their key (docs/design.md, "Identity"); the
        # comments they wrote and their LinkedIn entry carry any name they ever went by.
        if watchlist is not None and listed is not None:
            who, key = listed, resolve(watchlist, known).key(listed.name)
        else:
            found = find_identity(known, person)
            if found is None:
                stored = {e.person for e in snapshot.events} | {f.person for f in snapshot.feeds}
                close = difflib.get_close_matches(person, sorted(stored), n=1, cutoff=0.75)
                near = close[0] if close else None
                return Forgotten(person, {}, None, watchlist is not None, near)
            who, key = Person(found.name), found.key
        identity = find_identity(known, key)
        names = identity.folded_names if identity is not None else (fold_name(key),)
        feeds = frozenset(ref.url for ref in who.feeds) | {
            f.url for f in snapshot.feeds if fold_name(f.person) == fold_name(key)
        }
        several = [n for n in (*who.aliases, *names) if len(n.split()) > 1]
        said = tuple(dict.fromkeys((who.name, *several)))
        # Their own sites only: a feed's host may be shared (a local server, a platform).
        them = Person(who.name, who.role, aliases=(*who.aliases, *names), sites=who.sites)
        addresses = social_addresses(who, key, snapshot.social_accounts)
        counts = store.forget(
            Forgetting(identity_of(filed_as(them, key)), feeds, said, addresses)
        )
        digests = (self.data_dir / DIGESTS_FOLDER).resolve()
        left = []
        counts["digest pages removed"] = 0
        for path in store.files_mentioning([*said, *feeds, *who.sites]):
            if path.resolve().parent == digests:  # made from the data: made again tomorrow
                path.unlink(missing_ok=True)
                counts["digest pages removed"] += 1
            else:
                left.append(path)
        unlisted = False
        if from_watchlist and listed is not None:
            from engage.config import remove_person

            remove_person(self.config_path, listed.name)
            self.refresh()
            self.watchlist  # the watchlist cache is written again, without them  # noqa: B018
            unlisted = True
        still = None if unlisted else listed
        had = watchlist is not None
        return Forgotten(who.name, counts, still, had, None, tuple(left), unlisted)

    def write_file(self, path: Path, text: str, what: str) -> None:
        """Write an export the user asked for, atomically, or say in one line why not."""
        from engage.files import atomic_write

        try:
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            raise EngageError(f"{path}: cannot write {what} ({exc.strerror or exc})") from None

    # -- the watchlist

    def init(
        self,
        name: str,
        *,
        aliases: Sequence[str] = (),
        sites: Sequence[str] = (),
        feeds: Sequence[str] = (),
    ) -> Path:
        """Write a commented starter watchlist with me in it; never over an existing one."""
        from engage import config

        text = config.starter(name, aliases=aliases, sites=sites, feeds=feeds)
        config.write_starter(self.config_path, text)
        self.refresh()
        return self.config_path

    def check_warnings(self) -> list[str]:
        """What `check` points out without failing (FILE:LINE:COL: warning: …)."""
        from engage import config

        self.watchlist  # the errors first  # noqa: B018
        return config.warnings(self.config_path)

    def add_person(
        self,
        name: str,
        *,
        sites: Sequence[str] = (),
        feeds: Sequence[str] = (),
        kind: str | None = None,
        aliases: Sequence[str] = (),
    ) -> None:
        from engage import config

        path = self._existing_watchlist()
        config.add_person(path, name, sites=sites, feeds=feeds, kind=kind, aliases=aliases)
        self.refresh()

    def add_feed(self, person: str, url: str, *, kind: str, title: str | None = None) -> None:
        from engage import config

        path = self._existing_watchlist()
        config.add_feed(path, person, url, kind=kind, title=title)
        self.refresh()

    def watchlist_warnings(self) -> list[str]:
        """`FILE:LINE:COL: warning: …` for control characters in the watchlist's values
        and comments (in a name or alias they are an error, raised by `watchlist`)."""
        from engage import config

        self.watchlist  # errors first  # noqa: B018
        return config.control_character_warnings(self.config_path)

    def _existing_watchlist(self) -> Path:
        if not self.config_path.exists():
            raise EngageError(
                f"{self.config_path}: no watchlist here (pass --config PATH, set "
                "ENGAGE_CONFIG, or copy the example feeds.yaml)"
            )
        return self.config_path

    def add(
        self,
        url: str,
        person: str,
        *,
        kind: str | None = None,
        comments: bool = True,
        create: bool = False,
    ) -> Added:
        """Find the feed behind a URL (a page, a feed, a platform handle) and add it. A
        Mastodon address or profile and a Bluesky profile also fill the person's `handles:`,
        so their conversation is read from the network's API (docs/design.md, "Social
        APIs"); their profile feed is looked for on the server settings.mastodon_api names."""
        from engage import config
        from engage.social.accounts import profile_feed, social_handle

        watchlist = self.watchlist
        # "me" is how add-feed names my own entry; add says it the same way.
        owner = watchlist.me if fold_name(person) == "me" else watchlist.find(person)
        if owner is None and not create:
            names = [p.name for p in watchlist.everyone()]
            guess = difflib.get_close_matches(person, names, n=1, cutoff=0.6)
            hint = f"did you mean '{guess[0]}'?" if guess else "pass --create to add them"
            raise EngageError(
                f"nobody called {person!r} in {watchlist.path or 'the watchlist'} ({hint})"
            )
        handle = social_handle(url)
        found = self._resolve(profile_feed(handle[1], watchlist.settings) if handle else url)
        if found.feed_url is None and handle is None:
            raise EngageError(found.error or f"no feed found at {url}")
        additions: list[tuple[str, FeedKind, str | None]] = []
        if found.feed_url is not None:
            feed_kind = FeedKind(kind) if kind else found.kind
            title = found.title
            additions.append((found.feed_url, feed_kind, title))
            if comments and found.comments_feed and found.comments_feed != found.feed_url:
                label = f"{title} (comments)" if title else None
                additions.append((found.comments_feed, FeedKind.COMMENTS, label))
        path = self.config_path
        entries = len(found.parsed.entries) if found.parsed is not None else 0
        feed_error = None if found.feed_url else (found.error or f"no feed found at {url}")
        named = (handle[0].value, str(handle[1])) if handle else None
        if owner is None:
            config.add_person(
                path,
                person,
                sites=[found.site_url] if found.site_url else [],
                feeds=[FeedRef(u, k, t) for u, k, t in additions],
            )
            if named is not None:
                config.set_handle(path, person, *named)
            self.refresh()
            return Added(
                person, True, tuple(AddedFeed(u, k) for u, k, _ in additions), entries,
                named, None, feed_error,
            )  # fmt: skip
        done: list[AddedFeed] = []
        for feed_url, feed_kind_added, feed_title in additions:
            listed = config.find_feed_owner(watchlist, feed_url)
            if listed is not None:
                done.append(AddedFeed(feed_url, feed_kind_added, listed.name))
                continue
            config.add_feed(path, owner.name, feed_url, kind=feed_kind_added, title=feed_title)
            done.append(AddedFeed(feed_url, feed_kind_added))
        kept = config.set_handle(path, owner.name, *named) if named is not None else None
        self.refresh()
        return Added(owner.name, False, tuple(done), entries, named, kept, feed_error)

    def _resolve(self, url: str) -> Resolution:
        from engage.poll.discover import find_feed

        return find_feed(url, self.watchlist.settings)

    def import_opml(
        self, data: bytes, *, label: str, person_from: str, kind: str, dry_run: bool = False
    ) -> OpmlImport:
        """Feeds from an OPML export: each folder (or each feed's title) is a person."""
        from engage.poll.opml import group_outlines, read_opml

        outlines = read_opml(data)
        if not outlines:
            raise EngageError(f"{label}: no feeds (no outline with an xmlUrl)")
        grouped = tuple(
            (name, tuple(feeds))
            for name, feeds in group_outlines(
                outlines, person_from=person_from, kind=FeedKind(kind)
            )
        )
        if dry_run:
            return OpmlImport(grouped, len(outlines), dry_run=True)
        from engage import config

        self.watchlist  # a clear error when there is no watchlist yet  # noqa: B018
        people_added, feeds_added = config.add_people(self.config_path, grouped)
        self.refresh()
        skipped = sum(len(feeds) for _, feeds in grouped) - feeds_added
        return OpmlImport(grouped, len(outlines), people_added, feeds_added, skipped)

    def export_opml(self) -> str:
        from engage.poll.opml import write_opml

        return write_opml(self.watchlist)

    def import_linkedin(self, text: str, *, label: str, strength: float) -> LinkedInImport:
        """The user's own LinkedIn export as contacts who could introduce them."""
        from engage.linkedin import match_people, parse_connections

        watchlist = self.watchlist
        found = parse_connections(text, strength=strength, label=label)
        matches = match_people(found.people, watchlist)
        # A connection who is a contact in feeds.yaml is stored under that contact's name,
        # so the introductions graph sees one node.
        people = [
            replace(m.connection, name=m.person.name) if m.person is not None else m.connection
            for m in matches
        ]
        with self.store.transaction() as tx:
            added, updated = tx.put_linkedin_contacts(people)
        notes = tuple(m.note for m in matches if m.note)
        return LinkedInImport(len(people), added, updated, found.skipped, notes)

    # -- who is who over time (docs/design.md, "Identity")

    def orphans(self) -> list[Orphan]:
        """Stored histories nobody in the watchlist resolves to (someone renamed by hand
        without keeping the old name as an alias), the most events first. Never makes a
        data folder: without one there is nothing to lose."""
        from engage.store import PRECIOUS

        if not (self.data_dir / PRECIOUS).exists():
            return []
        return self.world().orphans()

    def rename(self, old: str, new: str, *, keep_alias: bool = True) -> Renamed:
        """Rename someone in feeds.yaml and keep their whole history: their key stays, and
        learns the new name. When OLD is only a name in the stored history (a rename made
        by hand, without an alias), that history is linked to the person called NEW."""
        from engage import config

        path = self._existing_watchlist()
        watchlist = self.watchlist
        new = new.strip()
        listed = next(
            (p for p in watchlist.everyone() if fold_name(p.name) == fold_name(old)), None
        )
        with self.store.transaction() as tx:
            keys = self._keys_in(tx)
            if listed is not None:
                key = keys.key(listed.name)
                # The key learns the new name before the file changes: whichever write a
                # crash stops, the history still finds them.
                tx.remember_people([filed_as(replace(listed, name=new), key)])
                was = config.rename_person(path, listed.name, new, keep_alias=keep_alias)
                self.refresh()
                alias = keep_alias and fold_name(was) != fold_name(new)
                events = sum(fold_name(e.person) == fold_name(key) for e in tx.events())
                return Renamed(was, new, alias, False, events)
            return self._link(tx, keys, old, new, keep_alias=keep_alias)

    def _link(
        self, tx: Transaction, keys: Keys, old: str, new: str, *, keep_alias: bool
    ) -> Renamed:
        """OLD names a stored history nobody resolves to: it becomes NEW's (with NEW's own
        history, when they have one, filed under the same key)."""
        from engage import config

        watchlist = self.watchlist
        identity = keys.identity_of(old)
        if identity is None:
            names = [p.name for p in watchlist.everyone()]
            close = difflib.get_close_matches(old, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EngageError(
                f"nobody called {old!r} in {watchlist.path or 'the watchlist'}, and no history "
                f"stored under that name{hint}"
            )
        owner = keys.person(identity.key)
        if owner is not None and fold_name(new) != fold_name(owner.name):
            if watchlist.find(old) is owner:
                raise EngageError(
                    f"{old!r} is an alias of {owner.name} in {watchlist.path or 'feeds.yaml'}; "
                    f"to rename them: `engage rename {shlex.quote(owner.name)} "
                    f"{shlex.quote(new)}`"
                )
            target = self.person(new)
            raise EngageError(
                f"{old!r} is a former name of {owner.name}, whose history it is; if "
                f"{owner.name} and {target.name} are one person, run `engage merge "
                f"{shlex.quote(owner.name)} {shlex.quote(target.name)}`"
            )
        target = self.person(new) if owner is None else owner
        carried: dict[str, int] = {}
        if owner is None:
            before = keys.keyed(watchlist)
            after = replace(
                before,
                people=tuple(
                    filed_as(p, identity.key) if p.name == target.name else p
                    for p in before.people
                ),
                contacts=tuple(
                    filed_as(p, identity.key) if p.name == target.name else p
                    for p in before.contacts
                ),
            )
            carried = self._carry(
                tx, keys.key(target.name), identity.key, target.name, before, after
            )
        alias = False
        if keep_alias and watchlist.find(old) is None:
            alias = config.add_alias(self.config_path, target.name, old)
            self.refresh()
        folded = fold_name(identity.key)
        events = sum(fold_name(e.person) == folded for e in tx.events())
        return Renamed(old.strip(), target.name, alias, True, events, carried)

    def merge(self, keep: str, gone: str) -> Merged:
        """Two entries that turn out to be one person: GONE's feeds, names, sites, handles,
        notes and knows join KEEP's in feeds.yaml, and GONE's history is filed under KEEP,
        the same interaction seen twice kept once."""
        from engage import config

        path = self._existing_watchlist()
        watchlist = self.watchlist
        with self.store.transaction() as tx:
            keys = self._keys_in(tx)
            before = keys.keyed(watchlist)
            kept, merged, dropped = config.merge_people(path, keep, gone)
            self.refresh()
            after = keys.keyed(self.watchlist)
            carried = self._carry(tx, keys.key(merged), keys.key(kept), kept, before, after)
            tx.remember_people(after.everyone())
        return Merged(kept, merged, carried, tuple(dropped))

    def _carry(
        self,
        tx: Transaction,
        old_key: str,
        new_key: str,
        name: str,
        before: Watchlist,
        after: Watchlist,
    ) -> dict[str, int]:
        """File `old_key`'s history under `new_key`. Detected records get the ids the next
        detection gives them (found by detecting once as before and once as after the
        change), and records logged by hand the ids their key gives them now, so a
        re-poll adds nothing twice."""
        from engage.detect import detect
        from engage.identity import carried_ids, event_signature, evidence_signature, manual_ids

        rules = before.settings.meter
        posts, comments = tx.posts(), tx.comments()
        old = fold_name(old_key)
        moved_posts = [
            replace(p, person=new_key) if fold_name(p.person) == old else p for p in posts
        ]
        moved_comments = [
            replace(c, person=new_key) if fold_name(c.person) == old else c for c in comments
        ]
        was = detect(before, posts, comments, rules=rules)
        now = detect(after, moved_posts, moved_comments, rules=rules)

        def ident(item: Event | IntroEvidence) -> str:
            return item.id

        ids = {
            **carried_ids(
                was.events, now.events, event_signature(old_key), event_signature(new_key), ident
            ),
            **carried_ids(
                was.intro_evidence,
                now.intro_evidence,
                evidence_signature(old_key),
                evidence_signature(new_key),
                ident,
            ),
            **manual_ids(tx.events(), old_key, new_key),
        }
        return tx.rekey(old_key, new_key, name, ids)

    def import_export(self, data: bytes, *, label: str) -> Imported:
        """Restore an `engage export` document into this data folder, or merge it into the
        data already here: what is here stays, what is missing is added (the ids decide),
        in one transaction. A document from a newer engage is refused; an older one is
        migrated as an old data file would be."""
        import json

        from engage.errors import StoreError
        from engage.store import SCHEMA

        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise EngageError(f"{label}: not an engage export ({exc})") from None
        if not isinstance(document, dict) or "engage_export" not in document:
            raise EngageError(f"{label}: not an engage export (no engage_export field)")
        versions = {"export format": document["engage_export"], "schema": document.get("schema")}
        for what, value in versions.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise EngageError(f"{label}: the {what} {value!r} is not a version number")
        fmt, schema = document["engage_export"], document["schema"]
        for what, version, newest in (
            ("export format", fmt, EXPORT_FORMAT),
            ("schema", schema, SCHEMA),
        ):
            if version > newest:
                raise EngageError(
                    f"{label} was written by a newer engage ({what} {version}; this one reads "
                    f"up to {newest}): upgrade engage"
                )
        tables = _export_tables(document, label)
        with self.store.transaction() as tx:
            try:
                added = tx.restore(tables, schema)
            except StoreError as exc:
                raise EngageError(f"{label}: {exc}") from None
        offered = {name: len(docs) for name, docs in tables.items()}
        return Imported(added, offered, fmt, schema)

    # -- the web report: what a long-running surface reads from memory

    def template_folders(self) -> list[Path]:
        """Where the report's templates and static files are looked up, the user's folder
        first (as for the digest)."""
        from engage.templating import template_folders

        return template_folders(self.watchlist_if_any())

    def slugs(self) -> dict[str, str]:
        """Every person's and contact's page name (name -> slug), made again only when
        the watchlist changed (see `person_slugs`)."""
        watchlist = self.watchlist
        if self._slugs is None or self._slugs[0] is not watchlist:
            names = [p.name for p in (*watchlist.people, *watchlist.contacts)]
            self._slugs = (watchlist, person_slugs(names))
        return self._slugs[1]

    def person_by_slug(self, slug: str) -> Person | None:
        """The person or contact whose page is `slug`, or None."""
        wanted = slug.strip().casefold()
        for name, found in self.slugs().items():
            if found == wanted:
                return self.watchlist.find(name)
        return None

    def follow_ups(self, at: str | None = None) -> tuple[FollowUp, ...]:
        """The digest's follow-ups due at `at` (default now), the most overdue first: the
        list `agenda()` holds, without building the rest of the digest."""
        from engage.agenda import follow_ups_due

        now = self.moment(at)
        readings = self.world().readings(now)
        return follow_ups_due([readings[p.name] for p in self.watchlist.people], now)

    def feed_health(self) -> list[FeedState]:
        """What `feeds()` lists, and the Mastodon and Bluesky accounts as a feed's health
        reads (their profile page as the URL), from the read model already in memory (read
        again when engage.json changes), so a page does not parse the store each time."""
        from engage.social.accounts import as_feed

        world = self.world()
        accounts = self._listed_accounts(world.snapshot.social_accounts, world.keys)
        return [*self._listed_feeds(world.snapshot.feeds, world.keys), *map(as_feed, accounts)]

    def recent_posts(self, person: str, limit: int = 10) -> list[Post]:
        """Someone's newest posts, episodes and videos, from memory: cache.json is read
        again only when it changed since (a stat per call)."""
        from engage.store import CACHE

        who = self.anyone(person)
        key_of = self.world().keys.key  # posts are filed under the person's key
        try:
            stat = (self.store.folder / CACHE).stat()
            key: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = None
        loaded = self._posts
        if loaded.value is None or key is None or loaded.key != key:
            grouped: dict[str, list[Post]] = {}
            for post in self.store.posts():  # newest first
                grouped.setdefault(fold_name(post.person), []).append(post)
            loaded = self._posts = _Loaded(key, grouped)
        posts: list[Post] = loaded.value.get(fold_name(key_of(who.name)), [])
        return [p if p.person == who.name else replace(p, person=who.name) for p in posts[:limit]]

    def apply_move(self, url: str) -> Moves:
        """Apply the one proposed move of the feed at `url` (the report's button for it)."""
        self.watchlist  # a clear error when there is no watchlist  # noqa: B018
        state = next((s for s in self.store.feeds() if s.url == url), None)
        if state is None or not state.moved_to:
            raise EngageError(f"{url}: no move is proposed for this feed (see `engage feeds`)")
        return self._apply_moves({url: state.moved_to})

    def digest_page(self, day: date) -> str | None:
        """The stored page of the digest of `day`, or None when there is none."""
        page = self.data_dir / DIGESTS_FOLDER / f"{day.isoformat()}.html"
        try:
            return page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def _export_tables(document: dict[str, Any], label: str) -> dict[str, list[Any]]:
    """The store's tables in an export document, as the store keeps them."""
    tables: dict[str, list[Any]] = {}
    for name in ("identities", "feeds", "events", "confirmations", "trusted_names",
                 "intro_evidence", "linkedin_contacts", "posts", "comments", "social_accounts",
                 "social_posts"):  # fmt: skip
        docs = document.get(name, [])
        if not isinstance(docs, list):
            raise EngageError(f"{label}: {name} is not a list")
        tables[name] = docs
    meta = document.get("meta", {})
    if not isinstance(meta, dict):
        raise EngageError(f"{label}: meta is not an object")
    tables["meta"] = [{"key": key, "value": value} for key, value in meta.items()]
    records = document.get("tombstone_records")
    if records is None:  # export format 1 listed the ids only
        ids = document.get("tombstones", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise EngageError(f"{label}: tombstones is not a list of event ids")
        records = [{"id": i} for i in ids]
    if not isinstance(records, list):
        raise EngageError(f"{label}: tombstone_records is not a list")
    tables["tombstones"] = records
    return tables


def orphan_line(orphan: Orphan, where: str = "feeds.yaml") -> str:
    """The one line `check`, `status` and the digest say about a stored history nobody in
    the watchlist resolves to, with the command that fixes it."""
    name = orphan.identity.name
    count = f"{orphan.events} event{'s' if orphan.events != 1 else ''}"
    to = shlex.quote(orphan.successor) if orphan.successor else "'NEW NAME'"
    line = (
        f"{count} stored for {name!r}, who is not in {where} — renamed? "
        f"`engage rename {shlex.quote(name)} {to}`"
    )
    if orphan.successor is None:
        line += f"; gone for good? `engage forget {shlex.quote(name)}`"
    return line


def person_slugs(names: Sequence[str]) -> dict[str, str]:
    """A page name per person (name -> slug): the folded name with every run of other
    characters as one dash ("José Núñez" -> "jose-nunez"), so it survives a change of case
    or accents in feeds.yaml. Letters of any script are kept (a browser shows them; a URL
    carries them percent-encoded); a name with none becomes "person". Two names that would
    share a slug ("Mary-Ann Lee", "Mary Ann Lee") both get a short hash of their folded
    name, so neither page depends on the order of the file."""
    base = {}
    for name in names:
        folded = fold_name(name)
        base[name] = re.sub(r"[\W_]+", "-", folded).strip("-") or "person"
    taken: dict[str, int] = {}
    for slug in base.values():
        taken[slug] = taken.get(slug, 0) + 1
    return {
        name: slug
        if taken[slug] == 1
        else f"{slug}-{hashlib.sha1(fold_name(name).encode('utf-8')).hexdigest()[:6]}"
        for name, slug in base.items()
    }


def stage_words(stage: Stage) -> str:
    """'in dialogue' for in_dialogue: how a stage reads in a sentence or a table."""
    return stage.value.replace("_", " ")
