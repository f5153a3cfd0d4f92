"""parse_when: every accepted form, read against an invented clock (a Wednesday)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.when import EARLIEST, LATEST, parse_when

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
    ("blank text", "  \t "),
    ("a future phrase", "in 3 days"),
]


@pytest.mark.parametrize("text", [t for _, t in BAD], ids=[name for name, _ in BAD])
def test_unreadable_text_lists_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_when(text, NOW, ZONE)
    message = str(caught.value)
    assert repr(text) in message or "empty time" in message
    assert "ISO 8601" in message and "yesterday" in message and "days ago" in message


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("now", datetime(2024, 5, 15, 12, 0), ZONE)


OUT_OF_RANGE = [
    ("a count of days past any calendar", "999999999 days ago"),
    ("a count past timedelta", "99999999999999 days ago"),
    ("minutes past the epoch", "30000000 minutes ago"),
    ("thousands of digits", "9" * 5000 + " days ago"),
    ("year one", "0001-01-01"),
    ("the day before the epoch", "1969-12-31"),
    ("year 3000", "3000-01-01"),
    ("the last representable moment", "9999-12-31T23:59:59"),
    ("year one with an offset", "0001-01-01T00:00:00+05:00"),
]


@pytest.mark.parametrize("text", [t for _, t in OUT_OF_RANGE], ids=[n for n, _ in OUT_OF_RANGE])
def test_out_of_range_says_which_range_is_accepted(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_when(text, NOW, ZONE)
    assert str(caught.value).endswith("is out of range: engage reads times from 1970-01-01 "
                                      "to 2999-12-31")


def test_the_range_includes_both_edges() -> None:
    assert parse_when("1970-01-01", NOW, ZONE) == local(1970, 1, 1)
    assert parse_when("2999-12-31T23:59", NOW, ZONE) == local(2999, 12, 31, 23, 59)


# Properties: whatever is typed, the answer is a moment in range or a ValueError, never a
# traceback; an ISO date or date-time written by Python reads back as itself.

WORDS = st.sampled_from(
    ["now", "today", "yesterday", "ago", "days", "day", "a", "an", "last", "monday", "month",
     "hours", "minutes", "min", "weeks", "T", "Z", "-", ":", "+", " ", "0", "9", "99999999999"]
)
TYPED = st.one_of(
    st.text(),
    st.text(alphabet="0123456789-:T+Z. ", max_size=40),
    st.lists(WORDS, max_size=6).map(" ".join),
    st.integers(min_value=0).map(lambda n: f"{n} days ago"),
)


@given(TYPED)
def test_any_text_is_a_moment_in_range_or_a_value_error(text: str) -> None:
    try:
        got = parse_when(text, NOW, ZONE)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert got.tzinfo is not None
    assert EARLIEST <= got.date() <= LATEST


@given(st.dates(min_value=EARLIEST, max_value=LATEST))
def test_an_iso_date_reads_back_as_its_local_midnight(day: date) -> None:
    assert parse_when(day.isoformat(), NOW, ZONE) == datetime.combine(day, time(), tzinfo=ZONE)


@given(
    st.datetimes(
        min_value=datetime.combine(EARLIEST, time()),
        max_value=datetime.combine(LATEST, time.max),
        # Real offsets are whole minutes, less than a day either way.
        timezones=st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m))),
    )
)
def test_an_iso_date_time_with_an_offset_reads_back_as_itself(moment: datetime) -> None:
    got = parse_when(moment.isoformat(), NOW, ZONE)
    assert got == moment and got.utcoffset() == moment.utcoffset()


@given(st.datetimes(min_value=datetime.combine(EARLIEST, time()),
                    max_value=datetime.combine(LATEST, time.max)))
def test_a_naive_iso_date_time_reads_back_in_the_local_zone(moment: datetime) -> None:
    assert parse_when(moment.isoformat(), NOW, ZONE) == moment.replace(tzinfo=ZONE)
