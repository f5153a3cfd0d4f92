"""When a feed is next due, and what one fetch does to its state: every rule of
docs/design.md ("Polling") as a named row, against an invented clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engage.models import FeedState, FeedStatus, FetchResult
from engage.poll.schedule import (
    after_fetch,
    backoff,
    freshness_until,
    is_due,
    is_https_upgrade,
    jitter,
    next_check,
    parse_retry_after,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
WEEK = timedelta(days=7)
URL = "http://blog.example.org/feed/"


def named(cases: list[tuple[Any, ...]]) -> pytest.MarkDecorator:
    """Parametrize with each case's first element as its id."""
    return pytest.mark.parametrize("case", [c[1:] for c in cases], ids=[c[0] for c in cases])


# ---------------------------------------------------------------------------
# Retry-After


@named(
    [
        ("delay in seconds", "120", NOW + timedelta(seconds=120)),
        ("zero seconds means now", "0", NOW),
        ("whitespace around the seconds", "  3600 ", NOW + HOUR),
        ("HTTP date in the future", "Mon, 02 Mar 2026 11:00:00 GMT", NOW + 2 * HOUR),
        ("HTTP date with another offset", "Mon, 02 Mar 2026 11:00:00 +0100", NOW + HOUR),
        ("RFC 850 date", "Monday, 02-Mar-26 11:00:00 GMT", NOW + 2 * HOUR),
        ("asctime date is read as GMT", "Mon Mar  2 11:00:00 2026", NOW + 2 * HOUR),
        ("HTTP date in the past means now", "Sun, 01 Mar 2026 09:00:00 GMT", NOW),
        ("Retry-After over 7 days is capped (seconds)", "1209600", NOW + WEEK),
        ("Retry-After over 7 days is capped (date)", "Wed, 01 Apr 2026 09:00:00 GMT", NOW + WEEK),
        ("absurdly many seconds do not overflow", "9" * 40, NOW + WEEK),
        ("no header", None, None),
        ("empty header", "", None),
        ("a word is garbage", "soon", None),
        ("negative seconds are garbage", "-5", None),
        ("fractional seconds are garbage (RFC 9110: digits only)", "1.5", None),
        ("non-ASCII digits are garbage", "١٢٠", None),
    ]
)
def test_parse_retry_after(case: tuple[str | None, datetime | None]) -> None:
    value, expected = case
    assert parse_retry_after(value, NOW) == expected


# ---------------------------------------------------------------------------
# Cache-Control / Expires


@named(
    [
        ("max-age alone", "max-age=600", None, NOW + 10 * MINUTE),
        (
            "max-age wins over a later Expires",
            "max-age=600",
            "Mon, 02 Mar 2026 15:00:00 GMT",
            NOW + 10 * MINUTE,
        ),
        (
            "max-age wins over an earlier Expires",
            "max-age=7200",
            "Mon, 02 Mar 2026 09:30:00 GMT",
            NOW + 2 * HOUR,
        ),
        ("Expires alone", None, "Mon, 02 Mar 2026 12:00:00 GMT", NOW + 3 * HOUR),
        ("Expires in the past imposes no wait", None, "Mon, 02 Mar 2026 08:00:00 GMT", None),
        ("Expires 0 (already expired) imposes no wait", None, "0", None),
        ("no-cache imposes no wait even with max-age", "no-cache, max-age=3600", None, None),
        ("no-store imposes no wait", "no-store", "Mon, 02 Mar 2026 12:00:00 GMT", None),
        ("directives are case-insensitive", "public, MAX-AGE=300", None, NOW + 5 * MINUTE),
        ("a quoted max-age is read", 'max-age="120"', None, NOW + 2 * MINUTE),
        ("max-age over 7 days is capped", "max-age=31536000", None, NOW + WEEK),
        ("Expires over 7 days is capped", None, "Tue, 01 Dec 2026 00:00:00 GMT", NOW + WEEK),
        (
            "an unreadable max-age falls back to Expires",
            "max-age=soon",
            "Mon, 02 Mar 2026 10:00:00 GMT",
            NOW + HOUR,
        ),
        ("the first of two max-age directives wins", "max-age=60, max-age=600", None, NOW + MINUTE),
        ("private alone says nothing about time", "private", None, None),
        ("no headers at all", None, None, None),
        ("an unreadable Expires", None, "next Tuesday", None),
    ]
)
def test_freshness_until(case: tuple[str | None, str | None, datetime | None]) -> None:
    cache_control, expires, expected = case
    assert freshness_until(cache_control, expires, NOW) == expected


# ---------------------------------------------------------------------------
# Backoff


@named(
    [
        ("no failures, no backoff", 0, HOUR, timedelta(0)),
        ("a negative count is treated as none", -3, HOUR, timedelta(0)),
        ("one failure waits one interval", 1, HOUR, HOUR),
        ("two failures double it", 2, HOUR, 2 * HOUR),
        ("three failures wait four intervals", 3, HOUR, 4 * HOUR),
        ("eight failures wait 128 hours, still under the cap", 8, HOUR, 128 * HOUR),
        ("nine hourly failures reach the 7-day cap", 9, HOUR, WEEK),
        ("a thousand failures stay at the cap, never infinite", 1000, HOUR, WEEK),
        ("a daily interval reaches the cap sooner", 4, timedelta(days=1), WEEK),
    ]
)
def test_backoff(case: tuple[int, timedelta, timedelta]) -> None:
    failures, interval, expected = case
    assert backoff(failures, interval) == expected


def test_backoff_grows_monotonically_up_to_the_cap() -> None:
    waits = [backoff(n, 15 * MINUTE) for n in range(0, 40)]
    assert waits == sorted(waits)
    assert waits[-1] == WEEK
    assert all(w <= WEEK for w in waits)


# ---------------------------------------------------------------------------
# Jitter


def test_jitter_is_repeatable() -> None:
    assert jitter(URL, NOW, HOUR) == jitter(URL, NOW, HOUR)


def test_jitter_stays_within_ten_percent_and_spreads_feeds_both_ways() -> None:
    offsets = [jitter(f"https://site{i}.example/feed", NOW, HOUR) for i in range(300)]
    assert all(abs(o) <= 6 * MINUTE for o in offsets)
    assert any(o < -3 * MINUTE for o in offsets)
    assert any(o > 3 * MINUTE for o in offsets)
    assert len(set(offsets)) > 250  # spread out, not a handful of buckets


def test_jitter_changes_with_time_so_a_feed_does_not_keep_one_offset() -> None:
    offsets = {jitter(URL, NOW + n * HOUR, HOUR) for n in range(20)}
    assert len(offsets) > 15


def test_jitter_of_a_zero_interval_is_zero() -> None:
    assert jitter(URL, NOW, timedelta(0)) == timedelta(0)


# ---------------------------------------------------------------------------
# next_check


@dataclass(frozen=True)
class Due:
    """The expected next check as a window after NOW (equal ends: an exact time)."""

    earliest: timedelta
    latest: timedelta

    @classmethod
    def exactly(cls, after: timedelta) -> Due:
        return cls(after, after)


def around(interval: timedelta) -> Due:
    return Due(interval * 0.9, interval * 1.1)


@dataclass(frozen=True)
class Inputs:
    interval_minutes: int = 60
    failures: int = 0
    retry_after: datetime | None = None
    fresh_until: datetime | None = None
    ttl_minutes: int | None = None
    update_minutes: int | None = None
    url: str = URL
    extra: dict[str, Any] = field(default_factory=dict)


@named(
    [
        ("the interval alone, give or take 10%", Inputs(), around(HOUR)),
        (
            "floor of 15 minutes applies to a 5-minute interval",
            Inputs(interval_minutes=5),
            Due(15 * MINUTE, 16.5 * MINUTE),
        ),
        (
            "a zero interval falls to the floor",
            Inputs(interval_minutes=0),
            Due(15 * MINUTE, 16.5 * MINUTE),
        ),
        ("ttl longer than the interval wins", Inputs(ttl_minutes=180), Due.exactly(3 * HOUR)),
        ("ttl shorter than the interval changes nothing", Inputs(ttl_minutes=10), around(HOUR)),
        ("a ttl of 0 is ignored", Inputs(ttl_minutes=0), around(HOUR)),
        (
            "sy:update period longer than the interval wins",
            Inputs(update_minutes=1440),
            Due.exactly(timedelta(days=1)),
        ),
        (
            "ttl and sy:update: the longer wins",
            Inputs(ttl_minutes=120, update_minutes=360),
            Due.exactly(6 * HOUR),
        ),
        (
            "a month-long ttl is capped at 7 days",
            Inputs(ttl_minutes=60 * 24 * 30),
            Due.exactly(WEEK),
        ),
        (
            "Retry-After later than the interval wins",
            Inputs(retry_after=NOW + 3 * HOUR),
            Due.exactly(3 * HOUR),
        ),
        (
            "Retry-After sooner than the interval changes nothing",
            Inputs(retry_after=NOW + 5 * MINUTE),
            around(HOUR),
        ),
        (
            "a Retry-After time beyond 7 days is capped",
            Inputs(retry_after=NOW + timedelta(days=30)),
            Due.exactly(WEEK),
        ),
        (
            "freshness longer than the interval wins",
            Inputs(fresh_until=NOW + 4 * HOUR),
            Due.exactly(4 * HOUR),
        ),
        (
            "freshness beyond 7 days is capped",
            Inputs(fresh_until=NOW + timedelta(days=60)),
            Due.exactly(WEEK),
        ),
        ("one failure waits about one interval", Inputs(failures=1), Due(HOUR, 1.1 * HOUR)),
        ("the third failure waits four intervals", Inputs(failures=3), Due.exactly(4 * HOUR)),
        (
            "backoff and Retry-After: the later wins",
            Inputs(failures=2, retry_after=NOW + 5 * HOUR),
            Due.exactly(5 * HOUR),
        ),
        (
            "backoff over a long ttl: the later wins",
            Inputs(failures=5, ttl_minutes=600),
            Due.exactly(16 * HOUR),
        ),
        ("backoff is capped at 7 days", Inputs(failures=50), Due.exactly(WEEK)),
        (
            "the backoff of a 5-minute interval doubles the 15-minute floor",
            Inputs(interval_minutes=5, failures=3),
            Due.exactly(60 * MINUTE),
        ),
        (
            "the user's own two-week interval is not capped",
            Inputs(interval_minutes=60 * 24 * 14),
            around(timedelta(days=14)),
        ),
    ]
)
def test_next_check(case: tuple[Inputs, Due]) -> None:
    given, due = case
    when = next_check(
        NOW,
        interval_minutes=given.interval_minutes,
        url=given.url,
        failures=given.failures,
        retry_after=given.retry_after,
        fresh_until=given.fresh_until,
        ttl_minutes=given.ttl_minutes,
        update_minutes=given.update_minutes,
    )
    assert NOW + due.earliest <= when <= NOW + due.latest


def test_floor_holds_after_negative_jitter() -> None:
    checks = [
        next_check(
            NOW,
            interval_minutes=15,
            url=f"https://site{i}.example/feed",
            failures=0,
            retry_after=None,
            fresh_until=None,
            ttl_minutes=None,
            update_minutes=None,
        )
        for i in range(100)
    ]
    assert min(checks) == NOW + 15 * MINUTE  # some jitter was negative, and was clamped
    assert max(checks) > NOW + 15 * MINUTE


# ---------------------------------------------------------------------------
# is_due


def feed(**changes: Any) -> FeedState:
    return replace(FeedState(url=URL, person="Dana"), **changes)


@named(
    [
        ("a feed never polled is due", feed(), True),
        ("next check in the past is due", feed(next_check=NOW - MINUTE), True),
        ("next check exactly now is due", feed(next_check=NOW), True),
        ("next check in the future is not due", feed(next_check=NOW + MINUTE), False),
        (
            "a gone feed is not due even when its time has come",
            feed(gone=True, status=FeedStatus.GONE, next_check=NOW - WEEK),
            False,
        ),
        ("a gone feed with no next check is not due", feed(gone=True), False),
        ("status gone alone is enough", feed(status=FeedStatus.GONE), False),
    ]
)
def test_is_due(case: tuple[FeedState, bool]) -> None:
    state, expected = case
    assert is_due(state, NOW) is expected


# ---------------------------------------------------------------------------
# after_fetch


def ok(**changes: Any) -> FetchResult:
    return replace(FetchResult(url=URL, final_url=URL, status=200, body=b"<rss/>"), **changes)


def not_modified(**changes: Any) -> FetchResult:
    return replace(FetchResult(url=URL, final_url=URL, status=304), **changes)


def failed(status: int | None, error: str, error_type: str, **changes: Any) -> FetchResult:
    return replace(
        FetchResult(url=URL, status=status, error=error, error_type=error_type), **changes
    )


HTTPS_URL = "https://blog.example.org/feed/"
ETAG = 'W/"5e-1f3a"'
LAST_MODIFIED = "Mon, 02 Mar 2026 08:15:00 GMT"
BROKEN = dict(
    status=FeedStatus.ERROR,
    failures=3,
    last_error="timed out after 60 s",
    last_error_type="timeout",
    last_error_at=NOW - HOUR,
)


@dataclass(frozen=True)
class Fetch:
    """One row: the state before, the fetch, the parse, and what must hold after."""

    before: FeedState
    result: FetchResult
    expect: dict[str, Any]
    due: Due | None = None  # None: next_check must be None
    parse: dict[str, Any] = field(default_factory=dict)  # ttl_minutes, update_minutes, …


AFTER_FETCH = [
    (
        "a 200 stores ETag and Last-Modified exactly as received",
        Fetch(
            feed(),
            ok(etag=ETAG, last_modified=LAST_MODIFIED),
            dict(
                status=FeedStatus.OK,
                etag=ETAG,
                last_modified=LAST_MODIFIED,
                last_success=NOW,
                last_poll=NOW,
                failures=0,
            ),
            around(HOUR),
        ),
    ),
    (
        "a 200 without validators forgets the stored ones",
        Fetch(
            feed(etag='"old"', last_modified=LAST_MODIFIED),
            ok(),
            dict(etag=None, last_modified=None),
            around(HOUR),
        ),
    ),
    (
        "a 200 clears the error and the failure count",
        Fetch(
            feed(**BROKEN),
            ok(),
            dict(
                status=FeedStatus.OK,
                failures=0,
                last_error=None,
                last_error_type=None,
                last_error_at=None,
            ),
            around(HOUR),
        ),
    ),
    (
        "a 200 takes the ttl of this parse, and a longer ttl wins",
        Fetch(
            feed(ttl_minutes=30),
            ok(),
            dict(ttl_minutes=240, update_minutes=None),
            Due.exactly(4 * HOUR),
            parse=dict(ttl_minutes=240),
        ),
    ),
    (
        "a 200 whose feed dropped its ttl drops the stored one",
        Fetch(
            feed(ttl_minutes=180, update_minutes=720),
            ok(),
            dict(ttl_minutes=None, update_minutes=None),
            around(HOUR),
        ),
    ),
    (
        "a 200 with Cache-Control max-age longer than the interval waits for it",
        Fetch(feed(), ok(cache_control="public, max-age=10800"), {}, Due.exactly(3 * HOUR)),
    ),
    (
        "a 304 keeps the ttl from the last 200",
        Fetch(
            feed(ttl_minutes=180, update_minutes=720, etag=ETAG),
            not_modified(),
            dict(status=FeedStatus.NOT_MODIFIED, ttl_minutes=180, update_minutes=720),
            Due.exactly(12 * HOUR),
        ),
    ),
    (
        "a 304 is a success: the failure count resets",
        Fetch(
            feed(**BROKEN, etag=ETAG),
            not_modified(),
            dict(
                status=FeedStatus.NOT_MODIFIED,
                failures=0,
                last_success=NOW,
                last_error=None,
            ),
            around(HOUR),
        ),
    ),
    (
        "a 304 without validators keeps the stored ones",
        Fetch(
            feed(etag=ETAG, last_modified=LAST_MODIFIED),
            not_modified(),
            dict(etag=ETAG, last_modified=LAST_MODIFIED),
            around(HOUR),
        ),
    ),
    (
        "a 304 with a new ETag replaces the stored one",
        Fetch(
            feed(etag=ETAG, last_modified=LAST_MODIFIED),
            not_modified(etag='"v2"'),
            dict(etag='"v2"', last_modified=LAST_MODIFIED),
            around(HOUR),
        ),
    ),
    (
        "a 304's Expires pushes the next check",
        Fetch(
            feed(etag=ETAG),
            not_modified(expires="Mon, 02 Mar 2026 14:00:00 GMT"),
            {},
            Due.exactly(5 * HOUR),
        ),
    ),
    (
        "410 marks the feed gone and it is never checked again",
        Fetch(
            feed(etag=ETAG, next_check=NOW),
            failed(410, "HTTP 410 Gone", "http"),
            dict(
                status=FeedStatus.GONE,
                gone=True,
                last_error="HTTP 410 Gone",
                last_error_at=NOW,
                last_poll=NOW,
            ),
            None,
        ),
    ),
    (
        "429 honours Retry-After in seconds",
        Fetch(
            feed(),
            failed(429, "HTTP 429 Too Many Requests", "http", retry_after="7200"),
            dict(status=FeedStatus.ERROR, failures=1, last_error_type="http"),
            Due.exactly(2 * HOUR),
        ),
    ),
    (
        "503 honours Retry-After as an HTTP date",
        Fetch(
            feed(),
            failed(
                503,
                "HTTP 503 Service Unavailable",
                "http",
                retry_after="Mon, 02 Mar 2026 19:00:00 GMT",
            ),
            dict(status=FeedStatus.ERROR, failures=1),
            Due.exactly(10 * HOUR),
        ),
    ),
    (
        "Retry-After over 7 days is capped",
        Fetch(
            feed(),
            failed(503, "HTTP 503 Service Unavailable", "http", retry_after="99999999"),
            dict(failures=1),
            Due.exactly(WEEK),
        ),
    ),
    (
        "Retry-After on a 500 is not honoured",
        Fetch(
            feed(),
            failed(500, "HTTP 500 Internal Server Error", "http", retry_after="86400"),
            dict(failures=1),
            Due(HOUR, 1.1 * HOUR),
        ),
    ),
    (
        "a 500 counts a failure, backs off and keeps the validators",
        Fetch(
            feed(etag=ETAG, last_modified=LAST_MODIFIED, failures=2, status=FeedStatus.ERROR),
            failed(500, "HTTP 500 Internal Server Error", "http"),
            dict(
                status=FeedStatus.ERROR,
                failures=3,
                etag=ETAG,
                last_modified=LAST_MODIFIED,
                last_error="HTTP 500 Internal Server Error",
                last_error_type="http",
                last_error_at=NOW,
                last_poll=NOW,
            ),
            Due.exactly(4 * HOUR),
        ),
    ),
    (
        "an error keeps the last success time",
        Fetch(
            feed(last_success=NOW - HOUR, status=FeedStatus.OK),
            failed(None, "connection refused (blog.example.org:80)", "connection"),
            dict(last_success=NOW - HOUR, failures=1, last_error_type="connection"),
            Due(HOUR, 1.1 * HOUR),
        ),
    ),
    (
        "a timeout is recorded with its type and message",
        Fetch(
            feed(),
            failed(None, "timed out after 60 s", "timeout"),
            dict(last_error="timed out after 60 s", last_error_type="timeout", failures=1),
            Due(HOUR, 1.1 * HOUR),
        ),
    ),
    (
        "an error keeps the stored ttl in the schedule",
        Fetch(
            feed(ttl_minutes=300),
            failed(None, "timed out after 60 s", "timeout"),
            dict(ttl_minutes=300),
            Due.exactly(5 * HOUR),
        ),
    ),
    (
        "Cache-Control on an error response is ignored",
        Fetch(
            feed(),
            failed(500, "HTTP 500 Internal Server Error", "http", cache_control="max-age=86400"),
            {},
            Due(HOUR, 1.1 * HOUR),
        ),
    ),
    (
        "a body that is not a feed is a failure, and its validators are forgotten",
        Fetch(
            feed(etag='"old"', ttl_minutes=120),
            ok(etag='"html"', last_modified=LAST_MODIFIED),
            dict(
                status=FeedStatus.ERROR,
                failures=1,
                etag=None,
                last_modified=None,
                last_error="this is a web page; did you mean https://blog.example.org/feed.xml?",
                last_error_type="parse",
                ttl_minutes=120,
            ),
            Due.exactly(2 * HOUR),
            parse=dict(
                parse_error="this is a web page; did you mean https://blog.example.org/feed.xml?"
            ),
        ),
    ),
    (
        "a permanent redirect to another host is proposed, not applied",
        Fetch(
            feed(),
            ok(
                final_url="https://new.example.net/feed.xml",
                permanent_redirect="https://new.example.net/feed.xml",
                redirected=True,
            ),
            dict(url=URL, moved_to="https://new.example.net/feed.xml"),
            around(HOUR),
        ),
    ),
    (
        "http to https on the same host and path is applied at once",
        Fetch(
            feed(moved_to="https://stale.example/feed"),
            ok(final_url=HTTPS_URL, permanent_redirect=HTTPS_URL, redirected=True),
            dict(url=HTTPS_URL, moved_to=None, status=FeedStatus.OK),
            around(HOUR),
        ),
    ),
    (
        "http to https on another path is only proposed",
        Fetch(
            feed(),
            ok(
                permanent_redirect="https://blog.example.org/rss.xml",
                redirected=True,
            ),
            dict(url=URL, moved_to="https://blog.example.org/rss.xml"),
            around(HOUR),
        ),
    ),
    (
        "http to https on the www host is only proposed",
        Fetch(
            feed(),
            ok(permanent_redirect="https://www.blog.example.org/feed/", redirected=True),
            dict(url=URL, moved_to="https://www.blog.example.org/feed/"),
            around(HOUR),
        ),
    ),
    (
        "a permanent redirect on a 304 is proposed too",
        Fetch(
            feed(etag=ETAG),
            not_modified(permanent_redirect="https://new.example.net/feed", redirected=True),
            dict(moved_to="https://new.example.net/feed", status=FeedStatus.NOT_MODIFIED),
            around(HOUR),
        ),
    ),
    (
        "a temporary redirect changes nothing",
        Fetch(
            feed(),
            ok(final_url="http://cdn.example.org/feed/", redirected=True),
            dict(url=URL, moved_to=None, status=FeedStatus.OK),
            around(HOUR),
        ),
    ),
    (
        "a temporary redirect keeps an earlier proposal",
        Fetch(
            feed(moved_to="https://new.example.net/feed"),
            ok(final_url="http://cdn.example.org/feed/", redirected=True),
            dict(moved_to="https://new.example.net/feed"),
            around(HOUR),
        ),
    ),
    (
        "no redirect any more withdraws an earlier proposal",
        Fetch(
            feed(moved_to="https://new.example.net/feed"), ok(), dict(moved_to=None), around(HOUR)
        ),
    ),
    (
        "a permanent redirect that ends in an error proposes nothing",
        Fetch(
            feed(),
            failed(
                404,
                "HTTP 404 Not Found",
                "http",
                permanent_redirect="https://new.example.net/feed",
                redirected=True,
            ),
            dict(url=URL, moved_to=None, status=FeedStatus.ERROR),
            Due(HOUR, 1.1 * HOUR),
        ),
    ),
    (
        "a permanent redirect back to the same URL proposes nothing",
        Fetch(
            feed(), ok(permanent_redirect=URL, redirected=True), dict(moved_to=None), around(HOUR)
        ),
    ),
    (
        "a gone feed that answers 200 again is back",
        Fetch(
            feed(gone=True, status=FeedStatus.GONE),
            ok(),
            dict(gone=False, status=FeedStatus.OK),
            around(HOUR),
        ),
    ),
]


@named(AFTER_FETCH)
def test_after_fetch(case: tuple[Fetch]) -> None:
    (row,) = case
    after = after_fetch(row.before, row.result, now=NOW, interval_minutes=60, **row.parse)
    for name, expected in row.expect.items():
        assert getattr(after, name) == expected, name
    if row.due is None:
        assert after.next_check is None
        assert not is_due(after, NOW + timedelta(days=3650))
    else:
        assert after.next_check is not None
        assert NOW + row.due.earliest <= after.next_check <= NOW + row.due.latest
    # Who the feed belongs to never changes with a fetch.
    assert (after.person, after.kind) == (row.before.person, row.before.kind)


def test_consecutive_failures_back_off_until_the_cap_and_never_stop() -> None:
    state = feed()
    clock = NOW
    waits: list[timedelta] = []
    for _ in range(14):
        state = after_fetch(
            state,
            failed(500, "HTTP 500 Internal Server Error", "http"),
            now=clock,
            interval_minutes=60,
        )
        assert state.next_check is not None
        waits.append(state.next_check - clock)
        clock = state.next_check
        assert is_due(state, clock)
    assert state.failures == 14
    assert waits[2:] == sorted(waits[2:])
    assert waits[2] == 4 * HOUR
    assert waits[-1] == WEEK
    assert waits.count(WEEK) >= 5


@named(
    [
        ("same host and path", "http://a.example/feed", "https://a.example/feed", True),
        ("default ports written out", "http://a.example:80/f", "https://a.example:443/f", True),
        ("empty path and slash are the same", "http://a.example", "https://a.example/", True),
        ("host case does not matter", "http://A.example/f", "https://a.example/f", True),
        ("another path", "http://a.example/feed", "https://a.example/rss", False),
        ("another query", "http://a.example/f?x=1", "https://a.example/f?x=2", False),
        ("another host", "http://a.example/f", "https://b.example/f", False),
        ("a non-default port", "http://a.example/f", "https://a.example:8443/f", False),
        ("https to http is a downgrade", "https://a.example/f", "http://a.example/f", False),
        ("already https", "https://a.example/f", "https://a.example/f", False),
        ("a broken port", "http://a.example:x/f", "https://a.example/f", False),
    ]
)
def test_is_https_upgrade(case: tuple[str, str, bool]) -> None:
    old, new, expected = case
    assert is_https_upgrade(old, new) is expected
