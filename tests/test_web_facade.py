"""What the web report asks of the facade, and the pure pieces of its pages: page slugs,
the digest's follow-ups on their own, one feed's move, recent posts kept until cache.json
changes, the readings of a few moments only, a stored digest through the allowlist, the
reading moment and how a moment is said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reportworld import MOVED_FROM, MOVED_TO, NOW, write_world

from engage.app import MOMENTS_KEPT, Engage, person_slugs
from engage.errors import EngageError
from engage.models import Post
from engage.safe_html import sanitize_page
from engage.store import Store
from engage.web.report import reading_moment
from engage.web.templating import moment_words


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engage:
    monkeypatch.setenv("ENGAGE_CACHE", str(tmp_path / "cache"))
    config, data = write_world(tmp_path)
    return Engage(config, data, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        pytest.param(["Ada Lanternfield"], ["ada-lanternfield"], id="a plain name"),
        pytest.param(["  José  NÚÑEZ "], ["jose-nunez"], id="case, accents and spaces fold"),
        pytest.param(["Conan O'Brien"], ["conan-o-brien"], id="punctuation is one dash"),
        pytest.param(["Иван Петров"], ["иван-петров"], id="any script's letters are kept"),
        pytest.param(["!!!"], ["person"], id="no letters at all"),
        pytest.param(
            ["Mary-Ann Lee", "Mary Ann Lee"],
            ["mary-ann-lee-b209d3", "mary-ann-lee-b8b8bd"],
            id="two names that would share a slug both get a hash",
        ),
        pytest.param(
            ["Mary Ann Lee", "Mary-Ann Lee"],
            ["mary-ann-lee-b8b8bd", "mary-ann-lee-b209d3"],
            id="whatever their order in the file",
        ),
    ],
)
def test_person_slugs(names: list[str], expected: list[str]) -> None:
    assert list(person_slugs(names).values()) == expected


def test_a_slug_finds_people_and_contacts_and_nothing_else(app: Engage) -> None:
    ada = app.person_by_slug("ada-lanternfield")
    hollis = app.person_by_slug("Hollis-Pennywhistle")
    assert ada is not None and ada.name == "Ada Lanternfield"
    assert hollis is not None and hollis.name == "Hollis Pennywhistle"  # a contact
    assert app.person_by_slug("wren-inkwell") is None  # me: no page
    assert app.person_by_slug("nobody") is None


def test_the_follow_ups_are_the_digests(app: Engage) -> None:
    at = NOW.isoformat()
    alone = app.follow_ups(at)
    assert alone == app.agenda().follow_ups
    assert [f.person for f in alone] == ["Cyra Moonwhistle", "Bram Quillhaven", "Ada Lanternfield"]


def test_one_move_is_applied_and_an_unknown_one_refused(app: Engage) -> None:
    with pytest.raises(EngageError, match="no move is proposed for this feed"):
        app.apply_move("https://ada.example.org/feed/")
    moves = app.apply_move(MOVED_FROM)
    assert moves.moves == {MOVED_FROM: MOVED_TO} and moves.changed == 1
    assert MOVED_TO in app.config_path.read_text(encoding="utf-8")
    assert {s.url for s in app.feed_health()} >= {MOVED_TO}
    assert MOVED_FROM not in {s.url for s in app.feed_health()}


def test_feed_health_lists_what_feeds_lists(app: Engage) -> None:
    assert app.feed_health() == app.feeds()


def test_recent_posts_come_from_memory_until_the_cache_changes(app: Engage) -> None:
    titles = [p.title for p in app.recent_posts("ada", limit=2)]
    assert titles == ["Why a feed is a promise", "Episode 12: the slow web"]
    assert app.recent_posts("Ada Lanternfield") is not app.recent_posts("Ada Lanternfield")
    fresh = Post(
        person="Ada Lanternfield", feed="https://ada.example.org/feed/", id="new",
        link="https://ada.example.org/new/", title="Just in", published=NOW,
    )  # fmt: skip
    with Store(app.data_dir).transaction(now=NOW) as tx:
        tx.put_posts([fresh])
    assert [p.title for p in app.recent_posts("Ada Lanternfield", limit=1)] == ["Just in"]
    assert app.recent_posts("Dov Teaselby") == []


def test_the_read_model_keeps_the_readings_of_a_few_moments(app: Engage) -> None:
    world = app.world()
    for minute in range(MOMENTS_KEPT + 3):
        world.readings(NOW + timedelta(minutes=minute))
    kept = world._readings  # what stays in memory is the point of this test
    assert len(kept) == MOMENTS_KEPT
    assert min(kept) == NOW + timedelta(minutes=3)  # the oldest went first


def test_a_stored_digest_is_read_back_and_only_by_its_day(app: Engage) -> None:
    built = app.build_digest("2026-03-09")
    assert app.digest_page(built.day) == built.page.read_text(encoding="utf-8")
    assert app.digest_page(built.day + timedelta(days=1)) is None


def test_a_page_of_ours_keeps_its_structure_and_loses_its_style_and_scripts() -> None:
    page = (
        '<!DOCTYPE html><html><head><title>Subject</title><style>p{color:red}</style>'
        '</head><body style="margin:0"><div style="x"><h1 style="y">Monday</h1>'
        '<h2>Ready</h2><p>Say hi <a href="javascript:alert(1)">here</a> or '
        '<a href="https://ada.example.org/" style="z">there</a>.</p>'
        "<script>alert(2)</script><pre>a draft</pre></div></body></html>"
    )
    assert sanitize_page(page) == (
        "<div><h1>Monday</h1><h2>Ready</h2><p>Say hi "
        '<a rel="nofollow noopener noreferrer">here</a> or '
        '<a href="https://ada.example.org/" rel="nofollow noopener noreferrer">there</a>.</p>'
        "<pre>a draft</pre></div>"
    )


@pytest.mark.parametrize(
    ("now", "moment"),
    [
        pytest.param("16:00:00", "16:00:00", id="a whole minute is its own moment"),
        pytest.param("16:00:00.5", "16:01:00", id="half a second in: the end of the minute"),
        pytest.param("16:59:59", "17:00:00", id="the last second of an hour"),
    ],
)
def test_the_reading_moment_is_the_end_of_the_minute(now: str, moment: str) -> None:
    day = "2026-03-10T"
    assert reading_moment(datetime.fromisoformat(day + now + "+00:00")) == datetime.fromisoformat(
        day + moment + "+00:00"
    )


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        pytest.param(timedelta(seconds=-20), "just now", id="seconds ago"),
        pytest.param(timedelta(minutes=-25), "25 min ago", id="minutes ago"),
        pytest.param(timedelta(minutes=40), "in 40 min", id="minutes ahead"),
        pytest.param(timedelta(hours=-1), "1 hour ago", id="one hour"),
        pytest.param(timedelta(hours=3, minutes=10), "in 3 hours", id="hours ahead"),
        pytest.param(timedelta(hours=-20), "20 hours ago", id="under a day is hours"),
        pytest.param(timedelta(days=-1), "yesterday", id="yesterday"),
        pytest.param(timedelta(days=1), "tomorrow", id="tomorrow"),
        pytest.param(timedelta(days=-12), "12 days ago", id="days ago"),
        pytest.param(timedelta(days=2, hours=1), "in 2 days", id="days ahead"),
    ],
)
def test_moment_words(delta: timedelta, words: str) -> None:
    now = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    assert moment_words(now + delta, now) == words
