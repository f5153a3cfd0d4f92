"""When the daily digest is due: exactly once a day, whatever the clock and the laptop do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engage.digest.due import RETRY_AFTER, digest_due, digest_moment, next_digest

BERLIN = ZoneInfo("Europe/Berlin")  # clocks go forward 2024-03-31 02:00, back 2024-10-27 03:00
NEW_YORK = ZoneInfo("America/New_York")  # forward 2024-03-10 02:00, back 2024-11-03 02:00
AT = time(7, 30)
DAY = date(2024, 6, 12)


def local(
    day: date, hour: int, minute: int = 0, *, tz: ZoneInfo = BERLIN, fold: int = 0
) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).replace(fold=fold)


YESTERDAY = DAY - timedelta(days=1)

DUE_CASES = [
    pytest.param(local(DAY, 7, 29), AT, YESTERDAY, False, id="a minute before the time"),
    pytest.param(local(DAY, 7, 30), AT, YESTERDAY, True, id="at the time exactly"),
    pytest.param(local(DAY, 7, 31), AT, YESTERDAY, True, id="a minute after the time"),
    pytest.param(local(DAY, 7, 30), AT, DAY, False, id="already sent today: a restart after it"),
    pytest.param(local(DAY, 23, 59), AT, DAY, False, id="sent today, late in the evening"),
    pytest.param(local(DAY, 9, 0), AT, None, True, id="first ever start after the time"),
    pytest.param(local(DAY, 6, 0), AT, None, False, id="first ever start before the time"),
    pytest.param(
        local(DAY, 13, 5),
        AT,
        DAY - timedelta(days=4),
        True,
        id="laptop slept over the time, for days: one digest on waking",
    ),
    pytest.param(
        local(DAY, 6, 10),
        AT,
        DAY - timedelta(days=4),
        False,
        id="woke up before today's time: wait for it",
    ),
    pytest.param(
        local(YESTERDAY, 23, 0),
        AT,
        DAY,
        False,
        id="the clock went back to yesterday after today's digest was sent",
    ),
    pytest.param(
        local(DAY - timedelta(days=30), 9, 0),
        AT,
        DAY,
        False,
        id="the clock went back a month: never a second digest",
    ),
    pytest.param(local(DAY, 0, 0), time(0, 0), YESTERDAY, True, id="a digest at midnight"),
    pytest.param(local(DAY, 23, 59), time(0, 0), YESTERDAY, True, id="midnight digest, late start"),
    pytest.param(
        datetime(2024, 6, 12, 7, 30, tzinfo=timezone(timedelta(hours=2))),
        AT,
        YESTERDAY,
        True,
        id="a fixed-offset zone works by wall clock",
    ),
    pytest.param(
        datetime(2024, 6, 12, 5, 30, tzinfo=UTC).astimezone(BERLIN),
        AT,
        YESTERDAY,
        True,
        id="a UTC instant turned local: 05:30 UTC is 07:30 in Berlin",
    ),
    # Spring forward in Berlin: 02:00 becomes 03:00, so 02:30 never shows on the clock.
    pytest.param(
        local(date(2024, 3, 31), 1, 59),
        time(2, 30),
        date(2024, 3, 30),
        False,
        id="spring forward: a minute before the jump over the digest time",
    ),
    pytest.param(
        local(date(2024, 3, 31), 3, 0),
        time(2, 30),
        date(2024, 3, 30),
        True,
        id="spring forward: a time that does not exist is due at the jump",
    ),
    pytest.param(
        local(date(2024, 3, 31), 7, 29),
        AT,
        date(2024, 3, 30),
        False,
        id="spring forward day, ordinary time: not early by the lost hour",
    ),
    pytest.param(
        local(date(2024, 3, 31), 7, 30),
        AT,
        date(2024, 3, 30),
        True,
        id="spring forward day, ordinary time: on time",
    ),
    # Fall back in Berlin: 03:00 becomes 02:00, so 02:30 happens twice.
    pytest.param(
        local(date(2024, 10, 27), 2, 30),
        time(2, 30),
        date(2024, 10, 26),
        True,
        id="fall back: due at the first of two 02:30s",
    ),
    pytest.param(
        local(date(2024, 10, 27), 2, 30, fold=1),
        time(2, 30),
        date(2024, 10, 27),
        False,
        id="fall back: not again at the second 02:30",
    ),
    pytest.param(
        local(date(2024, 10, 27), 2, 10, fold=1),
        time(2, 30),
        date(2024, 10, 26),
        True,
        id="fall back: woke at the second 02:10, after the first 02:30 passed asleep",
    ),
    pytest.param(
        local(date(2024, 10, 27), 2, 10),
        time(2, 30),
        date(2024, 10, 26),
        False,
        id="fall back: the first 02:10 is before the time",
    ),
    pytest.param(
        local(date(2024, 11, 3), 1, 20, tz=NEW_YORK, fold=1),
        time(1, 30),
        date(2024, 11, 2),
        True,
        id="fall back in New York: the second 01:20 is after the first 01:30",
    ),
]


@pytest.mark.parametrize(("now", "at", "last_sent", "due"), DUE_CASES)
def test_digest_due(now: datetime, at: time, last_sent: date | None, due: bool) -> None:
    assert digest_due(now, at, last_sent) is due


FAILURE_CASES = [
    pytest.param(None, True, id="no failure: due"),
    pytest.param(local(DAY, 8, 55), False, id="failed five minutes ago: wait"),
    pytest.param(local(DAY, 9, 0) - RETRY_AFTER, True, id="failed a retry interval ago: try again"),
    pytest.param(
        local(YESTERDAY, 8, 58), True, id="yesterday's failure does not hold back today's digest"
    ),
]


@pytest.mark.parametrize(("last_failure", "due"), FAILURE_CASES)
def test_a_failed_send_is_retried_after_a_while(last_failure: datetime | None, due: bool) -> None:
    assert digest_due(local(DAY, 9, 0), AT, YESTERDAY, last_failure=last_failure) is due


MOMENT_CASES = [
    pytest.param(DAY, AT, local(DAY, 7, 30), id="an ordinary day"),
    pytest.param(
        date(2024, 3, 31),
        time(2, 30),
        local(date(2024, 3, 31), 3, 0),
        id="a time skipped by the clocks: the moment they jump",
    ),
    pytest.param(
        date(2024, 3, 31),
        time(2, 0),
        local(date(2024, 3, 31), 3, 0),
        id="the first skipped minute: the jump too",
    ),
    pytest.param(
        date(2024, 10, 27),
        time(2, 30),
        local(date(2024, 10, 27), 2, 30, fold=0),
        id="a time that happens twice: the first",
    ),
]


@pytest.mark.parametrize(("day", "at", "moment"), MOMENT_CASES)
def test_digest_moment(day: date, at: time, moment: datetime) -> None:
    found = digest_moment(day, at, BERLIN)
    assert found.astimezone(UTC) == moment.astimezone(UTC)
    assert found.utcoffset() == moment.utcoffset()


def test_the_skipped_time_resolves_to_the_utc_instant_of_the_jump() -> None:
    # Written out by hand: Berlin went from +01:00 to +02:00 at 01:00 UTC on 2024-03-31.
    assert digest_moment(date(2024, 3, 31), time(2, 30), BERLIN) == datetime(
        2024, 3, 31, 1, 0, tzinfo=UTC
    )


NEXT_CASES = [
    pytest.param(local(DAY, 6, 0), YESTERDAY, None, local(DAY, 7, 30), id="later today"),
    pytest.param(local(DAY, 9, 0), YESTERDAY, None, local(DAY, 9, 0), id="due already: now"),
    pytest.param(
        local(DAY, 9, 0), DAY, None, local(DAY + timedelta(days=1), 7, 30), id="sent: tomorrow"
    ),
    pytest.param(
        local(DAY, 9, 0),
        YESTERDAY,
        local(DAY, 8, 50),
        local(DAY, 9, 5),
        id="failed at 08:50: retried at 09:05",
    ),
    pytest.param(
        local(YESTERDAY, 9, 0),
        DAY,
        None,
        local(DAY + timedelta(days=1), 7, 30),
        id="clock went back past a sent digest: the day after it",
    ),
]


@pytest.mark.parametrize(("now", "last_sent", "failure", "expected"), NEXT_CASES)
def test_next_digest(
    now: datetime, last_sent: date, failure: datetime | None, expected: datetime
) -> None:
    assert next_digest(now, AT, last_sent, last_failure=failure) == expected


@pytest.mark.parametrize("call", [digest_due, next_digest])
def test_a_naive_now_is_refused(call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2024, 6, 12, 9, 0), AT, None)  # type: ignore[operator]


def test_a_day_of_minute_ticks_sends_exactly_once_even_across_both_dst_days() -> None:
    # Simulate the daemon: a tick every minute for three days around each DST change,
    # recording the date when it sends. Exactly one send per calendar day, on time.
    for start, at in ((date(2024, 3, 30), time(2, 30)), (date(2024, 10, 26), time(2, 30))):
        instant = datetime.combine(start, time(0, 0), tzinfo=BERLIN).astimezone(UTC)
        last_sent: date | None = start - timedelta(days=1)
        sends: list[datetime] = []
        for _ in range(3 * 24 * 60):
            now = instant.astimezone(BERLIN)
            if digest_due(now, at, last_sent):
                sends.append(now)
                last_sent = now.date()
            instant += timedelta(minutes=1)
        assert [s.date() for s in sends] == [start + timedelta(days=n) for n in range(3)]
        wall = [s.strftime("%H:%M") for s in sends]
        assert wall == (["02:30", "03:00", "02:30"] if start.month == 3 else ["02:30"] * 3)
