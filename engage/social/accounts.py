"""The social accounts a poll reads, what one poll does to an account's state, and the
conversation found in what was read.

Pure: the watchlist, the stored account states and statuses, and `now` in; values out.
`engage.social.poller` moves the data (store, network) around these decisions, and the
facade's `detect --rebuild` calls `conversation` over the cache as the poll does
(docs/design.md, "Social APIs").

- An account is due on the feeds' schedule (`engage.poll.schedule.next_check`): the poll
  interval with jitter, backoff after failures, never before a server's rate-limit reset;
  a gone account is never due again, and one whose server wants a login is asked again
  weekly, in case it opens its API.
- A host that asked us to wait holds back every account read through it (one AppView
  serves every Bluesky account; one Mastodon instance may serve me and them).
- What detection needs of each status or post is kept in the cache (`SocialPost`, with
  a short snippet), so events are found again from it by any later poll or rebuild: an
  account fetched now and mine fetched an hour ago still meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from engage.models import (
    AccountStatus,
    Event,
    FeedKind,
    FeedState,
    FeedStatus,
    Network,
    Person,
    Settings,
    SocialAccount,
    Watchlist,
    fold_name,
)
from engage.poll import schedule
from engage.poll.pages import platform_feed
from engage.social.bluesky import FeedItem
from engage.social.detect import Instance, bluesky_events, mastodon_events
from engage.social.handles import BlueskyHandle, MastodonHandle, parse_bluesky, parse_mastodon
from engage.social.mastodon import Status
from engage.urls import normalize_url

NETWORK_NAMES = {Network.MASTODON: "Mastodon", Network.BLUESKY: "Bluesky"}
BLUESKY_WEB = "https://bsky.app"  # where Bluesky profiles and their RSS feeds live


@dataclass(frozen=True)
class Watched:
    """An account the watchlist lists, and whose it is (a person filed under their key)."""

    person: Person
    network: Network
    handle: MastodonHandle | BlueskyHandle

    @property
    def key(self) -> str:
        return f"{self.network.value}:{self.handle}"

    def new_state(self) -> SocialAccount:
        return SocialAccount(self.network, str(self.handle), self.person.key)


@dataclass(frozen=True)
class SocialPost:
    """A status (Mastodon) or an author-feed entry (Bluesky) as detection needs it: kept in
    the cache, so a later poll or `detect --rebuild` finds its events again. Holds a short
    plain snippet of the text, never the post (docs/design.md, "Privacy")."""

    account: str  # the key of the account it was read from (SocialAccount.key)
    person: str  # whose account: their key
    id: str  # the status URI; the entry's key on Bluesky (a repost is its own record)
    when: datetime
    first_seen: datetime | None = None
    status: Status | None = None
    item: FeedItem | None = None

    @property
    def urls(self) -> tuple[str, ...]:
        """The links an event made of it points to (pruning keeps what an event needs)."""
        if self.status is not None:
            shared = self.status.boosted
            return (self.status.url, shared.url) if shared else (self.status.url,)
        return (self.item.post.url,) if self.item is not None else ()


@dataclass(frozen=True)
class Polled:
    """What one poll of an account came to: OK, or the trouble with its one-line message,
    and what to keep for the next poll."""

    status: AccountStatus
    message: str | None = None
    error_type: str | None = None
    account_id: str | None = None
    api: str | None = None
    since_id: str | None = None
    seen_until: datetime | None = None
    wait_until: datetime | None = None


# ---------------------------------------------------------------------------
# Which accounts


def watched_accounts(watchlist: Watchlist) -> list[Watched]:
    """Every Mastodon and Bluesky account of me, the people and the contacts, me first.
    The watchlist validated the handles; one that does not read (a hand-made Watchlist)
    is skipped rather than polled wrong."""
    found: list[Watched] = []
    for person in watchlist.everyone():
        for network in Network:
            text = person.handles.get(network.value)
            if not text:
                continue
            read = parse_mastodon if network is Network.MASTODON else parse_bluesky
            try:
                handle: MastodonHandle | BlueskyHandle = read(text)
            except ValueError:
                continue
            found.append(Watched(person, network, handle))
    return found


def api_root(handle: MastodonHandle | BlueskyHandle, settings: Settings) -> str:
    """Where an account's API is read: its instance (or the instance settings name for
    the handle's host: a split domain, a test server), or the Bluesky AppView."""
    if isinstance(handle, MastodonHandle):
        return settings.mastodon_api.get(handle.host, handle.base_url).rstrip("/")
    return settings.bluesky_appview.rstrip("/")


def is_due(state: SocialAccount, now: datetime) -> bool:
    """Due when its next check has come and the server's wait is over; never when gone."""
    if state.gone:
        return False
    if state.wait_until is not None and state.wait_until > now:
        return False
    return state.next_check is None or state.next_check <= now


def plan(
    watchlist: Watchlist,
    stored: Sequence[SocialAccount],
    now: datetime,
    *,
    everything: bool = False,
    person: str | None = None,
) -> list[tuple[Watched, SocialAccount]]:
    """The accounts to poll now with their states. Only on the networks I am on: without
    an account of mine there is no conversation with me to find, and no call is made.
    `person` (a key) keeps theirs, and mine on the same networks (their conversation with
    me needs both); `everything` ignores the schedule but never a server's wait."""
    by_key = {state.key: state for state in stored}
    watched = watched_accounts(watchlist)
    settings = watchlist.settings
    waiting = _hosts_waiting(stored, now)
    wanted = fold_name(person) if person is not None else None
    networks = {w.network for w in watched if wanted and fold_name(w.person.key) == wanted}
    me = watchlist.me.key
    mine_on = {w.network for w in watched if w.person.key == me}
    out: list[tuple[Watched, SocialAccount]] = []
    for item in watched:
        if item.network not in mine_on:
            continue
        state = by_key.get(item.key) or item.new_state()
        if state.person != item.person.key:
            state = replace(state, person=item.person.key)
        if wanted is not None:
            mine = item.person.key == me and item.network in networks
            if not mine and fold_name(item.person.key) != wanted:
                continue
        if state.gone or _host(api_root(item.handle, settings)) in waiting:
            continue
        if state.wait_until is not None and state.wait_until > now:
            continue
        if everything or is_due(state, now):
            out.append((item, state))
    return out


def _hosts_waiting(stored: Iterable[SocialAccount], now: datetime) -> set[str]:
    return {
        _host(state.api)
        for state in stored
        if state.api and state.wait_until is not None and state.wait_until > now
    }


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


# ---------------------------------------------------------------------------
# What one poll does to an account


def after_poll(
    state: SocialAccount, polled: Polled, *, now: datetime, interval_minutes: int
) -> SocialAccount:
    """The account's state after one poll (docs/design.md, "Social APIs")."""
    wait = polled.wait_until if polled.wait_until and polled.wait_until > now else None
    kept = replace(
        state,
        account_id=polled.account_id or state.account_id,
        api=polled.api or state.api,
        since_id=polled.since_id or state.since_id,
        seen_until=_later(polled.seen_until, state.seen_until),
        last_poll=now,
        wait_until=wait,
    )
    if polled.status is AccountStatus.OK:
        return replace(
            kept,
            status=AccountStatus.OK,
            last_success=now,
            last_error=None,
            last_error_type=None,
            last_error_at=None,
            failures=0,
            next_check=_next(kept, now, interval_minutes, failures=0, wait=wait),
        )
    failed = replace(
        kept,
        status=polled.status,
        last_error=polled.message,
        last_error_type=polled.error_type or polled.status.value,
        last_error_at=now,
        failures=state.failures + 1,
    )
    if polled.status is AccountStatus.GONE:
        # Never polled again, like a feed that answered 410: the user decides.
        return replace(failed, next_check=None)
    if polled.status is AccountStatus.LOGIN_REQUIRED:
        # Its profile feed is followed meanwhile; the API is asked again once a week in
        # case the instance opens it, not every hour with the same refusal.
        return replace(failed, next_check=now + schedule.MAX_WAIT)
    return replace(
        failed, next_check=_next(kept, now, interval_minutes, failures=failed.failures, wait=wait)
    )


def _next(
    state: SocialAccount, now: datetime, interval: int, *, failures: int, wait: datetime | None
) -> datetime:
    return schedule.next_check(
        now,
        interval_minutes=interval,
        url=state.key,
        failures=failures,
        retry_after=wait,
        fresh_until=None,
        ttl_minutes=None,
        update_minutes=None,
    )


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def mastodon_posts(
    state: SocialAccount, statuses: Iterable[Status], now: datetime
) -> list[SocialPost]:
    return [SocialPost(state.key, state.person, s.uri, s.created, now, status=s) for s in statuses]


def bluesky_posts(
    state: SocialAccount, items: Iterable[FeedItem], now: datetime
) -> list[SocialPost]:
    return [SocialPost(state.key, state.person, i.key, i.when, now, item=i) for i in items]


# ---------------------------------------------------------------------------
# The conversation


def conversation(
    watchlist: Watchlist, accounts: Sequence[SocialAccount], posts: Sequence[SocialPost]
) -> tuple[Event, ...]:
    """Every event between me and each person (or contact) on the networks we both are
    on, from the statuses and posts in the cache. Without my account on a network there is
    nobody to talk to there; on Bluesky, a DID not looked up yet waits for the next poll."""
    states = {a.key: a for a in accounts}
    by_account: dict[str, list[SocialPost]] = {}
    for post in posts:
        by_account.setdefault(post.account, []).append(post)
    watched = watched_accounts(watchlist)
    me = watchlist.me.key
    mine = {w.network: w for w in watched if w.person.key == me}
    found: list[Event] = []
    for theirs in watched:
        my = mine.get(theirs.network)
        if my is None or theirs.person.key == me:
            continue
        their_posts = by_account.get(theirs.key, [])
        my_posts = by_account.get(my.key, [])
        if isinstance(theirs.handle, MastodonHandle) and isinstance(my.handle, MastodonHandle):
            their_state, my_state = states.get(theirs.key), states.get(my.key)
            found += mastodon_events(
                theirs.person.key,
                me=my.handle,
                them=theirs.handle,
                theirs=[p.status for p in their_posts if p.status is not None],
                mine=[p.status for p in my_posts if p.status is not None],
                # Ids are per instance: each side's own id is known from its lookup; the
                # other side is recognised by the address its mentions carry.
                their_instance=Instance(
                    theirs.handle.host, them=their_state.account_id if their_state else None
                ),
                my_instance=Instance(my.handle.host, me=my_state.account_id if my_state else None),
            )
        elif isinstance(theirs.handle, BlueskyHandle) and isinstance(my.handle, BlueskyHandle):
            their_did, my_did = did_of(theirs, states), did_of(my, states)
            if their_did is None or my_did is None:
                continue
            found += bluesky_events(
                theirs.person.key,
                me=my_did,
                them=their_did,
                theirs=[p.item for p in their_posts if p.item is not None],
                mine=[p.item for p in my_posts if p.item is not None],
            )
    return tuple(sorted(found, key=lambda e: (e.when, e.id)))


def did_of(watched: Watched, states: dict[str, SocialAccount]) -> str | None:
    handle = watched.handle
    if isinstance(handle, BlueskyHandle) and handle.is_did:
        return handle.actor
    state = states.get(watched.key)
    return state.account_id if state is not None else None


# ---------------------------------------------------------------------------
# Profile feeds, and how an account looks beside the feeds


def profile_feed(handle: MastodonHandle | BlueskyHandle, settings: Settings) -> str:
    """The account's public posts as RSS: what `engage add` lists, and what is followed
    when its API wants a login. A Mastodon profile feed lives on the server (the API root),
    which is not the handle's host when the instance uses another domain for handles."""
    if isinstance(handle, MastodonHandle):
        return f"{api_root(handle, settings)}/@{handle.user}.rss"
    return f"{BLUESKY_WEB}/profile/{handle.actor}/rss"


def fallback_feeds(
    watchlist: Watchlist, accounts: Iterable[SocialAccount], feeds: Iterable[FeedState]
) -> tuple[list[FeedState], list[str]]:
    """The profile feeds to follow instead of an API that wants a login (unless the
    watchlist lists them already), and those to stop following because the API answers
    again. Returns (feeds to add, URLs to remove)."""
    states = {a.key: a for a in accounts}
    listed = {normalize_url(f.url, keep_scheme=True) for p in watchlist.everyone() for f in p.feeds}
    stored = {f.url: f for f in feeds}
    add: list[FeedState] = []
    remove: list[str] = []
    for watched in watched_accounts(watchlist):
        state = states.get(watched.key)
        if state is None:
            continue
        url = profile_feed(watched.handle, watchlist.settings)
        if normalize_url(url, keep_scheme=True) in listed:
            continue
        known = stored.get(url)
        if state.status is AccountStatus.LOGIN_REQUIRED and known is None:
            name = NETWORK_NAMES[watched.network]
            add.append(
                FeedState(
                    url=url,
                    person=watched.person.key,
                    kind=FeedKind.SOCIAL,
                    title=f"{watched.handle} ({name} profile feed: its API wants a login)",
                    discovered=True,
                )
            )
        elif state.status is AccountStatus.OK and known is not None and known.discovered:
            remove.append(url)
    return add, remove


def social_addresses(
    person: Person, key: str, stored: Iterable[SocialAccount]
) -> tuple[str, ...]:
    """How statuses name someone's accounts (`user@host`, their profile's host and path,
    a Bluesky handle, a DID): what `forget` looks for in everyone's statuses."""
    found: list[str] = []
    for network in Network:
        text = person.handles.get(network.value)
        if not text:
            continue
        try:
            if network is Network.MASTODON:
                handle = parse_mastodon(text)
                found += [handle.acct, f"{handle.host}/@{handle.user}"]
            else:
                found.append(parse_bluesky(text).actor)
        except ValueError:
            continue
    # Their DIDs as looked up, and the handles their stored accounts had (a Mastodon id is
    # a number of one instance: it names nobody elsewhere, and is no address).
    theirs = [a for a in stored if fold_name(a.person) == fold_name(key)]
    found += [a.account_id for a in theirs if a.network is Network.BLUESKY and a.account_id]
    found += [a.handle.lstrip("@") for a in theirs]
    return tuple(dict.fromkeys(found))


def social_handle(text: str) -> tuple[Network, MastodonHandle | BlueskyHandle] | None:
    """The account behind what a user gave `engage add`: a Mastodon address or profile URL,
    or a Bluesky profile URL; None for anything else (a page, a feed)."""
    platform = platform_feed(text)
    if platform is None or platform.platform not in ("mastodon", "bluesky"):
        return None
    try:
        if platform.platform == "mastodon":
            return Network.MASTODON, parse_mastodon(text)
        return Network.BLUESKY, parse_bluesky(text)
    except ValueError:
        return None  # a profile on a host that is no DNS name (an address): a feed only


def profile_url(account: SocialAccount) -> str:
    """The account's page, for people to click."""
    if account.network is Network.MASTODON:
        return parse_mastodon(account.handle).profile_url
    return f"{BLUESKY_WEB}/profile/{account.handle}"


_AS_FEED = {
    AccountStatus.NEVER: FeedStatus.NEVER,
    AccountStatus.OK: FeedStatus.OK,
    AccountStatus.ERROR: FeedStatus.ERROR,
    AccountStatus.GONE: FeedStatus.GONE,
    AccountStatus.LOGIN_REQUIRED: FeedStatus.ERROR,
    AccountStatus.RATE_LIMITED: FeedStatus.ERROR,
}


def as_feed(account: SocialAccount) -> FeedState:
    """The account as a feed's health reads (its page as the URL): what the feed list and
    the digest's "feeds that need attention" show beside the feeds."""
    return FeedState(
        url=profile_url(account),
        person=account.person,
        kind=FeedKind.SOCIAL,
        title=f"{NETWORK_NAMES[account.network]} API: {account.handle}",
        status=_AS_FEED[account.status],
        last_poll=account.last_poll,
        last_success=account.last_success,
        last_error=account.last_error,
        last_error_type=account.last_error_type,
        last_error_at=account.last_error_at,
        failures=account.failures,
        next_check=account.next_check,
        gone=account.gone,
    )
