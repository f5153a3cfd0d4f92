"""What the report's pages show, read through the facade and kept in memory.

Every page is built from the read model the facade keeps (`Engage.world()`, read again
only when engage.json or feeds.yaml changed on disk), so a page costs rendering, not
parsing the store. Two choices make the pages fast (docs/design.md, "Web report"):

- **The meter is read at the end of the current minute**, not at the exact moment of the
  request: the read model memoizes the readings of one moment, so everyone's reading is
  computed once a minute (or once after each change of the data), and every other request
  in that minute reuses it. Rounding up rather than down keeps an event logged a few
  seconds ago inside the reading.
- **A person's full reading** (the 180-day history, the introduction paths and the drafted
  note) is kept per moment for the people looked at recently, and forgotten when the data
  changes. The People page never computes a history.

One lock serializes the facade calls of the report's threads: the facade's caches are not
made for concurrent use, and a single user's pages are fast enough one at a time.
Writes go through the facade too (log, ask, undo, apply a move), and their outcome is
left as a `Flash` for the page the browser is sent back to.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from engage.agenda import follow_up_words
from engage.app import OUTCOMES
from engage.errors import EngageError
from engage.models import (
    Direction,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    FeedState,
    FeedStatus,
    Person,
    Post,
    Reading,
    Role,
    Stage,
    fold_name,
)
from engage.urls import thread_key, web_link

if TYPE_CHECKING:
    from engage.app import Engage, Explanation, Introduction, World
    from engage.intro import IntroPath

TIMELINE_SHOWN = 40  # events on a person's page before "show all"
POSTS_SHOWN = 8
PEOPLE_KEPT = 32  # full readings kept, per moment, for the people looked at recently
FLASHES_KEPT = 256

# How a kind reads on a page, and the groups of the log form.
KIND_LABELS: Mapping[EventKind, str] = {
    EventKind.THEIR_COMMENT_ON_MINE: "their comment on my blog",
    EventKind.THEIR_EMAIL_OR_DM: "their e-mail or message",
    EventKind.THEIR_REPLY: "their reply",
    EventKind.THEIR_MENTION: "their mention of me",
    EventKind.THEIR_SHARE: "their share of my post",
    EventKind.THEIR_FOLLOW: "their follow",
    EventKind.THEIR_LIKE: "their like",
    EventKind.MET_IN_PERSON: "met in person",
    EventKind.CALL: "call",
    EventKind.INTRO_REQUESTED: "introduction requested",
    EventKind.INTRO_ACCEPTED: "introduction accepted",
    EventKind.INTRO_DECLINED: "introduction declined",
    EventKind.MY_FAVOUR: "my favour",
    EventKind.MY_COMMENT: "my comment",
    EventKind.MY_EMAIL_OR_DM: "my e-mail or message",
    EventKind.MY_SHARE: "my share of their post",
    EventKind.MY_ASK: "my ask to connect",
    EventKind.ASK_ACCEPTED: "ask accepted",
    EventKind.ASK_DECLINED: "ask declined",
    EventKind.ASK_NO_ANSWER: "ask: no answer",
}
K = EventKind
LOG_GROUPS: tuple[tuple[str, tuple[EventKind, ...]], ...] = (
    ("Together", (K.MET_IN_PERSON, K.CALL)),
    ("From you", (K.MY_COMMENT, K.MY_EMAIL_OR_DM, K.MY_SHARE, K.MY_FAVOUR)),
    (
        "From them",
        (
            K.THEIR_REPLY, K.THEIR_COMMENT_ON_MINE, K.THEIR_EMAIL_OR_DM, K.THEIR_MENTION,
            K.THEIR_SHARE, K.THEIR_FOLLOW, K.THEIR_LIKE,
        ),
    ),
    ("Introductions", (K.INTRO_REQUESTED, K.INTRO_ACCEPTED, K.INTRO_DECLINED)),
    ("Asking to connect", (K.MY_ASK, K.ASK_ACCEPTED, K.ASK_DECLINED, K.ASK_NO_ANSWER)),
)  # fmt: skip
OUTCOME_OF = {kind: answer for answer, kind in OUTCOMES.items()}
POST_NOUNS = {FeedKind.PODCAST: "episode", FeedKind.VIDEO: "video", FeedKind.SOCIAL: "post"}
ATTENTION = (FeedStatus.ERROR, FeedStatus.GONE)


def kind_label(kind: EventKind | str) -> str:
    return KIND_LABELS.get(EventKind(kind), str(kind).replace("_", " "))


def reading_moment(now: datetime) -> datetime:
    """The end of the minute `now` falls in: the moment every page of that minute reads
    the meter at (see the module docstring)."""
    start = now.replace(second=0, microsecond=0)
    return start if start == now else start + timedelta(minutes=1)


@dataclass(frozen=True)
class Flash:
    """What a POST did, shown once on the page it redirects to."""

    tone: str  # success, warning, error: the notice's colour
    text: str
    event: Event | None = None  # a logged event, with its undo button
    # The ask guard: why asking would be a cold invitation, who could introduce instead,
    # and the form's values, to record it anyway.
    warning: str | None = None
    paths: tuple[IntroPath, ...] = ()
    form: Mapping[str, str] = field(default_factory=dict)


class Flashes:
    """The last few flashes, by a random id the redirect carries (`?flash=…`). Kept on
    the server, so a link from elsewhere cannot make a page say something."""

    def __init__(self, kept: int = FLASHES_KEPT) -> None:
        self._kept = kept
        self._items: OrderedDict[str, Flash] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, flash: Flash) -> str:
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._items[key] = flash
            while len(self._items) > self._kept:
                self._items.popitem(last=False)
        return key

    def get(self, key: str | None) -> Flash | None:
        if not key:
            return None
        with self._lock:
            return self._items.get(key)


@dataclass(frozen=True)
class PersonRow:
    reading: Reading
    slug: str


@dataclass(frozen=True)
class FollowUpRow:
    person: str
    slug: str | None
    action: str
    words: str
    url: str | None


@dataclass(frozen=True)
class TimelineItem:
    event: Event
    label: str
    url: str | None  # an http(s) link, or None
    undo_confirm: str | None  # removing an automatic event is for good: ask first


@dataclass(frozen=True)
class PostItem:
    post: Post
    noun: str  # post, episode, video
    url: str | None
    commented: bool  # a comment of mine on it is in the timeline already


@dataclass(frozen=True)
class FeedRow:
    state: FeedState
    slug: str | None
    url: str | None
    attention: bool


@dataclass
class _Seen:
    """One person's full reading at one moment, and what their page derives from their
    events (a busy person has thousands: done once, not on every request)."""

    explanation: Explanation
    introduction: Introduction
    events: list[Event]  # newest first, up to the moment
    chart: list[tuple[datetime, str, str]]  # the chart's marks
    commented: frozenset[str]  # the threads of my comments (urls.thread_key)


class Report:
    """The pages' data, read through one `Engage`; see the module docstring."""

    def __init__(self, app: Engage) -> None:
        self.app = app
        self.flashes = Flashes()
        self._lock = threading.Lock()
        self._world: World | None = None
        self._seen: OrderedDict[tuple[datetime, str], _Seen] = OrderedDict()
        self._feeds: list[FeedState] | None = None

    # -- reading

    def _fresh(self) -> tuple[datetime, datetime]:
        """(now, the reading moment), forgetting what was kept from older data."""
        world = self.app.world()
        if world is not self._world:
            self._world = world
            self._seen.clear()
            self._feeds = None
        now = self.app.now()
        return now, reading_moment(now)

    def _slug(self, name: str) -> str | None:
        return self.app.slugs().get(name)

    def _feed_health(self) -> list[FeedState]:
        """Every feed's health, once per change of the data (after `_fresh`)."""
        if self._feeds is None:
            self._feeds = self.app.feed_health()
        return self._feeds

    def people(self, *, stage: str = "", query: str = "") -> dict[str, Any]:
        with self._lock:
            now, moment = self._fresh()
            at = moment.isoformat()
            readings = self.app.status(at)
            counts = {s: 0 for s in Stage}
            for reading in readings:
                counts[reading.stage] += 1
            folded = fold_name(query)
            watchlist = self.app.watchlist
            slugs = self.app.slugs()
            chosen = [
                PersonRow(r, slugs.get(r.person, ""))
                for r in readings
                if (not stage or r.stage.value == stage)
                and (not folded or _matches(watchlist.find(r.person), r.person, folded))
            ]
            follow_ups = [
                FollowUpRow(
                    item.person,
                    slugs.get(item.person),
                    item.action.value,
                    follow_up_words(item, now),
                    web_link(item.obligation.event.url),
                )
                for item in self.app.follow_ups(at)
            ]
            rules = watchlist.settings.meter
            return {
                "now": now,
                "moment": moment,
                "rows": chosen,
                "total": len(readings),
                "stage": stage,
                "query": query,
                "stages": [(s, counts[s]) for s in Stage],
                "follow_ups": follow_ups,
                "ready": rules.ready_score,
            }

    def person(self, slug: str, *, everything: bool = False) -> dict[str, Any] | None:
        with self._lock:
            who = self.app.person_by_slug(slug)
            if who is None:
                return None
            now, moment = self._fresh()
            seen = self._explained(who, moment)
            explanation = seen.explanation
            rules = self.app.watchlist.settings.meter
            events = seen.events
            kinds = {ref.url: ref.kind for ref in who.feeds}
            feeds = [s for s in self._feed_health() if s.person == who.name]
            kinds.update((s.url, s.kind) for s in feeds)
            posts = [
                PostItem(
                    post,
                    POST_NOUNS.get(kinds.get(post.feed, FeedKind.BLOG), "post"),
                    web_link(post.link),
                    bool(post.link) and thread_key(post.link or "") in seen.commented,
                )
                for post in self.app.recent_posts(who.name, POSTS_SHOWN)
            ]
            shown = events if everything else events[:TIMELINE_SHOWN]
            return {
                "now": now,
                "moment": moment,
                "person": who,
                "slug": self._slug(who.name) or slug,
                "contact": who.role is Role.CONTACT,
                "reading": explanation.reading,
                "explanation": explanation,
                "introduction": seen.introduction,
                "ready": rules.ready_score,
                "leave_ready": rules.ready_exit_score,
                "chart_events": seen.chart,
                "today": moment.date(),
                "timeline": [_timeline_item(e) for e in shown],
                "events_total": len(events),
                "everything": everything or len(events) <= TIMELINE_SHOWN,
                "posts": posts,
                "feeds": [self._feed_row(s, self.app.slugs()) for s in feeds],
                "slugs": self.app.slugs(),
                "log_groups": LOG_GROUPS,
                "kind_labels": KIND_LABELS,
            }

    def _explained(self, who: Person, moment: datetime) -> _Seen:
        key = (moment, who.name)
        seen = self._seen.get(key)
        if seen is None:
            at = moment.isoformat()
            explanation = self.app.explain(who.name, at)
            introduction = self.app.intro(who.name, at=at)
            events = sorted(
                self.app.world().events_of(who.name, moment),
                key=lambda e: (e.when, e.id),
                reverse=True,
            )
            commented = frozenset(
                thread_key(e.url) for e in events if e.kind is EventKind.MY_COMMENT and e.url
            )
            chart = _chart_marks(events, moment)
            seen = self._seen[key] = _Seen(explanation, introduction, events, chart, commented)
            while len(self._seen) > PEOPLE_KEPT:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        return seen

    def feeds(self) -> dict[str, Any]:
        with self._lock:
            now, _moment = self._fresh()
            slugs = self.app.slugs()
            rows = [self._feed_row(s, slugs) for s in self._feed_health()]
            rows.sort(key=lambda r: (not r.attention, r.state.person, r.state.url))
            return {
                "now": now,
                "rows": rows,
                "attention": sum(r.attention for r in rows),
                "moved": sum(bool(r.state.moved_to) for r in rows),
            }

    @staticmethod
    def _feed_row(state: FeedState, slugs: Mapping[str, str]) -> FeedRow:
        attention = state.status in ATTENTION or state.gone or bool(state.moved_to)
        return FeedRow(state, slugs.get(state.person), web_link(state.url), attention)

    def digests(self) -> dict[str, Any]:
        with self._lock:
            return {"now": self.app.now(), "days": [day for day, _ in self.app.digests()]}

    def digest(self, day: date) -> str | None:
        with self._lock:
            return self.app.digest_page(day)

    # -- the JSON endpoints: the CLI's shapes

    def api_people(self, at: str | None) -> list[dict[str, Any]]:
        from engage.views import reading_json

        with self._lock:
            _now, moment = self._fresh()
            return [reading_json(r) for r in self.app.status(at or moment.isoformat())]

    def api_person(self, slug: str, at: str | None) -> dict[str, Any] | None:
        from engage.views import explanation_json

        with self._lock:
            who = self.app.person_by_slug(slug)
            if who is None:
                return None
            _now, moment = self._fresh()
            if at is None:
                return explanation_json(self._explained(who, moment).explanation)
            return explanation_json(self.app.explain(who.name, at))

    def api_feeds(self) -> list[dict[str, Any]]:
        from engage.views import feed_json

        with self._lock:
            self._fresh()
            return [feed_json(s) for s in self._feed_health()]

    def api_events(
        self, person: str | None, kind: str | None, since: str | None
    ) -> list[dict[str, Any]]:
        from engage.views import event_json

        with self._lock:
            return [event_json(e) for e in self.app.events(person, kind=kind, since=since)]

    # -- writing: each returns where to go back to and what to say there

    def log(self, slug: str, form: Mapping[str, str]) -> Flash:
        """The log form: a kind, a date (empty or today: now), a URL and a note. An ask
        goes through the facade's guard; an ask's answer through `outcome`."""
        with self._lock:
            who = self._person(slug)
            kind = EventKind(form.get("kind", "")) if form.get("kind") in KIND_LABELS else None
            if kind is None:
                return Flash("error", "Choose what happened from the list.")
            when = self._when(form.get("date", ""))
            url = form.get("url", "").strip() or None
            note = form.get("note", "").strip()
            if url is not None and web_link(url) is None:
                return Flash(
                    "error", "The link must be a full web address (https://…).", form=form
                )
            try:
                if kind is EventKind.MY_ASK:
                    return self._ask(who, form, when, note)
                if kind in OUTCOME_OF:
                    logged = self.app.outcome(who.name, OUTCOME_OF[kind], when=when, note=note)
                else:
                    logged = self.app.log(who.name, kind, when=when, url=url, note=note)
            except EngageError as exc:
                return Flash("error", str(exc), form=form)
            if logged.event is None:
                return Flash(
                    "warning",
                    f"Already in the timeline: {kind_label(kind)} with {who.name} at this "
                    "time. Nothing was added; give another date or a note to log another.",
                )
            return Flash(
                "success", f"Logged {kind_label(kind)} with {who.name}.", event=logged.event
            )

    def _ask(self, who: Person, form: Mapping[str, str], when: str | None, note: str) -> Flash:
        asked = self.app.ask(who.name, when=when, note=note, anyway=form.get("anyway") == "1")
        if asked.refused:
            return Flash(
                "warning",
                f"Asking {who.name} now would be a cold invitation. Nothing was recorded.",
                warning=asked.warning,
                paths=asked.paths,
                form={k: form.get(k, "") for k in ("kind", "date", "note")},
            )
        event = asked.logged.event if asked.logged else None
        said = f"Recorded your ask to connect with {who.name}."
        if asked.warning:
            said += " (Recorded anyway, though it was a cold invitation.)"
        said += f" One follow-up is fair after {asked.follow_up_days} days."
        return Flash("success", said, event=event)

    def commented(self, slug: str, url: str) -> Flash:
        """The one-click "I commented on this" of a post: my_comment, now, that URL."""
        with self._lock:
            who = self._person(slug)
            link = web_link(url)
            if link is None:
                return Flash("error", "That post has no web address to log.")
            logged = self.app.log(who.name, EventKind.MY_COMMENT, url=link)
            if logged.event is None:
                return Flash("warning", "That comment is already in the timeline.")
            return Flash(
                "success", f"Logged your comment on {link}.", event=logged.event
            )

    def undo(self, event_id: str) -> tuple[str | None, Flash]:
        with self._lock:
            try:
                removed = self.app.undo(event_id)
            except EngageError as exc:
                return None, Flash("error", str(exc))
            local = removed.when.astimezone(self.app.now().tzinfo)
            said = f"Removed {kind_label(removed.kind)} of {local:%Y-%m-%d}."
            if removed.source is EventSource.AUTO:
                said += " Detection will not bring it back."
            return removed.person, Flash("success", said)

    def move(self, url: str) -> Flash:
        with self._lock:
            try:
                moves = self.app.apply_move(url)
            except EngageError as exc:
                return Flash("error", str(exc))
            new = moves.moves.get(url, "")
            return Flash("success", f"feeds.yaml now follows {new} instead of {url}.")

    def slug_of(self, name: str | None) -> str | None:
        if name is None:
            return None
        with self._lock:
            return self._slug(name)

    def _person(self, slug: str) -> Person:
        who = self.app.person_by_slug(slug)
        if who is None:
            raise LookupError(slug)
        return who

    def _when(self, day: str) -> str | None:
        """A date from the form as the facade reads WHEN: empty or today means now (so
        two things logged today keep their order); another day means its start."""
        day = day.strip()
        if not day or day == self.app.now().date().isoformat():
            return None
        return day


def _matches(person: Person | None, name: str, folded: str) -> bool:
    names = (name, *(person.aliases if person else ()))
    return any(folded in fold_name(n) for n in names)


def _timeline_item(event: Event) -> TimelineItem:
    confirm = (
        "Remove this event found in a feed? Detection will not bring it back."
        if event.source is EventSource.AUTO
        else None
    )
    return TimelineItem(event, kind_label(event.kind), web_link(event.url), confirm)


def _chart_marks(events: Sequence[Event], moment: datetime) -> list[tuple[datetime, str, str]]:
    """The events of the chart's window as (when, kind, direction), one per day, kind and
    direction: a busy person's 2,000 comments in six months would otherwise be 2,000
    shapes stacked three deep."""
    start = moment - timedelta(days=181)
    seen: set[tuple[date, EventKind, Direction]] = set()
    marks = []
    for event in events:
        if not start <= event.when <= moment:
            continue
        local = event.when.astimezone(moment.tzinfo)
        key = (local.date(), event.kind, event.direction)
        if key not in seen:
            seen.add(key)
            marks.append((local, event.kind.value, event.direction.value))
    return marks
