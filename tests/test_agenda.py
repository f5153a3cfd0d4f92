"""The day's agenda (engage.agenda), from events and posts through the real meter, with an
invented clock: each section's items and their order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from engage.agenda import build_agenda
from engage.meter import read_meter
from engage.models import (
    DIRECTION,
    Action,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    FeedState,
    FeedStatus,
    MeterRules,
    Person,
    Post,
    Role,
    Stage,
    Watchlist,
    fold_name,
)

K = EventKind
NOW = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)
RULES = MeterRules()
ME = Person("Wren Inkwell", Role.ME, interests=("feeds", "small web"))


def person(name: str) -> Person:
    return Person(name, Role.PERSON)


WATCHLIST = Watchlist(
    me=ME,
    people=tuple(person(n) for n in ("Ada", "Bram", "Cyra", "Dov", "Esme", "Fenn", "Gil")),
)


def ev(who: str, kind: EventKind, days_ago: float, url: str | None = None) -> Event:
    return Event(
        id=f"{who}:{kind.value}:{days_ago}",
        person=who,
        kind=kind,
        when=NOW - timedelta(days=days_ago),
        direction=DIRECTION[kind],
        source=EventSource.AUTO,
        url=url,
    )


EVENTS = [
    # Ada: ready (two replies on different days, three gives, score over 12).
    ev("Ada", K.MY_COMMENT, 20), ev("Ada", K.MY_COMMENT, 14), ev("Ada", K.MY_SHARE, 10),
    ev("Ada", K.THEIR_REPLY, 13, "https://ada.example/p1#c2"),
    ev("Ada", K.THEIR_COMMENT_ON_MINE, 3, "https://wren.example/post#c9"),
    ev("Ada", K.MY_COMMENT, 2),
    # Bram: met yesterday, no follow-up yet.
    ev("Bram", K.MET_IN_PERSON, 1),
    # Cyra: replied to my comment 9 days ago; I have not answered (a reply owed, overdue).
    ev("Cyra", K.MY_COMMENT, 12), ev("Cyra", K.THEIR_REPLY, 9, "https://cyra.example/p#c3"),
    # Dov: asked 8 days ago, no answer: the one follow-up is due.
    ev("Dov", K.MY_COMMENT, 40), ev("Dov", K.THEIR_REPLY, 39), ev("Dov", K.MY_COMMENT, 30),
    ev("Dov", K.THEIR_REPLY, 29), ev("Dov", K.MY_ASK, 8),
    # Esme: went cold (a dialogue 100 days ago).
    ev("Esme", K.MY_COMMENT, 101), ev("Esme", K.THEIR_REPLY, 100),
    # Fenn: nothing. Gil: one comment of mine (noticed).
    ev("Gil", K.MY_COMMENT, 5),
]  # fmt: skip


def post(
    who: str, title: str, hours_ago: float, summary: str = "", tags: tuple[str, ...] = ()
) -> Post:
    when = NOW - timedelta(hours=hours_ago)
    return Post(
        person=who,
        feed=f"https://{who.lower()}.example/feed/",
        id=f"{who}-{title}",
        link=f"https://{who.lower()}.example/{title.replace(' ', '-')}",
        title=title,
        published=when,
        summary=summary,
        first_seen=when,
        categories=tags,
    )


POSTS = [
    post("Ada", "Why feeds matter", 5, tags=("feeds",)),
    post("Ada", "Gardening", 6),
    post("Ada", "More on the small web and feeds", 7),
    post("Gil", "A small web directory", 3, summary="<p>about the <b>small web</b></p>"),
    post("Fenn", "Cooking", 2),
    post("Esme", "Back from a break", 30),
    post("Cyra", "Old news", 24 * 20),  # arrived before the window
]

FEEDS = [
    FeedState(url="https://ok.example/feed", person="Ada", status=FeedStatus.OK),
    FeedState(url="https://gone.example/feed", person="Bram", status=FeedStatus.GONE, gone=True),
    FeedState(
        url="https://err.example/feed", person="Cyra", status=FeedStatus.ERROR,
        last_error="HTTP 500 Internal Server Error", failures=3,
    ),
    FeedState(
        url="https://old.example/feed", person="Dov", status=FeedStatus.OK,
        moved_to="https://new.example/feed", kind=FeedKind.BLOG,
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def agenda():  # type: ignore[no-untyped-def]
    readings = {p.name: read_meter(p.name, EVENTS, NOW, RULES) for p in WATCHLIST.people}
    by_person: dict[str, list[Event]] = {}
    for e in EVENTS:
        by_person.setdefault(fold_name(e.person), []).append(e)
    return build_agenda(
        WATCHLIST, readings, by_person, POSTS, FEEDS, {},
        day=NOW.date(), now=NOW, since=NOW - timedelta(days=7),
    )  # fmt: skip


def test_ready_to_ask_names_their_latest_words(agenda) -> None:  # type: ignore[no-untyped-def]
    assert [r.reading.person for r in agenda.ready] == ["Ada"]
    assert agenda.ready[0].thread is not None
    assert agenda.ready[0].thread.url == "https://wren.example/post#c9"


def test_the_thread_to_mention_is_never_a_reply_that_rests_on_a_name_alone() -> None:
    # Ada's "Thanks, Wren!" yesterday answered a stranger who shares my first name.
    stranger = replace(
        ev("Ada", K.THEIR_REPLY, 1, "https://ada.example/p2#c14"),
        confirmed=False,
        name_matches=(("ada.example", "wren"),),
    )
    events = [*EVENTS, stranger]
    readings = {p.name: read_meter(p.name, events, NOW, RULES) for p in WATCHLIST.people}
    by_person: dict[str, list[Event]] = {}
    for e in events:
        by_person.setdefault(fold_name(e.person), []).append(e)
    found = build_agenda(
        WATCHLIST, readings, by_person, POSTS, FEEDS, {},
        day=NOW.date(), now=NOW, since=NOW - timedelta(days=7),
    )  # fmt: skip
    (ada,) = found.ready
    assert ada.thread is not None and ada.thread.url == "https://wren.example/post#c9"


def test_follow_ups_are_ordered_by_how_overdue_each_is(agenda) -> None:  # type: ignore[no-untyped-def]
    rows = [(f.person, f.action) for f in agenda.follow_ups]
    # Cyra's reply (owed for 9 days of a 7-day period: 1.29 periods), Bram's meeting
    # (its follow-up due since midnight, a 1-day period: 0.31), Dov's ask follow-up (due a
    # day ago, a 7-day period: 0.14).
    assert rows == [
        ("Cyra", Action.REPLY),
        ("Bram", Action.FOLLOW_UP_MEETING),
        ("Dov", Action.FOLLOW_UP_ASK),
    ]
    assert [round(f.obligation.overdue(NOW), 2) for f in agenda.follow_ups] == [1.29, 0.31, 0.14]


def test_posts_rank_by_interests_then_closeness_capped_per_person(agenda) -> None:  # type: ignore[no-untyped-def]
    titles = [(p.post.person, p.post.title) for p in agenda.posts]
    assert titles == [
        ("Ada", "More on the small web and feeds"),  # 2 interests + ready
        ("Ada", "Why feeds matter"),  # 1 interest (a category) + ready; newer wins the tie
        ("Gil", "A small web directory"),  # 1 interest (in the summary) + noticed
        ("Esme", "Back from a break"),  # went cold: a reason to reconnect
        ("Fenn", "Cooking"),  # cold
    ]
    assert agenda.posts[0].reason.startswith("matches your interests: feeds, small web")
    assert "Old news" not in [p.post.title for p in agenda.posts]


def test_going_cold_offers_their_newest_post(agenda) -> None:  # type: ignore[no-untyped-def]
    assert [(g.reading.person, g.reading.stage) for g in agenda.going_cold] == [
        ("Esme", Stage.WENT_COLD)
    ]
    assert agenda.going_cold[0].newest_post is not None
    assert agenda.going_cold[0].newest_post.title == "Back from a break"


def test_feeds_that_need_attention_say_what_to_do(agenda) -> None:  # type: ignore[no-untyped-def]
    rows = [(t.feed.url, t.problem, t.fix) for t in agenda.feeds]
    assert rows[0][:2] == ("https://gone.example/feed", "gone")
    assert rows[1] == ("https://old.example/feed", "moved", "engage feeds --apply-moves")
    assert rows[2][:2] == ("https://err.example/feed", "failing")
    assert "HTTP 500" in agenda.feeds[2].detail and "3 times" in agenda.feeds[2].detail


def test_the_headline_sums_it_up(agenda) -> None:  # type: ignore[no-untyped-def]
    assert agenda.headline() == (
        "1 ready to ask · 3 follow-ups · 5 new posts · 1 going cold · 3 feeds need attention"
    )


def test_an_empty_day_says_so() -> None:
    empty = build_agenda(
        Watchlist(me=ME), {}, {}, [], [], {}, day=NOW.date(), now=NOW, since=NOW
    )
    assert empty.empty
    assert empty.headline() == "Nothing needs you today."
