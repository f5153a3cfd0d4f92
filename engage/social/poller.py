"""One poll of the Mastodon and Bluesky accounts: plan the due ones, read them through
one client and one limiter, decide each account's next state, find the conversation in
what the cache now holds, and store it all in one short transaction.

Infrastructure; the decisions are `engage.social.accounts` (pure), the calls
`engage.social.client`. Run by the facade's `poll()` after the feed cycle, like it: the
store is read once without the lock, everything is fetched and decided outside it, and
the write is one transaction (docs/design.md, "Social APIs").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engage.models import AccountOutcome, AccountStatus, Settings, SocialAccount, Watchlist
from engage.social import accounts, client
from engage.social.accounts import Polled, SocialPost, Watched
from engage.social.client import Api, Problem, Trouble
from engage.social.handles import BlueskyHandle, MastodonHandle

if TYPE_CHECKING:
    from engage.store import Store

_STATUS = {
    Trouble.GONE: AccountStatus.GONE,
    Trouble.LOGIN_REQUIRED: AccountStatus.LOGIN_REQUIRED,
    Trouble.RATE_LIMITED: AccountStatus.RATE_LIMITED,
    Trouble.ERROR: AccountStatus.ERROR,
}


@dataclass(frozen=True)
class SocialCycle:
    """What one poll of the accounts did."""

    accounts: tuple[AccountOutcome, ...] = ()
    new_events: int = 0
    seconds: float = 0.0


def poll_accounts(
    watchlist: Watchlist,
    store: Store,
    *,
    now: datetime,
    everything: bool = False,
    person: str | None = None,
) -> SocialCycle:
    """Poll the accounts that are due (see `accounts.plan`); `watchlist` is keyed (each
    person's `key` is what their records are filed under), `person` a key."""
    started = time.monotonic()
    if not accounts.plan(watchlist, [], now, person=person):
        return SocialCycle()  # no account to read: the store is not even opened
    view = store.view(with_cache=False)
    try:
        stored = view.social_accounts()
    finally:
        view.close()
    planned = accounts.plan(watchlist, stored, now, everything=everything, person=person)
    if not planned:
        return SocialCycle()
    polled = asyncio.run(_poll_all(planned, watchlist.settings, now))
    # The cache is read after the calls, not held through them: the statuses already
    # there, and the feeds (a profile feed may have been added since).
    view = store.view(with_cache=True)
    try:
        cached = view.social_posts()
        feeds = view.feeds()
    finally:
        view.close()

    interval = watchlist.settings.poll_interval_minutes
    known = {(p.account, p.id) for p in cached}
    states = {s.key: s for s in stored}
    arrived: list[SocialPost] = []
    outcomes: list[AccountOutcome] = []
    for (watched, state), (result, posts) in zip(planned, polled, strict=True):
        after = accounts.after_poll(state, result, now=now, interval_minutes=interval)
        states[after.key] = after
        fresh = [p for p in posts if (p.account, p.id) not in known]
        known.update((p.account, p.id) for p in fresh)
        arrived += posts
        outcomes.append(
            AccountOutcome(
                watched.network,
                after.handle,
                after.person,
                after.status,
                len(fresh),
                after.last_error if after.status is not AccountStatus.OK else None,
            )
        )
    # Detection reads the cache as it will be after this write: what was there, and
    # what arrived (an item read again replaces its older copy).
    merged = {(p.account, p.id): p for p in cached}
    merged.update({(p.account, p.id): p for p in arrived})
    everyone = list(states.values())
    found = accounts.conversation(watchlist, everyone, list(merged.values()))
    add, remove = accounts.fallback_feeds(watchlist, everyone, feeds)

    with store.transaction(now) as tx:
        tx.put_social_accounts(states[watched.key] for watched, _ in planned)
        new_posts = tx.put_social_posts(arrived)
        added = tx.add_events(found)
        for feed in add:
            if tx.feed(feed.url) is None:
                tx.put_feeds([feed])
        for url in remove:
            tx.remove_feed(url)
        tx.remember_people(watchlist.everyone())
        if new_posts:
            keep = {e.url for e in tx.events() if e.url}
            tx.prune_cache(now, watchlist.settings.cache_days, keep)
    return SocialCycle(tuple(outcomes), len(added), time.monotonic() - started)


async def _poll_all(
    planned: list[tuple[Watched, SocialAccount]], settings: Settings, now: datetime
) -> list[tuple[Polled, list[SocialPost]]]:
    from engage.poll.fetch import make_client

    waits: dict[str, datetime] = {}
    async with make_client(settings) as http:
        api = Api.from_settings(http, settings)
        return list(
            await asyncio.gather(
                *(
                    _poll_one(api, watched, state, settings, now, waits)
                    for watched, state in planned
                )
            )
        )


async def _poll_one(
    api: Api,
    watched: Watched,
    state: SocialAccount,
    settings: Settings,
    now: datetime,
    waits: dict[str, datetime],
) -> tuple[Polled, list[SocialPost]]:
    """One account: its id looked up once (again when its API root changed: ids are per
    instance), then what is new since the last poll. A host that asks us to wait in
    this poll is not asked again in it."""
    root = accounts.api_root(watched.handle, settings)
    host = urlsplit(root).netloc.lower()
    same_root = state.api == root
    handle = watched.handle
    account_id = state.account_id if same_root else None
    if isinstance(handle, BlueskyHandle) and handle.is_did:
        account_id = handle.actor

    def waited(wait: datetime | None) -> None:
        if wait is not None:
            waits[host] = max(wait, waits.get(host, wait))

    def held() -> Polled | None:
        wait = waits.get(host)
        if wait is None:
            return None
        message = f"{host} asked for no calls before {wait:%Y-%m-%d %H:%M} UTC"
        return Polled(AccountStatus.RATE_LIMITED, message, None, account_id, root, wait_until=wait)

    if (stop := held()) is not None:
        return stop, []
    if account_id is None:
        if isinstance(handle, MastodonHandle):
            found = await client.lookup_mastodon_account(api, root, handle.acct, now=now)
            problem, wait = found.problem, found.wait_until
            if problem is None and found.account is not None and found.account.moved_to:
                message = (
                    f"{handle} moved to @{found.account.moved_to}: put the new address under "
                    "handles: in feeds.yaml"
                )
                problem = Problem(Trouble.GONE, message)
            account_id = found.account.id if found.account is not None else None
        else:
            profile = await client.lookup_bluesky_profile(api, root, handle.actor, now=now)
            problem, wait = profile.problem, profile.wait_until
            account_id = profile.profile.did if profile.profile is not None else None
        waited(wait)
        if problem is not None or account_id is None:
            return _troubled(problem, wait, root), []
        if (stop := held()) is not None:
            return replace(stop, account_id=account_id), []

    if isinstance(handle, MastodonHandle):
        since = state.since_id if same_root else None
        statuses = await client.fetch_mastodon_statuses(
            api, root, account_id, since_id=since, now=now
        )
        waited(statuses.wait_until)
        posts = accounts.mastodon_posts(state, statuses.statuses, now)
        since = statuses.since_id
        return _read(statuses.problem, statuses.wait_until, root, account_id, since=since), posts

    seen = state.seen_until if same_root else None
    feed = await client.fetch_bluesky_feed(api, root, account_id, seen_until=seen, now=now)
    waited(feed.wait_until)
    items = accounts.bluesky_posts(state, feed.items, now)
    return _read(feed.problem, feed.wait_until, root, account_id, seen=feed.seen_until), items


def _read(
    problem: Problem | None,
    wait: datetime | None,
    root: str,
    account_id: str,
    *,
    since: str | None = None,
    seen: datetime | None = None,
) -> Polled:
    """What reading an account's statuses came to. After a problem what came before it is
    kept, but not how far it got (`since`, `seen`): the next poll reads from the same
    point again."""
    if problem is not None:
        return replace(_troubled(problem, wait, root), account_id=account_id)
    return Polled(
        AccountStatus.OK, account_id=account_id, api=root, since_id=since, seen_until=seen,
        wait_until=wait,
    )  # fmt: skip


def _troubled(problem: Problem | None, wait: datetime | None, root: str) -> Polled:
    if problem is None:
        return Polled(AccountStatus.ERROR, f"{root}: no account in the answer", "parse", api=root)
    return Polled(
        _STATUS[problem.trouble], problem.message, problem.error_type, api=root, wait_until=wait
    )
