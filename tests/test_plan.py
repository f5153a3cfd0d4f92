"""Which feeds a poll cycle picks (pure: watchlist + stored state + now)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from engage.models import FeedKind, FeedRef, FeedState, Person, Role, Watchlist
from engage.poll.cycle import plan

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BLOG = "https://dana.example.org/feed/"
SITE_COMMENTS = "https://dana.example.org/comments/feed/"
THREAD = "https://dana.example.org/2026/11/a-post"
THREAD_FEED = "https://dana.example.org/2026/11/a-post/feed/"
MINE = "https://me.example.net/feed/"

WATCHLIST = Watchlist(
    me=Person(name="Me", role=Role.ME, feeds=(FeedRef(MINE),)),
    people=(
        Person(
            name="Dana",
            feeds=(FeedRef(BLOG), FeedRef("https://pod.example.org/dana.rss", FeedKind.PODCAST)),
        ),
    ),
)


def state(url: str, *, due_in: float | None = -1, **kw: object) -> FeedState:
    """A stored feed whose next check is `due_in` minutes from NOW (None: never polled)."""
    next_check = None if due_in is None else NOW + timedelta(minutes=due_in)
    person = str(kw.pop("person", "Dana"))
    return FeedState(url=url, person=person, next_check=next_check, **kw)  # type: ignore[arg-type]


@dataclass
class Case:
    stored: list[FeedState] = field(default_factory=list)
    everything: bool = False
    person: str | None = None
    threads: tuple[str, ...] = ()
    thread_feeds: dict[str, tuple[str, str]] = field(default_factory=dict)
    expect: set[str] = field(default_factory=set)


CASES = {
    "never-polled watched feeds are all due": Case(
        expect={MINE, BLOG, "https://pod.example.org/dana.rss"}
    ),
    "a feed checked recently is not due": Case(
        stored=[state(BLOG, due_in=30), state(MINE, due_in=-5)],
        expect={MINE, "https://pod.example.org/dana.rss"},
    ),
    "--all polls what is not due": Case(
        stored=[state(BLOG, due_in=30)],
        everything=True,
        expect={MINE, BLOG, "https://pod.example.org/dana.rss"},
    ),
    "--all still skips a gone feed": Case(
        stored=[state(BLOG, gone=True)],
        everything=True,
        expect={MINE, "https://pod.example.org/dana.rss"},
    ),
    "--person polls only that person, case-insensitively": Case(
        person="dana", expect={BLOG, "https://pod.example.org/dana.rss"}
    ),
    "a discovered site-wide comment feed is polled like any feed": Case(
        stored=[state(SITE_COMMENTS, kind=FeedKind.COMMENTS, discovered=True)],
        person="Dana",
        expect={BLOG, "https://pod.example.org/dana.rss", SITE_COMMENTS},
    ),
    "a discovered feed of someone no longer watched is dropped": Case(
        stored=[state(SITE_COMMENTS, person="Gone Person", discovered=True)],
        person="Gone Person",
        expect=set(),
    ),
    "a per-post feed of a live thread is polled": Case(
        stored=[state(THREAD_FEED, kind=FeedKind.COMMENTS, discovered=True, thread=THREAD)],
        person="Dana",
        threads=(THREAD,),
        expect={BLOG, "https://pod.example.org/dana.rss", THREAD_FEED},
    ),
    "a per-post feed of a thread quiet for 30 days is not": Case(
        stored=[state(THREAD_FEED, kind=FeedKind.COMMENTS, discovered=True, thread=THREAD)],
        person="Dana",
        everything=True,
        expect={BLOG, "https://pod.example.org/dana.rss"},
    ),
    "a thread I just joined brings its comment feed in": Case(
        person="Dana",
        threads=(THREAD + "/#comment-3",),  # threads are compared without the fragment
        thread_feeds={THREAD: (THREAD_FEED, "Dana")},
        expect={BLOG, "https://pod.example.org/dana.rss", THREAD_FEED},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plan(case: Case) -> None:
    planned = plan(
        WATCHLIST,
        case.stored,
        NOW,
        everything=case.everything,
        person=case.person,
        threads=case.threads,
        thread_feeds=case.thread_feeds,
    )
    assert {p.state.url for p in planned} == case.expect


def test_the_watchlist_decides_whose_feed_it_is_and_its_kind() -> None:
    stored = [state(BLOG, person="Someone Else", kind=FeedKind.PODCAST)]
    (dana,) = [p.state for p in plan(WATCHLIST, stored, NOW, person="Dana") if p.state.url == BLOG]
    assert (dana.person, dana.kind) == ("Dana", FeedKind.BLOG)
