"""Is today's digest due? The decision the daemon makes on every tick.

Pure: the caller passes the local `now` (aware, ideally in a zone that knows its DST rules)
and the date of the last digest sent, which it keeps in the store. Asking every minute
instead of scheduling a job at the digest time is what makes a missed time still send: the
scheduler's timer stops while a laptop sleeps (see docs/design.md, "Daemon").

The rule: today's digest is due once the local clock has reached the digest time today and
no digest was sent today, nor on a later date. So it goes out exactly once a day: at once
when the daemon starts (or the laptop wakes) after the time, never again after a restart,
and not twice when the clock is set back over a digest already sent. Days missed while the
machine was off are not sent one by one: the next digest covers everything since the last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

# After a failed send (SMTP down, password refused), try again this much later rather than
# on every tick: one error line a quarter hour, not one a minute.
RETRY_AFTER = timedelta(minutes=15)


def digest_moment(day: date, at: time, tz: tzinfo) -> datetime:
    """The first instant of `day` at which the wall clock in `tz` reads `at` or later.

    On an ordinary day that is simply `at`. When the clocks go back and `at` happens twice,
    it is the first time. When the clocks jump forward over `at` (02:30 on a spring-forward
    night in Europe), it is the jump itself (03:00), as cron does, rather than an hour
    after it (what `fold=0` alone would give) or a time that never shows on the clock."""
    wall = datetime.combine(day, at.replace(tzinfo=None))
    exact = [
        instant
        for fold in (0, 1)
        if _wall(instant := wall.replace(tzinfo=tz, fold=fold).astimezone(UTC), tz) == wall
    ]
    if exact:
        return min(exact).astimezone(tz)
    # `at` falls in a gap. Its two readings (the offset before and after the jump) bracket
    # the jump; find the first whole second whose wall clock is past `at`.
    low, high = sorted(int(wall.replace(tzinfo=tz, fold=fold).timestamp()) for fold in (0, 1))
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, tz)


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def digest_due(
    now: datetime,
    at: time,
    last_sent: date | None,
    *,
    last_failure: datetime | None = None,
    retry_after: timedelta = RETRY_AFTER,
) -> bool:
    """Whether to build and send today's digest now. `today` is the date of `now` in its
    own zone; `last_failure` is when the last attempt failed (kept in memory by the
    caller), so a failing server is retried every `retry_after`, not on every tick."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the user's local time)")
    today = now.date()
    if last_sent is not None and last_sent >= today:
        return False  # sent today, or the clock went back past a digest already sent
    # Compared as instants: two aware datetimes with the same tzinfo compare by wall clock,
    # which would put 01:10 after the clocks went back before the first 01:30.
    if now.timestamp() < digest_moment(today, at, now.tzinfo).timestamp():
        return False
    return last_failure is None or now.timestamp() >= (last_failure + retry_after).timestamp()


def next_digest(
    now: datetime,
    at: time,
    last_sent: date | None,
    *,
    last_failure: datetime | None = None,
    retry_after: timedelta = RETRY_AFTER,
) -> datetime:
    """When the next digest will be due (`now` if it is due already), for the log line
    the daemon writes at start and after each digest."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (the user's local time)")
    today = now.date()
    day = today if last_sent is None or last_sent < today else last_sent + timedelta(days=1)
    candidates = [digest_moment(day, at, now.tzinfo), now]
    if last_failure is not None and day == today:
        candidates.append(last_failure + retry_after)
    return max(candidates, key=datetime.timestamp).astimezone(now.tzinfo)
