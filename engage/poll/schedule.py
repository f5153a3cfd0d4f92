"""When each feed is next due, and what one fetch does to a feed's state.

Pure: every function takes `now` (timezone-aware) and returns a value; nothing here
reads the clock, the network or the disk, so every rule is a row in a test table.

A feed's next check is the LATEST of everything that asks us to wait (docs/design.md, "Polling"):
our own interval (floor 15 minutes) with jitter, the server's Retry-After on
429/503, the response's freshness (Cache-Control max-age / Expires), the feed's own
<ttl> and sy:updatePeriod/sy:updateFrequency, and backoff after consecutive
failures. Everything a server or feed can ask for is capped at 7 days, so a feed
is never silently dropped; only 410 Gone stops polling.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from engage.models import POLL_FLOOR_MINUTES, FeedState, FeedStatus, FetchResult

FLOOR = timedelta(minutes=POLL_FLOOR_MINUTES)
MAX_WAIT = timedelta(days=7)
JITTER_FRACTION = 0.10
# Statuses whose Retry-After we honour (RFC 9110 §10.2.3: also 3xx, but a redirect
# is followed at once, so it has no wait to honour).
RETRY_AFTER_STATUSES = frozenset({429, 503})


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """Retry-After as a time: delay-seconds or an HTTP date, capped at 7 days.

    A date in the past means "now". Anything unreadable is None: a server's
    garbage must not stop a feed.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        # Compare before building a timedelta: "99999999999999" would overflow it.
        seconds = min(int(text), int(MAX_WAIT.total_seconds()))
        return now + timedelta(seconds=seconds)
    when = _http_date(text)
    if when is None:
        return None
    return min(max(when, now), now + MAX_WAIT)


def freshness_until(
    cache_control: str | None, expires: str | None, now: datetime
) -> datetime | None:
    """Until when the response is fresh, capped at 7 days; None when it says nothing.

    max-age wins over Expires (RFC 9111 §5.3); no-cache / no-store mean the server
    wants us back whenever we like, so they impose no wait. An Expires that is not
    a date, or already past, imposes none either.
    """
    directives = _cache_directives(cache_control)
    if "no-store" in directives or "no-cache" in directives:
        return None
    max_age = directives.get("max-age")
    if max_age is not None and max_age.isascii() and max_age.isdigit():
        seconds = min(int(max_age), int(MAX_WAIT.total_seconds()))
        return now + timedelta(seconds=seconds)
    if expires is None:
        return None
    when = _http_date(expires.strip())
    if when is None or when <= now:
        return None
    return min(when, now + MAX_WAIT)


def backoff(failures: int, interval: timedelta) -> timedelta:
    """How long to wait after `failures` consecutive failures: doubling, capped at 7 days.

    One failure waits one interval (a blip costs nothing extra); each further one
    doubles the wait. With the default hour, the cap arrives after 9 failures, and
    from then on the feed is still tried weekly: never silently given up.
    """
    if failures <= 0:
        return timedelta(0)
    base = max(interval, timedelta(0))
    # Past 2**20 any real interval is beyond the cap; stop before the number explodes.
    wait: timedelta = base * (2 ** min(failures - 1, 20))
    return min(wait, MAX_WAIT)


def jitter(url: str, now: datetime, interval: timedelta) -> timedelta:
    """A deterministic offset within ±10% of the interval, from (url, now).

    Feeds added together would otherwise stay in lockstep and hit the network in
    bursts; a hash (not random, not Python's salted hash()) spreads them while
    keeping tests repeatable across runs and processes.
    """
    digest = hashlib.sha256(f"{url}\n{now.isoformat()}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / float(2**64 - 1)  # 0..1
    fraction = (2.0 * unit - 1.0) * JITTER_FRACTION  # -0.1..+0.1
    return timedelta(seconds=round(interval.total_seconds() * fraction))


def next_check(
    now: datetime,
    *,
    interval_minutes: int,
    url: str,
    failures: int,
    retry_after: datetime | None,
    fresh_until: datetime | None,
    ttl_minutes: int | None,
    update_minutes: int | None,
) -> datetime:
    """The latest of every reason to wait (see the module docstring)."""
    interval = max(timedelta(minutes=interval_minutes), FLOOR)
    # The floor holds after jitter too: a 15-minute interval never becomes 13.5.
    waits = [max(interval + jitter(url, now, interval), FLOOR)]
    if failures > 0:
        waits.append(backoff(failures, interval))
    for minutes in (ttl_minutes, update_minutes):
        if minutes is not None and minutes > 0:
            waits.append(min(timedelta(minutes=minutes), MAX_WAIT))
    for when in (retry_after, fresh_until):
        if when is not None:
            waits.append(min(when - now, MAX_WAIT))
    return now + max(waits)


def is_due(feed: FeedState, now: datetime) -> bool:
    """Due when its next check has come; a feed that is gone is never due again."""
    if feed.gone or feed.status is FeedStatus.GONE:
        return False
    return feed.next_check is None or feed.next_check <= now


def after_fetch(
    state: FeedState,
    result: FetchResult,
    *,
    now: datetime,
    interval_minutes: int,
    ttl_minutes: int | None = None,
    update_minutes: int | None = None,
    parse_error: str | None = None,
) -> FeedState:
    """The feed's state after one fetch (and, for a 200, the parse of its body).

    `ttl_minutes` / `update_minutes` are what this parse found; `parse_error` says
    the body of a 200 could not be read as a feed.
    """
    if result.status == 410:
        # Never polled again: the digest and the report say so, the user decides.
        return replace(
            state,
            status=FeedStatus.GONE,
            gone=True,
            last_poll=now,
            last_error=result.error or "HTTP 410 Gone",
            last_error_type=result.error_type or "http",
            last_error_at=now,
            next_check=None,
        )

    answered = result.error is None and result.status is not None
    not_modified = answered and result.status == 304
    fetched = answered and result.status is not None and 200 <= result.status < 300

    if not_modified or (fetched and parse_error is None):
        return _after_success(
            state,
            result,
            now=now,
            interval_minutes=interval_minutes,
            ttl_minutes=ttl_minutes,
            update_minutes=update_minutes,
            not_modified=not_modified,
        )

    if fetched:
        message, error_type = parse_error, "parse"
        # Forget the validators of a body we could not read: keeping them would
        # turn the next poll into a 304 and call a broken feed healthy.
        etag, last_modified = None, None
    else:
        message = result.error or f"HTTP {result.status}"
        error_type = result.error_type or "http"
        etag, last_modified = state.etag, state.last_modified

    failures = state.failures + 1
    retry_after = (
        parse_retry_after(result.retry_after, now)
        if result.status in RETRY_AFTER_STATUSES
        else None
    )
    return replace(
        state,
        status=FeedStatus.ERROR,
        etag=etag,
        last_modified=last_modified,
        last_poll=now,
        last_error=message,
        last_error_type=error_type,
        last_error_at=now,
        failures=failures,
        next_check=next_check(
            now,
            interval_minutes=interval_minutes,
            url=state.url,
            failures=failures,
            retry_after=retry_after,
            fresh_until=None,  # an error response's freshness says nothing about the feed
            ttl_minutes=state.ttl_minutes,
            update_minutes=state.update_minutes,
        ),
    )


def _after_success(
    state: FeedState,
    result: FetchResult,
    *,
    now: datetime,
    interval_minutes: int,
    ttl_minutes: int | None,
    update_minutes: int | None,
    not_modified: bool,
) -> FeedState:
    if not_modified:
        # A 304 carries no body, so the feed's <ttl> and sy:updatePeriod from the
        # last 200 are kept in the store; otherwise every 304 would reset the
        # schedule. Its validators, when it sends any, replace the stored ones
        # (RFC 9110 §15.4.5: a 304 carries the ones a 200 would).
        ttl = ttl_minutes if ttl_minutes is not None else state.ttl_minutes
        update = update_minutes if update_minutes is not None else state.update_minutes
        etag = result.etag if result.etag is not None else state.etag
        last_modified = (
            result.last_modified if result.last_modified is not None else state.last_modified
        )
        status = FeedStatus.NOT_MODIFIED
    else:
        # A new representation: its validators (or their absence) are the truth now.
        ttl, update = ttl_minutes, update_minutes
        etag, last_modified = result.etag, result.last_modified
        status = FeedStatus.OK

    url, moved_to = _moves(state, result)
    return replace(
        state,
        url=url,
        moved_to=moved_to,
        status=status,
        gone=False,
        etag=etag,
        last_modified=last_modified,
        last_poll=now,
        last_success=now,
        last_error=None,
        last_error_type=None,
        last_error_at=None,
        failures=0,
        ttl_minutes=ttl,
        update_minutes=update,
        next_check=next_check(
            now,
            interval_minutes=interval_minutes,
            url=url,
            failures=0,
            retry_after=None,
            fresh_until=freshness_until(result.cache_control, result.expires, now),
            ttl_minutes=ttl,
            update_minutes=update,
        ),
    )


def _moves(state: FeedState, result: FetchResult) -> tuple[str, str | None]:
    """The feed's URL and proposed move after a successful fetch.

    A permanent redirect is proposed, not applied: `engage` never rewrites the
    watchlist without being asked, and sites misconfigure 301s. The one exception
    is the same URL moving from http to https, which loses nothing and is applied
    at once (the returned state carries the new URL; the caller re-keys the stored
    record). A temporary redirect changes nothing; no redirect at all means an
    earlier proposal no longer holds.
    """
    target = result.permanent_redirect
    if target is not None and target != state.url:
        if is_https_upgrade(state.url, target):
            return target, None
        return state.url, target
    if result.redirected:
        return state.url, state.moved_to
    return state.url, None


def is_https_upgrade(old: str, new: str) -> bool:
    """True when `new` is `old` on https: same host, port, path and query."""
    try:
        before, after = urlsplit(old), urlsplit(new)
        before_port, after_port = before.port, after.port
    except ValueError:
        return False
    return (
        before.scheme.lower() == "http"
        and after.scheme.lower() == "https"
        and before.hostname is not None
        and before.hostname == after.hostname
        and before_port in (None, 80)
        and after_port in (None, 443)
        and (before.path or "/") == (after.path or "/")
        and before.query == after.query
    )


def _http_date(text: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT (RFC 9110 §5.6.7), even when they forget to say so.
        when = when.replace(tzinfo=UTC)
    return when


def _cache_directives(header: str | None) -> dict[str, str | None]:
    directives: dict[str, str | None] = {}
    if not header:
        return directives
    for part in header.split(","):
        name, sep, value = part.partition("=")
        key = name.strip().lower()
        if not key:
            continue
        # The first occurrence wins (RFC 9111 §4.2.1).
        directives.setdefault(key, value.strip().strip('"') if sep else None)
    return directives
