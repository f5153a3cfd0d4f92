"""When a social API asks us to come back: its rate-limit headers, read as a time.

Pure. Two conventions meet here:
- Mastodon sends `X-RateLimit-Limit/Remaining/Reset`, the reset as an ISO 8601 time
  ("2022-12-01T21:00:00.985176Z"; 300 calls per 5 minutes per IP for unauthenticated
  calls, per its API documentation);
- the Bluesky AppView sends `RateLimit-Limit/Remaining/Reset/Policy`, the reset in Unix
  seconds; the IETF RateLimit draft uses the same names with seconds from now.
A 429 also may carry `Retry-After` (RFC 9110 §10.2.3), which wins when present. Every
wait is capped at the 7 days a feed's wait is capped at, so no account is silently
dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engage.poll.schedule import FLOOR, MAX_WAIT, parse_retry_after
from engage.social.reading import parse_time

# A 429 that says nothing about when: come back after the polling floor, which is
# longer than Mastodon's 5-minute window and no shorter than we would wait anyway.
DEFAULT_WAIT = FLOOR
# Unix seconds are ten digits since 2001; a smaller number is seconds from now.
_EPOCH_FLOOR = 1_000_000_000


@dataclass(frozen=True)
class RateLimit:
    remaining: int | None = None  # calls left in this window, when the server said
    reset: datetime | None = None  # when the window starts over


def read_rate_limit(headers: Mapping[str, str], now: datetime) -> RateLimit:
    """The rate-limit headers of one response (names lower case, as httpx gives them)."""
    remaining = _first(headers, "x-ratelimit-remaining", "ratelimit-remaining")
    reset = _first(headers, "x-ratelimit-reset", "ratelimit-reset")
    return RateLimit(_count(remaining), _reset_time(reset, now))


def wait_until(status: int | None, headers: Mapping[str, str], now: datetime) -> datetime | None:
    """Until when the server wants no more calls from us, or None when it did not ask.

    429 (and a 503 with Retry-After): Retry-After, else the rate-limit reset, else the
    default wait. Any other response: the reset, but only once no call is left."""
    if status == 429 or (status == 503 and "retry-after" in headers):
        retry = parse_retry_after(headers.get("retry-after"), now)
        if retry is not None:
            return retry
        return read_rate_limit(headers, now).reset or now + DEFAULT_WAIT
    limit = read_rate_limit(headers, now)
    if limit.remaining is not None and limit.remaining <= 0:
        return limit.reset or now + DEFAULT_WAIT
    return None


def _first(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _count(value: str | None) -> int | None:
    if value is None:
        return None
    # A list ("0, 10") from a duplicated header: the first is the one in force.
    head = value.split(",", 1)[0].strip()
    if head.isascii() and head.isdigit() and len(head) < 19:
        return int(head)
    return None


def _reset_time(value: str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    head = value.split(",", 1)[0].strip()
    when: datetime | None
    if head.isascii() and head.isdigit():
        if len(head) > 11:  # past the year 5000: no date we could mean, and no overflow below
            return now + MAX_WAIT
        number = int(head)
        if number >= _EPOCH_FLOOR:
            when = datetime.fromtimestamp(number, UTC)
        else:
            when = now + timedelta(seconds=min(number, int(MAX_WAIT.total_seconds())))
    else:
        when = parse_time(head) or parse_retry_after(head, now)
    if when is None:
        return None
    return min(max(when, now), now + MAX_WAIT)
