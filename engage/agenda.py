"""The day's agenda: whom to ask, whom to answer, where to join in, who could introduce
me, who is going quiet, and which feeds need attention. Pure: readings, events, posts,
feed states and `now` in, an Agenda out.

The daily digest renders it as a page and an e-mail; the web report shows its follow-ups
at the top of the People page. Both take it from the application, so they agree.

Choices (docs/design.md, "The daily digest"):
- Follow-ups are every open obligation of every person (a meeting's follow-up, a reply I
  owe, an ask's one follow-up, a stay-in-touch note), ordered by how overdue each is
  relative to its own period, so a reply a week late outranks a stay-in-touch note a week
  late.
- Posts worth joining are those that arrived in the window (since the previous digest)
  and were published in the last week (a feed added today brings its archive, not news),
  ranked by how well they match my interests (title, summary and categories: each
  interest found counts 2) plus how close the person is to ready (their stage: ready 3,
  in dialogue 2, noticed 1, went cold 1.5 — a new post is a reason to reconnect —
  connected 1, asked and cold 0.5), newest first among equals, at most
  `PER_PERSON` per person and `MAX_POSTS` in all; each says why it is there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engage.intro import IntroPath
from engage.models import (
    COMPOSED_REPLIES,
    Action,
    Event,
    EventKind,
    FeedState,
    FeedStatus,
    Obligation,
    Post,
    Reading,
    Stage,
    Watchlist,
    fold_name,
)

PER_PERSON = 2
FRESH_DAYS = 7  # a post published longer ago is not news, whenever it was first seen
MAX_POSTS = 15
MAX_INTROS = 5
INTEREST_WEIGHT = 2.0
STAGE_WEIGHT: Mapping[Stage, float] = {
    Stage.READY: 3.0,
    Stage.IN_DIALOGUE: 2.0,
    Stage.WENT_COLD: 1.5,
    Stage.NOTICED: 1.0,
    Stage.CONNECTED: 1.0,
    Stage.ASKED: 0.5,
    Stage.COLD: 0.5,
}
# Only intro paths this strong are worth proposing in a digest (the product of the ties).
MIN_INTRO_STRENGTH = 0.2
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class ReadyToAsk:
    reading: Reading
    thread: Event | None  # their latest words to me: the shared thread to mention
    draft: str = ""  # a short ask, drafted from a template by the application; never sent


@dataclass(frozen=True)
class FollowUp:
    person: str
    obligation: Obligation
    reading: Reading

    @property
    def action(self) -> Action:
        return self.obligation.action


_THEIR_WORDS: Mapping[EventKind, str] = {
    EventKind.THEIR_REPLY: "reply",
    EventKind.THEIR_COMMENT_ON_MINE: "comment on your blog",
    EventKind.THEIR_EMAIL_OR_DM: "message",
    EventKind.THEIR_MENTION: "mention of you",
}


def follow_up_words(item: FollowUp, now: datetime) -> str:
    """What to do, in one sentence: the digest's and the report's wording of a follow-up."""
    event = item.obligation.event
    when = _when(event.when, now)
    if item.action is Action.FOLLOW_UP_MEETING:
        what = "meeting" if event.kind is EventKind.MET_IN_PERSON else "call"
        note = event.note.strip()
        where = f" {note}" if note.casefold().startswith("at ") else f" ({note})" if note else ""
        return f"Send the follow-up to your {what}{where} {when}."
    if item.action is Action.REPLY:
        noun = _THEIR_WORDS.get(event.kind, "words")
        return f"Answer their {noun} of {when.removeprefix('on ')}."
    if item.action is Action.FOLLOW_UP_ASK:
        return f"Send your one follow-up to your ask {when}: no answer yet."
    return f"Get back in touch: your last contact was {when}."


def _when(then: datetime, now: datetime) -> str:
    days = (now.date() - then.astimezone(now.tzinfo).date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"on {then.astimezone(now.tzinfo):%-d %b} ({days} days ago)"


@dataclass(frozen=True)
class PostPick:
    post: Post
    score: float
    reason: str  # why it is in the digest, in words


@dataclass(frozen=True)
class WarmIntro:
    person: str
    path: IntroPath


@dataclass(frozen=True)
class GoingCold:
    reading: Reading
    newest_post: Post | None  # a reason to get back in touch


@dataclass(frozen=True)
class FeedTrouble:
    feed: FeedState
    problem: str  # "failing", "moved" or "gone"
    detail: str  # what happened, and what to do about it, in words
    fix: str | None  # the command that deals with it, when one does


@dataclass(frozen=True)
class Agenda:
    day: date
    now: datetime  # the moment the meter was read at
    since: datetime  # posts that arrived after this are new
    ready: tuple[ReadyToAsk, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    posts: tuple[PostPick, ...] = ()
    intros: tuple[WarmIntro, ...] = ()
    going_cold: tuple[GoingCold, ...] = ()
    feeds: tuple[FeedTrouble, ...] = ()
    notes: tuple[str, ...] = field(default=())  # one-line notices (orphans, reviews waiting)

    @property
    def empty(self) -> bool:
        return not (
            self.ready or self.follow_ups or self.posts or self.intros or self.going_cold
            or self.feeds
        )  # fmt: skip

    def headline(self) -> str:
        """'2 ready to ask · 3 follow-ups · 14 new posts': what the day holds, in a line."""
        parts = [
            _count(len(self.ready), "ready to ask", "ready to ask"),
            _count(len(self.follow_ups), "follow-up", "follow-ups"),
            _count(len(self.posts), "new post", "new posts"),
            _count(len(self.intros), "warm introduction", "warm introductions"),
            _count(len(self.going_cold), "going cold", "going cold"),
            _count(len(self.feeds), "feed needs attention", "feeds need attention"),
        ]
        shown = [p for p in parts if not p.startswith("0 ")]
        return " · ".join(shown) if shown else "Nothing needs you today."


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def build_agenda(
    watchlist: Watchlist,
    readings: Mapping[str, Reading],
    events: Mapping[str, Sequence[Event]],
    posts: Sequence[Post],
    feeds: Sequence[FeedState],
    paths: Mapping[str, Sequence[IntroPath]],
    *,
    day: date,
    now: datetime,
    since: datetime,
) -> Agenda:
    """The agenda of `day`, read at `now`. `readings` and `paths` are by person name;
    `events` by folded person name (as the read model groups them); `posts` are every
    stored post, of which those first seen after `since` are new."""
    people = [readings[p.name] for p in watchlist.people if p.name in readings]
    return Agenda(
        day=day,
        now=now,
        since=since,
        ready=tuple(
            ReadyToAsk(r, _their_latest_words(events.get(fold_name(r.person), ()), now))
            for r in sorted(people, key=lambda r: -r.score)
            if r.stage is Stage.READY
        ),
        follow_ups=follow_ups_due(people, now),
        posts=_posts(watchlist, readings, posts, since, now),
        intros=_intros(people, paths),
        going_cold=_going_cold(people, posts, watchlist, now),
        feeds=_feeds(feeds),
    )


def _their_latest_words(events: Iterable[Event], now: datetime) -> Event | None:
    theirs = [e for e in events if e.kind in COMPOSED_REPLIES and e.when <= now]
    return max(theirs, key=lambda e: e.when) if theirs else None


def follow_ups_due(people: Iterable[Reading], now: datetime) -> tuple[FollowUp, ...]:
    """Every open obligation of these readings, the most overdue (for its period) first."""
    found = [FollowUp(r.person, owed, r) for r in people for owed in r.owed]
    found.sort(key=lambda f: (-f.obligation.overdue(now), f.obligation.due, f.person))
    return tuple(found)


def _matches(interests: Sequence[str], post: Post) -> list[str]:
    text = fold_name(
        " ".join((post.title, _TAG.sub(" ", html.unescape(post.summary)), *post.categories))
    )
    found = []
    for interest in interests:
        folded = fold_name(interest)
        if folded and re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", text):
            found.append(interest)
    return found


def _posts(
    watchlist: Watchlist,
    readings: Mapping[str, Reading],
    posts: Sequence[Post],
    since: datetime,
    now: datetime,
) -> tuple[PostPick, ...]:
    interests = watchlist.me.interests
    followed = {p.name for p in watchlist.people}
    oldest = now - timedelta(days=FRESH_DAYS)
    picks: list[PostPick] = []
    for post in posts:
        arrived = post.first_seen or post.published
        if post.person not in followed or arrived is None or not since < arrived <= now:
            continue
        if post.published is not None and post.published < oldest:
            continue  # first seen today, but old news (a feed just added, a late poll)
        reading = readings.get(post.person)
        stage = reading.stage if reading else Stage.COLD
        matched = _matches(interests, post)
        score = INTEREST_WEIGHT * len(matched) + STAGE_WEIGHT[stage]
        why = []
        if matched:
            why.append("matches your interests: " + ", ".join(matched))
        why.append(f"{post.person} is {_stage_phrase(stage)}")
        picks.append(PostPick(post, score, "; ".join(why)))
    picks.sort(
        key=lambda p: (-p.score, -(p.post.published or p.post.first_seen or now).timestamp())
    )
    chosen: list[PostPick] = []
    per_person: dict[str, int] = {}
    for pick in picks:
        person = pick.post.person
        if per_person.get(person, 0) >= PER_PERSON:
            continue
        per_person[person] = per_person.get(person, 0) + 1
        chosen.append(pick)
        if len(chosen) >= MAX_POSTS:
            break
    return tuple(chosen)


def _stage_phrase(stage: Stage) -> str:
    return {
        Stage.READY: "ready to ask: a comment now keeps the dialogue warm",
        Stage.IN_DIALOGUE: "in dialogue with you",
        Stage.WENT_COLD: "gone quiet: a reason to reconnect",
        Stage.NOTICED: "someone you have started to engage with",
        Stage.CONNECTED: "connected: a reason to stay in touch",
        Stage.ASKED: "waiting on your ask",
        Stage.COLD: "not in touch with you yet",
    }[stage]


def _intros(
    people: Iterable[Reading], paths: Mapping[str, Sequence[IntroPath]]
) -> tuple[WarmIntro, ...]:
    found = []
    for reading in people:
        if reading.stage in (Stage.READY, Stage.ASKED, Stage.CONNECTED):
            continue
        strong = [p for p in paths.get(reading.person, ()) if p.strength >= MIN_INTRO_STRENGTH]
        if strong and strong[0].evidence:
            found.append(WarmIntro(reading.person, strong[0]))
    found.sort(key=lambda w: -w.path.strength)
    return tuple(found[:MAX_INTROS])


def _going_cold(
    people: Iterable[Reading], posts: Sequence[Post], watchlist: Watchlist, now: datetime
) -> tuple[GoingCold, ...]:
    """People whose dialogue has gone quiet, or is going: gone cold, or in dialogue or ready
    with no contact at all within the recency window (their replies have stopped, and so
    have mine)."""
    newest: dict[str, Post] = {}
    for post in posts:
        when = post.published or post.first_seen
        if when is None or when > now:
            continue
        best = newest.get(post.person)
        if best is None or when > (best.published or best.first_seen or when):
            newest[post.person] = post
    window = timedelta(days=watchlist.settings.meter.recency_days)
    fading = []
    for reading in people:
        quiet = reading.last_contact is not None and now - reading.last_contact > window
        if reading.stage is Stage.WENT_COLD or (
            quiet and reading.stage in (Stage.IN_DIALOGUE, Stage.READY)
        ):
            fading.append(GoingCold(reading, newest.get(reading.person)))
    fading.sort(key=lambda g: (g.reading.last_contact or now))
    return tuple(fading)


def _feeds(feeds: Iterable[FeedState]) -> tuple[FeedTrouble, ...]:
    found = []
    for feed in feeds:
        if feed.gone or feed.status is FeedStatus.GONE:
            found.append(
                FeedTrouble(
                    feed,
                    "gone",
                    f"{feed.last_error or 'HTTP 410 Gone'}: the site says it is gone for good; "
                    "remove it from feeds.yaml, or put its new address there if it moved",
                    None,
                )
            )
        elif feed.moved_to:
            found.append(
                FeedTrouble(
                    feed,
                    "moved",
                    f"moved permanently to {feed.moved_to}",
                    "engage feeds --apply-moves",
                )
            )
        elif feed.status is FeedStatus.ERROR:
            times = f"{feed.failures} time{'s' if feed.failures != 1 else ''} in a row"
            found.append(
                FeedTrouble(
                    feed,
                    "failing",
                    f"{feed.last_error or 'failed'} ({times})",
                    None,
                )
            )
    order = {"gone": 0, "moved": 1, "failing": 2}
    found.sort(key=lambda t: (order[t.problem], t.feed.person, t.feed.url))
    return tuple(found)
