"""parse_when: every accepted form, read against an invented clock (a Wednesday)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engage.when import parse_when

# Wednesday 2024-05-15 14:37:20 in a zone two hours ahead of UTC.
ZONE = timezone(timedelta(hours=2))
NOW = datetime(2024, 5, 15, 14, 37, 20, tzinfo=ZONE)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZONE)  # type: ignore[misc]


CASES = [
    ("now is the clock itself", "now", NOW),
    ("'now' ignores case and spaces", "  NOW ", NOW),
    ("today is the start of today", "today", local(2024, 5, 15)),
    ("yesterday is the start of yesterday", "yesterday", local(2024, 5, 14)),
    ("days ago are whole days", "3 days ago", local(2024, 5, 12)),
    ("one day ago equals yesterday", "1 day ago", local(2024, 5, 14)),
    ("'a week ago' in words", "a week ago", local(2024, 5, 8)),
    ("weeks ago", "2 weeks ago", local(2024, 5, 1)),
    ("a month is 30 days", "1 month ago", local(2024, 4, 15)),
    ("hours ago keep the clock time", "5 hours ago", NOW - timedelta(hours=5)),
    ("'an hour ago'", "an hour ago", NOW - timedelta(hours=1)),
    ("minutes ago", "90 minutes ago", NOW - timedelta(minutes=90)),
    ("last monday is this week's monday", "last monday", local(2024, 5, 13)),
    ("last wednesday on a wednesday is a week back", "last wednesday", local(2024, 5, 8)),
    ("a bare weekday today is today", "wednesday", local(2024, 5, 15)),
    ("last thursday crosses the weekend", "last thursday", local(2024, 5, 9)),
    ("an ISO date is its local midnight", "2024-05-01", local(2024, 5, 1)),
    ("a naive ISO date-time is local", "2024-05-01T09:30", local(2024, 5, 1, 9, 30)),
    ("a space instead of T", "2024-05-01 09:30", local(2024, 5, 1, 9, 30)),
    (
        "an ISO date-time with an offset keeps it",
        "2024-05-01T09:30:00-05:00",
        datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5))),
    ),
    ("Z is UTC", "2024-05-01T09:30:00Z", datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in CASES], ids=[name for name, _, _ in CASES]
)
def test_parse_when(text: str, expected: datetime) -> None:
    got = parse_when(text, NOW, ZONE)
    assert got == expected
    assert got.tzinfo is not None
    assert got.utcoffset() == expected.utcoffset()


def test_now_given_in_another_zone_counts_days_in_the_local_zone() -> None:
    # 23:30 UTC on the 14th is already the 15th two hours east: 'today' is the 15th there.
    late_utc = datetime(2024, 5, 14, 23, 30, tzinfo=UTC)
    assert parse_when("today", late_utc, ZONE) == local(2024, 5, 15)


BAD = [
    ("a word it does not know", "soon"),
    ("an impossible date", "2024-02-30"),
    ("a weekday typo", "last mondy"),
    ("ago without a number", "days ago"),
    ("empty text", ""),
    ("a future phrase", "in 3 days"),
]


@pytest.mark.parametrize("text", [t for _, t in BAD], ids=[name for name, _ in BAD])
def test_unreadable_text_lists_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_when(text, NOW, ZONE)
    message = str(caught.value)
    assert repr(text) in message
    assert "ISO 8601" in message and "yesterday" in message and "days ago" in message


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("now", datetime(2024, 5, 15, 12, 0), ZONE)
