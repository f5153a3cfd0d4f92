"""Ask Mastodon instances and a Bluesky AppView for the public conversation, politely.

Infrastructure: the only part of `engage.social` that makes calls. Every call goes through
`engage.poll.fetch.get`, so it has the manners of a feed fetch (the host's slot in the
shared Limiter, one deadline, a cap on the decoded body, our User-Agent).

Errors are values: each function returns what it found together with a Problem (the
account is gone, the server wants a login, it asks us to slow down, or anything else in
one line), and `wait_until` when the server asked for no more calls before a time (a 429,
or no calls left in its rate-limit window). Nothing raises for what a server can do.

The calls, and why a first fetch pages back but a later one does not: docs/design.md,
"Social APIs".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Generic, TypeVar
from urllib.parse import urlencode, urlsplit

from engage.models import Settings
from engage.poll.fetch import MIB, Client, Limiter, Reply, get
from engage.social import bluesky, mastodon
from engage.social.limits import wait_until
from engage.urls import same_host

ACCEPT_JSON = {"Accept": "application/json"}
API_MAX_BYTES = 4 * MIB  # a page of 40 statuses is about 150 KB; an API is not a podcast feed
FIRST_FETCH_PAGES = 3  # how far back a first fetch reads: 120 statuses, 150 posts
MASTODON_PAGE = 40  # the most statuses Mastodon returns in one page
BLUESKY_PAGE = 50  # getAuthorFeed's default (the lexicon allows 1..100)

T = TypeVar("T")


class Trouble(StrEnum):
    GONE = "gone"  # deleted, suspended, taken down: report like a gone feed
    LOGIN_REQUIRED = "login_required"  # the server refuses anonymous API calls (401/403)
    RATE_LIMITED = "rate_limited"  # 429: come back at wait_until
    ERROR = "error"  # anything else: network, server error, an unreadable answer


@dataclass(frozen=True)
class Problem:
    trouble: Trouble
    message: str  # one line a user can read, naming the host
    error_type: str | None = None  # for ERROR: timeout, connection, dns, tls, http, …


@dataclass(frozen=True)
class Api:
    """What every call shares: one client, one limiter (shared with the feeds of the same
    poll, so a host's slots count both), and the bounds."""

    client: Client
    limiter: Limiter
    deadline_seconds: float = 60.0
    max_bytes: int = API_MAX_BYTES

    @classmethod
    def from_settings(
        cls, client: Client, settings: Settings, limiter: Limiter | None = None
    ) -> Api:
        return cls(
            client,
            limiter or Limiter.from_settings(settings),
            settings.timeout_seconds,
            min(settings.max_body_bytes, API_MAX_BYTES),
        )


@dataclass(frozen=True)
class AccountLookup:
    account: mastodon.Account | None = None
    problem: Problem | None = None
    wait_until: datetime | None = None


@dataclass(frozen=True)
class StatusesFetch:
    statuses: tuple[mastodon.Status, ...] = ()
    skipped: tuple[str, ...] = ()  # statuses that could not be read, with the reason
    since_id: str | None = None  # what to send next time (the newest id seen, or the old one)
    pages: int = 0
    problem: Problem | None = None  # set with whatever pages came before it
    wait_until: datetime | None = None


@dataclass(frozen=True)
class ProfileLookup:
    profile: bluesky.Profile | None = None
    problem: Problem | None = None
    wait_until: datetime | None = None


@dataclass(frozen=True)
class FeedFetch:
    items: tuple[bluesky.FeedItem, ...] = ()
    skipped: tuple[str, ...] = ()
    seen_until: datetime | None = None  # the newest item's time, or the old value
    pages: int = 0
    problem: Problem | None = None
    wait_until: datetime | None = None


# ---------------------------------------------------------------------------
# Mastodon


async def lookup_mastodon_account(
    api: Api, base_url: str, acct: str, *, now: datetime | None = None
) -> AccountLookup:
    """The account `acct` (user@host) as the instance at `base_url` knows it.

    On the account's own instance this is the account; on another instance it is that
    instance's copy, with that instance's id (a 404 there means it has not met the
    account yet, not that the account is gone)."""
    base = base_url.rstrip("/")
    reply = await _get(api, f"{base}/api/v1/accounts/lookup?{urlencode({'acct': acct})}")
    problem, wait = _mastodon_problem(reply, f"@{acct}", _clock(now))
    if problem is not None:
        return AccountLookup(problem=problem, wait_until=wait)
    reading = mastodon.read_account(reply.body or b"")
    if reading.account is None:
        return AccountLookup(problem=_unreadable(reply, reading.error), wait_until=wait)
    if reading.account.suspended:
        message = f"@{acct} is suspended on {_host(reply.url)}"
        return AccountLookup(reading.account, Problem(Trouble.GONE, message), wait)
    return AccountLookup(reading.account, wait_until=wait)


async def fetch_mastodon_statuses(
    api: Api,
    base_url: str,
    account_id: str,
    *,
    since_id: str | None = None,
    max_pages: int = FIRST_FETCH_PAGES,
    now: datetime | None = None,
) -> StatusesFetch:
    """The account's statuses (their own, their replies and their boosts), newest first:
    those after `since_id`, or, on a first fetch, up to `max_pages` pages back."""
    base = base_url.rstrip("/")
    query = {"limit": str(MASTODON_PAGE)} | ({"since_id": since_id} if since_id else {})
    first = f"{base}/api/v1/accounts/{_segment(account_id)}/statuses?{urlencode(query)}"

    def read(reply: Reply) -> _Page[mastodon.Status]:
        reading = mastodon.read_statuses(reply.body or b"")
        # With since_id Mastodon answers the newest page after it: a later poll reads one
        # page. A first fetch pages back, but never to another host than the one asked.
        follow = (
            None if since_id else _same_origin(mastodon.next_link(reply.headers.get("link")), base)
        )
        return reading.statuses, reading.skipped, reading.error, follow

    def problem(reply: Reply, at: datetime) -> tuple[Problem | None, datetime | None]:
        return _mastodon_problem(reply, f"account {account_id}", at)

    paged = await _pages(api, first, read, problem, max_pages, _clock(now))
    newest = mastodon.newest_id([s.id for s in paged.items] + ([since_id] if since_id else []))
    return StatusesFetch(
        paged.items, paged.skipped, newest, paged.pages, paged.problem, paged.wait_until
    )


def _mastodon_problem(
    reply: Reply, what: str, now: datetime
) -> tuple[Problem | None, datetime | None]:
    def gone(status: int) -> Problem:
        detail = mastodon.api_error(reply.body) or _phrase(status)
        return Problem(
            Trouble.GONE,
            f"{what} is not on {_host(reply.url)} (HTTP {status}: {detail}); "
            "deleted, suspended or moved",
        )

    return _problem(reply, now, gone, mastodon.api_error)


# ---------------------------------------------------------------------------
# Bluesky


async def lookup_bluesky_profile(
    api: Api, appview: str, actor: str, *, now: datetime | None = None
) -> ProfileLookup:
    """The profile of `actor` (a handle or a DID): its DID, to keep."""
    base = appview.rstrip("/")
    url = f"{base}/xrpc/app.bsky.actor.getProfile?{urlencode({'actor': actor})}"
    reply = await _get(api, url)
    problem, wait = _bluesky_problem(reply, actor, _clock(now))
    if problem is not None:
        return ProfileLookup(problem=problem, wait_until=wait)
    reading = bluesky.read_profile(reply.body or b"")
    if reading.profile is None:
        return ProfileLookup(problem=_unreadable(reply, reading.error), wait_until=wait)
    return ProfileLookup(reading.profile, wait_until=wait)


async def fetch_bluesky_feed(
    api: Api,
    appview: str,
    did: str,
    *,
    seen_until: datetime | None = None,
    max_pages: int = FIRST_FETCH_PAGES,
    now: datetime | None = None,
) -> FeedFetch:
    """The account's posts, replies and reposts, newest first, back to `seen_until` (or,
    the first time, `max_pages` pages back; later polls are bounded the same way)."""
    base = appview.rstrip("/")
    query = {"actor": did, "filter": "posts_with_replies", "limit": str(BLUESKY_PAGE)}
    first = f"{base}/xrpc/app.bsky.feed.getAuthorFeed?{urlencode(query)}"

    def read(reply: Reply) -> _Page[bluesky.FeedItem]:
        reading = bluesky.read_feed(reply.body or b"")
        reached = seen_until is not None and any(i.when <= seen_until for i in reading.items)
        follow = None
        if reading.cursor is not None and not reached:
            follow = f"{first}&{urlencode({'cursor': reading.cursor})}"
        return reading.items, reading.skipped, reading.error, follow

    def problem(reply: Reply, at: datetime) -> tuple[Problem | None, datetime | None]:
        return _bluesky_problem(reply, did, at)

    paged = await _pages(api, first, read, problem, max_pages, _clock(now))
    newest = max((i.when for i in paged.items), default=None)
    seen = max(newest, seen_until) if newest and seen_until else newest or seen_until
    return FeedFetch(paged.items, paged.skipped, seen, paged.pages, paged.problem, paged.wait_until)


def _bluesky_problem(
    reply: Reply, actor: str, now: datetime
) -> tuple[Problem | None, datetime | None]:
    def gone(status: int) -> Problem:
        name, message = bluesky.xrpc_error(reply.body)
        detail = message or name or _phrase(status)
        return Problem(Trouble.GONE, f"{actor} is not on {_host(reply.url)} ({detail})")

    def detail(body: bytes | None) -> str | None:
        name, message = bluesky.xrpc_error(body)
        return ": ".join(part for part in (name, message) if part) or None

    if reply.status in (400, 404):
        # XRPC says "this account is gone" as a 400 with an error name; a 404 is a
        # method this server does not have (not an AppView) unless the name says more.
        name, message = bluesky.xrpc_error(reply.body)
        if name in bluesky.GONE_ERRORS or (message and "not found" in message.lower()):
            return gone(reply.status), None
        if reply.status == 404:
            message = f"{_host(reply.url)}: HTTP 404 Not Found (is it a Bluesky AppView?)"
            return Problem(Trouble.ERROR, message, "http"), None
    return _problem(reply, now, gone, detail, gone_statuses=(410,))


# ---------------------------------------------------------------------------
# Shared


# One page read: its items, the skipped reasons, why the body was unreadable, and the
# next page's URL (None: stop here).
_Page = tuple[Sequence[T], Sequence[str], str | None, str | None]


@dataclass(frozen=True)
class _Paged(Generic[T]):
    items: tuple[T, ...]
    skipped: tuple[str, ...]
    pages: int
    problem: Problem | None
    wait_until: datetime | None


async def _pages(
    api: Api,
    url: str,
    read: Callable[[Reply], _Page[T]],
    problem_of: Callable[[Reply, datetime], tuple[Problem | None, datetime | None]],
    max_pages: int,
    now: datetime,
) -> _Paged[T]:
    """Read pages from `url` on, while each names a next one, at most `max_pages`, and
    never once the server says no call is left; what came before a problem is kept."""
    items: list[T] = []
    skipped: list[str] = []
    pages = 0
    problem: Problem | None = None
    wait: datetime | None = None
    following: str | None = url
    while following is not None:
        reply = await _get(api, following)
        pages += 1
        problem, wait = problem_of(reply, now)
        if problem is not None:
            break
        found, passed, error, following = read(reply)
        if error is not None:
            problem = _unreadable(reply, error)
            break
        items.extend(found)
        skipped.extend(passed)
        if wait is not None or pages >= max(1, max_pages):
            break
    return _Paged(tuple(items), tuple(skipped), pages, problem, wait)


async def _get(api: Api, url: str) -> Reply:
    return await get(
        api.client,
        url,
        limiter=api.limiter,
        deadline_seconds=api.deadline_seconds,
        max_bytes=api.max_bytes,
        headers=ACCEPT_JSON,
    )


def _problem(
    reply: Reply,
    now: datetime,
    gone: Callable[[int], Problem],
    detail: Callable[[bytes | None], str | None],
    *,
    gone_statuses: tuple[int, ...] = (404, 410),
) -> tuple[Problem | None, datetime | None]:
    """What is wrong with one reply (None when it is a readable 2xx), and until when the
    server asked us to wait (also on success, when no call is left in its window)."""
    host = _host(reply.url)
    if reply.status is None:
        message = f"{host}: {reply.error or 'no answer'}"
        return Problem(Trouble.ERROR, message, reply.error_type or "connection"), None
    wait = wait_until(reply.status, reply.headers, now)
    status = reply.status
    if status == 429:
        after = f"; next try after {wait:%Y-%m-%d %H:%M} UTC" if wait else ""
        return Problem(Trouble.RATE_LIMITED, f"{host} asks us to slow down (HTTP 429){after}"), wait
    if status in (401, 403):
        message = (
            f"{host} answers its API only to logged-in users (HTTP {status}); "
            "its profile feed is followed instead"
        )
        return Problem(Trouble.LOGIN_REQUIRED, message), wait
    if status in gone_statuses:
        return gone(status), wait
    if not 200 <= status < 300:
        phrase = _phrase(status)
        said = detail(reply.body)
        message = f"{host}: HTTP {status} {phrase}".rstrip() + (f" ({said})" if said else "")
        return Problem(Trouble.ERROR, message, "http"), wait
    if reply.error is not None:
        return Problem(Trouble.ERROR, f"{host}: {reply.error}", reply.error_type), wait
    return None, wait


def _unreadable(reply: Reply, error: str | None) -> Problem:
    return Problem(Trouble.ERROR, f"{_host(reply.url)}: {error or 'unreadable answer'}", "parse")


def _same_origin(url: str | None, base: str) -> str | None:
    """`url` when it is on the host we asked (a Link to elsewhere is not followed)."""
    return url if url is not None and same_host(url, base) else None


def _segment(value: str) -> str:
    # An id is digits on Mastodon, a sortable string elsewhere; never a path of its own.
    return "".join(ch for ch in value if ch.isalnum() or ch in "-_")


def _phrase(status: int) -> str:
    # The standard phrase, not the server's: that is untrusted text and often empty.
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _clock(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)
