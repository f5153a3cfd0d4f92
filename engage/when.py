"""Read the WHEN a user types (`--when yesterday`, `--since 2024-05-01`) into an aware datetime.

Pure: the caller passes `now` and the local time zone, so every form can be tested with an
invented clock. Day-sized forms ('today', 'yesterday', '3 days ago', 'last monday', a bare
date) mean the start of that day in the local zone: a re-log of "met yesterday" then gives the
same time, hence the same event id, instead of a second event a few minutes apart.

Every result lies in the years 1970 to 2999 (see `EARLIEST` and `LATEST`): anything else is
almost surely a typo ("0001-01-01", "999999999 days ago"), and keeping to that range leaves
room for the arithmetic done on a moment afterwards (a 180-day score history, a 7-day
backoff) and for the platforms' local-time functions, which reject years before 1970 and
after 3000 on Windows. Empty text is refused like any other unreadable text: an unset shell
variable (`--since "$SINCE"`) silently meaning "now" or "no filter" would hide the mistake.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

ACCEPTED_FORMS = (
    "an ISO 8601 date or date-time (2024-05-01, 2024-05-01T14:30, 2024-05-01T14:30+02:00)",
    "'now', 'today', 'yesterday'",
    "'N days ago' (or minutes, hours, weeks, months ago; a month is 30 days)",
    "'monday' or 'last monday' (any weekday)",
)

EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)
ACCEPTED_RANGE = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_AGO = re.compile(r"^(?P<count>\d+|a|an|one)\s+(?P<unit>minute|min|hour|day|week|month)s?\s+ago$")
_WORDS = {"a": 1, "an": 1, "one": 1}


def parse_when(text: str, now: datetime, tz: tzinfo) -> datetime:
    """The moment `text` names, timezone-aware; ValueError listing the accepted forms if
    it names none. A naive ISO date-time is read in `tz`, the user's local zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cleaned = " ".join(text.strip().casefold().split())
    local_now = now.astimezone(tz)
    out_of_range = f"{text.strip()!r} is out of range: engage reads times {ACCEPTED_RANGE}"
    try:
        result = _relative(cleaned, local_now, tz)
        if result is None:
            result = _iso(text.strip(), tz)
    except (OverflowError, _OutOfRange):
        raise ValueError(out_of_range) from None
    if result is None:
        what = f"the time {text!r}" if text.strip() else "an empty time"
        raise ValueError(f"cannot read {what}; use " + "; or ".join(ACCEPTED_FORMS))
    # The date as written (in its own offset) decides: comparing it needs no arithmetic
    # that could overflow, and the bounds are whole days, as the message says.
    if not EARLIEST <= result.date() <= LATEST:
        raise ValueError(out_of_range)
    return result


class _OutOfRange(Exception):
    """A count too long to be a number of days: out of range, not unreadable."""


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _relative(cleaned: str, local_now: datetime, tz: tzinfo) -> datetime | None:
    today = local_now.date()
    if cleaned == "now":
        return local_now
    if cleaned == "today":
        return _start_of(today, tz)
    if cleaned == "yesterday":
        return _start_of(today - timedelta(days=1), tz)
    ago = _AGO.match(cleaned)
    if ago:
        raw = ago.group("count")
        if len(raw) > 12:  # more than any range of dates holds; int() of 5,000 digits fails
            raise _OutOfRange
        count = _WORDS[raw] if raw in _WORDS else int(raw)
        unit = ago.group("unit")
        if unit in ("minute", "min"):
            return local_now - timedelta(minutes=count)
        if unit == "hour":
            return local_now - timedelta(hours=count)
        days = {"day": 1, "week": 7, "month": 30}[unit] * count
        return _start_of(today - timedelta(days=days), tz)
    words = cleaned.split(" ")
    strictly_before = words[0] == "last" and len(words) == 2
    name = words[1] if strictly_before else (words[0] if len(words) == 1 else "")
    if name in WEEKDAYS:
        back = (today.weekday() - WEEKDAYS.index(name)) % 7
        if strictly_before and back == 0:
            back = 7
        return _start_of(today - timedelta(days=back), tz)
    return None


def _iso(text: str, tz: tzinfo) -> datetime | None:
    if not text or not text[0].isdigit():
        return None
    if len(text) == 10:
        try:
            return _start_of(date.fromisoformat(text), tz)
        except ValueError:
            return None
    try:
        # Python 3.11's fromisoformat reads 'Z', offsets and a space instead of 'T'.
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
