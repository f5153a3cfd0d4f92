"""The Mastodon and Bluesky clients over real HTTP against a local server speaking both
APIs (tests/socialserver.py), and the events the conversation there gives.

The expected events below were worked out by reading `mastodon_world()` and
`bluesky_world()`: Dana replies to my first post on the 3rd, I answer her on the 4th,
she mentions me on the 5th, I boost her first post on the 6th, she boosts mine on the
7th; her reply to Lee on the 6th names me too and must not count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from socialserver import (
    DANA_DID,
    SAM_DID,
    BskyPost,
    RateLimit,
    SocialServer,
    Toot,
    bluesky_world,
    mastodon_world,
)

from engage import __version__
from engage.models import EventKind, Settings
from engage.poll.fetch import make_client
from engage.social import client
from engage.social.client import Api, Trouble
from engage.social.detect import Instance, bluesky_events, mastodon_events
from engage.social.handles import parse_mastodon

T = TypeVar("T")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
SETTINGS = Settings(contact_url="https://example.org/engage-tests", timeout_seconds=30)
ME = parse_mastodon("@sam@mastodon.example.net")
DANA = parse_mastodon("https://social.example.org/@dana")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@asynccontextmanager
async def api() -> AsyncIterator[Api]:
    async with make_client(SETTINGS) as http:
        yield Api.from_settings(http, SETTINGS)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MASTODON_EVENTS = [
    (
        EventKind.THEIR_REPLY,
        at("2026-11-03T14:15"),
        "https://social.example.org/@dana/110000000000000200",
    ),
    (
        EventKind.MY_COMMENT,
        at("2026-11-04T10:00"),
        "https://mastodon.example.net/@sam/109000000000000300",
    ),
    (
        EventKind.THEIR_MENTION,
        at("2026-11-05T18:30"),
        "https://social.example.org/@dana/110000000000000500",
    ),
    # my boost links to the status I shared, hers to mine
    (
        EventKind.MY_SHARE,
        at("2026-11-06T09:00"),
        "https://social.example.org/@dana/110000000000000100",
    ),
    (
        EventKind.THEIR_SHARE,
        at("2026-11-07T12:00"),
        "https://mastodon.example.net/@sam/109000000000000100",
    ),
]


# ---------------------------------------------------------------------------
# Mastodon


def test_the_mastodon_conversation_over_http() -> None:
    world = mastodon_world(page_size=3)
    with (
        SocialServer(mastodon=world.dana_server) as there,
        SocialServer(mastodon=world.my_server) as here,
    ):

        async def poll() -> tuple[Any, ...]:
            async with api() as a:
                dana = await client.lookup_mastodon_account(a, there.base_url, DANA.acct, now=NOW)
                me = await client.lookup_mastodon_account(a, here.base_url, ME.user, now=NOW)
                # Each instance numbers accounts its own way: ask each for the other's id.
                me_there = await client.lookup_mastodon_account(a, there.base_url, ME.acct, now=NOW)
                dana_here = await client.lookup_mastodon_account(
                    a, here.base_url, DANA.acct, now=NOW
                )
                assert dana.account and me.account and me_there.account and dana_here.account
                theirs = await client.fetch_mastodon_statuses(
                    a, there.base_url, dana.account.id, now=NOW
                )
                mine = await client.fetch_mastodon_statuses(
                    a, here.base_url, me.account.id, now=NOW
                )
                ids = (dana.account.id, me.account.id, me_there.account.id, dana_here.account.id)
                return theirs, mine, ids

        theirs, mine, (dana_id, my_id, me_there_id, dana_here_id) = run(poll())
        assert (dana_id, my_id) == ("110000000000000001", "109000000000000001")
        assert (me_there_id, dana_here_id) == ("110000000000000077", "109000000000000042")
        assert len(there.user_agents) == 5  # two lookups, three pages
        assert set(there.user_agents) == {
            f"engage/{__version__} (+https://example.org/engage-tests)"
        }

    # Her 7 statuses came in 3 pages of 3, following Link rel="next"; mine in 2.
    assert (theirs.pages, len(theirs.statuses), theirs.problem) == (3, 7, None)
    assert there.requests[-3:] == [
        "/api/v1/accounts/110000000000000001/statuses?limit=40",
        "/api/v1/accounts/110000000000000001/statuses?limit=3&max_id=110000000000000500",
        "/api/v1/accounts/110000000000000001/statuses?limit=3&max_id=110000000000000200",
    ]
    assert (mine.pages, len(mine.statuses)) == (2, 4)
    assert (theirs.since_id, mine.since_id) == ("110000000000000700", "109000000000000400")

    events = mastodon_events(
        "Dana Reyes",
        me=ME,
        them=DANA,
        theirs=theirs.statuses,
        mine=mine.statuses,
        their_instance=Instance(DANA.host, me=me_there_id, them=dana_id),
        my_instance=Instance(ME.host, me=my_id, them=dana_here_id),
    )
    assert [(e.kind, e.when, e.url) for e in events] == MASTODON_EVENTS
    assert (
        events[1].evidence
        == 'my reply on Mastodon: "@dana Glad it resonates, <3 let\'s talk at the meetup."'
    )
    # Without the cross-instance lookups, the addresses in mentions find the same events.
    by_address = mastodon_events(
        "Dana Reyes", me=ME, them=DANA, theirs=theirs.statuses, mine=mine.statuses
    )
    assert by_address == events


def test_a_repoll_reads_only_what_is_new_and_gives_the_same_ids() -> None:
    world = mastodon_world(page_size=3)
    dana_id = "110000000000000001"
    with SocialServer(mastodon=world.dana_server) as there:

        async def fetch(since_id: str | None) -> client.StatusesFetch:
            async with api() as a:
                return await client.fetch_mastodon_statuses(
                    a, there.base_url, dana_id, since_id=since_id, now=NOW
                )

        first = run(fetch(None))
        again = run(fetch(None))
        nothing_new = run(fetch(first.since_id))
        sam_there = world.dana_server.accounts[2]
        world.dana_server.toots.append(
            Toot(
                "110000000000000800",
                world.dana_server.accounts[0],
                "2026-11-08T16:45:00.000Z",
                "One more thought on your post.",
                in_reply_to=("110000000000000050", sam_there.id),
                mentions=(sam_there,),
            )
        )
        one_new = run(fetch(first.since_id))
        asked = there.requests[-1]

    def ids(statuses: Any) -> list[str]:
        return [
            e.id for e in mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=statuses, mine=[])
        ]

    assert ids(first.statuses) == ids(again.statuses) and len(ids(first.statuses)) == 3
    assert (nothing_new.statuses, nothing_new.pages, nothing_new.since_id) == (
        (),
        1,
        first.since_id,
    )
    # since_id: one page, no Link followed, and the new reply is the only event.
    assert (
        asked == "/api/v1/accounts/110000000000000001/statuses?limit=40&since_id=110000000000000700"
    )
    assert (one_new.pages, [s.id for s in one_new.statuses]) == (1, ["110000000000000800"])
    assert one_new.since_id == "110000000000000800"
    (event,) = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=one_new.statuses, mine=[])
    assert (event.kind, event.when, event.url) == (
        EventKind.THEIR_REPLY,
        at("2026-11-08T16:45"),
        "https://social.example.org/@dana/110000000000000800",
    )
    assert event.id not in ids(first.statuses)


def test_a_first_fetch_pages_back_only_so_far_and_never_to_another_host() -> None:
    world = mastodon_world(page_size=3)
    with SocialServer(mastodon=world.dana_server) as there:

        async def fetch(max_pages: int) -> client.StatusesFetch:
            async with api() as a:
                return await client.fetch_mastodon_statuses(
                    a, there.base_url, "110000000000000001", max_pages=max_pages, now=NOW
                )

        bounded = run(fetch(2))
        world.dana_server.link_base = "http://127.0.0.2:9"  # a Link to elsewhere
        elsewhere = run(fetch(3))
    assert (bounded.pages, len(bounded.statuses)) == (2, 6)
    assert bounded.since_id == "110000000000000700"  # the newest is on the first page
    assert (elsewhere.pages, len(elsewhere.statuses), elsewhere.problem) == (1, 3, None)


def test_no_calls_left_stops_paging_and_says_until_when() -> None:
    world = mastodon_world(page_size=3)
    reset = NOW + timedelta(minutes=4)
    with SocialServer(mastodon=world.dana_server, rate_limit=RateLimit(2, reset)) as there:

        async def fetch() -> tuple[client.StatusesFetch, client.AccountLookup]:
            async with api() as a:
                statuses = await client.fetch_mastodon_statuses(
                    a, there.base_url, "110000000000000001", now=NOW
                )
                refused = await client.lookup_mastodon_account(a, there.base_url, "dana", now=NOW)
                return statuses, refused

        statuses, refused = run(fetch())
    # The second page said 0 calls left: no third page, and come back at the reset.
    assert (statuses.pages, len(statuses.statuses), statuses.problem) == (2, 6, None)
    assert statuses.wait_until == reset
    # One more call anyway: a 429, as a value with the time to come back.
    assert refused.account is None and refused.problem is not None
    assert refused.problem.trouble is Trouble.RATE_LIMITED
    assert refused.wait_until == reset
    assert refused.problem.message == (
        f"127.0.0.1:{there.port} asks us to slow down (HTTP 429); next try after "
        f"{reset:%Y-%m-%d %H:%M} UTC"
    )


def test_an_instance_that_refuses_anonymous_calls_says_so_in_one_line() -> None:
    world = mastodon_world()
    with SocialServer(mastodon=world.dana_server, refuse_anonymous=True) as there:

        async def lookup() -> client.AccountLookup:
            async with api() as a:
                return await client.lookup_mastodon_account(a, there.base_url, "dana", now=NOW)

        result = run(lookup())
    assert result.account is None and result.problem == client.Problem(
        Trouble.LOGIN_REQUIRED,
        f"127.0.0.1:{there.port} answers its API only to logged-in users (HTTP 401); "
        "its profile feed is followed instead",
    )


def test_a_deleted_or_suspended_account_is_gone() -> None:
    world = mastodon_world()
    world.dana_server.gone.add("110000000000000001")
    with SocialServer(mastodon=world.dana_server) as there:

        async def calls() -> tuple[client.AccountLookup, client.StatusesFetch]:
            async with api() as a:
                missing = await client.lookup_mastodon_account(a, there.base_url, "nobody", now=NOW)
                gone = await client.fetch_mastodon_statuses(
                    a, there.base_url, "110000000000000001", now=NOW
                )
                return missing, gone

        missing, gone = run(calls())
    host = f"127.0.0.1:{there.port}"
    assert missing.problem == client.Problem(
        Trouble.GONE,
        f"@nobody is not on {host} (HTTP 404: Record not found); deleted, suspended or moved",
    )
    assert gone.problem is not None and gone.problem.trouble is Trouble.GONE
    assert gone.problem.message.startswith(f"account 110000000000000001 is not on {host} (HTTP 410")


def test_a_server_that_is_not_there_is_an_error_value() -> None:
    with SocialServer() as closed:
        url = closed.base_url

    async def lookup() -> client.AccountLookup:
        async with api() as a:
            return await client.lookup_mastodon_account(a, url, "dana", now=NOW)

    result = run(lookup())
    assert result.problem is not None and result.problem.trouble is Trouble.ERROR
    assert result.problem.error_type == "connection"
    assert "connection refused" in result.problem.message


# ---------------------------------------------------------------------------
# Bluesky

BLUESKY_EVENTS = [
    (
        EventKind.THEIR_REPLY,
        at("2026-11-03T14:15"),
        "https://bsky.app/profile/dana.example.org/post/3m4dbbbbbbb2a",
    ),
    (
        EventKind.MY_COMMENT,
        at("2026-11-04T10:00"),
        "https://bsky.app/profile/sam.example.net/post/3m4abbbbbbb2a",
    ),
    # her record says the 6th, the AppView saw it on the 5th: the earlier time counts
    (
        EventKind.THEIR_MENTION,
        at("2026-11-05T18:30"),
        "https://bsky.app/profile/dana.example.org/post/3m4dccccccc2a",
    ),
    (
        EventKind.MY_SHARE,
        at("2026-11-06T09:00"),
        "https://bsky.app/profile/dana.example.org/post/3m4daaaaaaa2a",
    ),
    (
        EventKind.THEIR_SHARE,
        at("2026-11-07T12:00"),
        "https://bsky.app/profile/sam.example.net/post/3m4aaaaaaaa2a",
    ),
]


def test_the_bluesky_conversation_over_http() -> None:
    view = bluesky_world(page_size=2)
    with SocialServer(appview=view) as appview:

        async def poll() -> tuple[Any, ...]:
            async with api() as a:
                dana = await client.lookup_bluesky_profile(
                    a, appview.base_url, "dana.example.org", now=NOW
                )
                me = await client.lookup_bluesky_profile(a, appview.base_url, SAM_DID, now=NOW)
                assert dana.profile and me.profile
                theirs = await client.fetch_bluesky_feed(
                    a, appview.base_url, dana.profile.did, now=NOW
                )
                mine = await client.fetch_bluesky_feed(a, appview.base_url, me.profile.did, now=NOW)
                return dana.profile, me.profile, theirs, mine

        dana, me, theirs, mine = run(poll())
        asked = list(appview.requests)
    assert (dana.did, dana.handle, me.did, me.handle) == (
        DANA_DID,
        "dana.example.org",
        SAM_DID,
        "sam.example.net",
    )
    # Her five entries in pages of two, following the cursor.
    assert (theirs.pages, len(theirs.items), theirs.problem) == (3, 5, None)
    assert asked[2:5] == [
        f"/xrpc/app.bsky.feed.getAuthorFeed?actor={DANA_DID}&filter=posts_with_replies&limit=50",
        f"/xrpc/app.bsky.feed.getAuthorFeed?actor={DANA_DID}&filter=posts_with_replies&limit=50"
        "&cursor=2026-11-06T15:00:00.000Z",
        f"/xrpc/app.bsky.feed.getAuthorFeed?actor={DANA_DID}&filter=posts_with_replies&limit=50"
        "&cursor=2026-11-03T14:15:00.000Z",
    ]
    assert theirs.seen_until == at("2026-11-07T12:00")
    events = bluesky_events(
        "Dana Reyes", me=me.did, them=dana.did, theirs=theirs.items, mine=mine.items
    )
    assert [(e.kind, e.when, e.url) for e in events] == BLUESKY_EVENTS
    assert (
        events[2].evidence
        == 'mention of me on Bluesky: "@sam.example.net wrote a good piece on feeds, read it."'
    )
    again = bluesky_events(
        "Dana Reyes", me=me.did, them=dana.did, theirs=theirs.items, mine=mine.items
    )
    assert [e.id for e in again] == [e.id for e in events]


def test_a_bluesky_repoll_stops_at_what_it_saw() -> None:
    view = bluesky_world(page_size=2)
    with SocialServer(appview=view) as appview:

        async def fetch(seen: datetime | None) -> client.FeedFetch:
            async with api() as a:
                return await client.fetch_bluesky_feed(
                    a, appview.base_url, DANA_DID, seen_until=seen, now=NOW
                )

        first = run(fetch(None))
        dana, sam = view.accounts[1], view.accounts[0]
        view.posts.append(
            BskyPost(
                "3m4deeeeeee2a",
                dana,
                "2026-11-08T16:45:00.000Z",
                "One more thought.",
                reply_to=view.posts[0],
            )
        )
        later = run(fetch(first.seen_until))
    assert later.pages == 1  # the first page already reached the repost seen last time
    assert later.seen_until == at("2026-11-08T16:45")
    new = bluesky_events("Dana Reyes", me=sam.did, them=DANA_DID, theirs=later.items, mine=[])
    old = bluesky_events("Dana Reyes", me=sam.did, them=DANA_DID, theirs=first.items, mine=[])
    assert [(e.kind, e.when) for e in new if e.id not in {o.id for o in old}] == [
        (EventKind.THEIR_REPLY, at("2026-11-08T16:45"))
    ]


def test_bluesky_troubles_are_values() -> None:
    view = bluesky_world()
    view.accounts[1].gone = "AccountTakedown"
    reset = NOW + timedelta(minutes=5)
    with (
        SocialServer(appview=view) as appview,
        SocialServer(appview=bluesky_world(), refuse_anonymous=True) as private,
        SocialServer(appview=bluesky_world(), rate_limit=RateLimit(0, reset)) as busy,
    ):

        async def calls() -> tuple[Any, ...]:
            async with api() as a:
                return (
                    await client.lookup_bluesky_profile(a, appview.base_url, DANA_DID, now=NOW),
                    await client.fetch_bluesky_feed(a, appview.base_url, DANA_DID, now=NOW),
                    await client.lookup_bluesky_profile(
                        a, appview.base_url, "nobody.example.org", now=NOW
                    ),
                    await client.lookup_bluesky_profile(a, private.base_url, SAM_DID, now=NOW),
                    await client.fetch_bluesky_feed(a, busy.base_url, SAM_DID, now=NOW),
                )

        takedown, feed_gone, unknown, login, limited = run(calls())
    host = f"127.0.0.1:{appview.port}"
    assert takedown.problem == client.Problem(
        Trouble.GONE, f"{DANA_DID} is not on {host} (Account has been suspended)"
    )
    assert feed_gone.problem is not None and feed_gone.problem.trouble is Trouble.GONE
    assert unknown.problem == client.Problem(
        Trouble.GONE, f"nobody.example.org is not on {host} (Profile not found)"
    )
    assert login.problem is not None and login.problem.trouble is Trouble.LOGIN_REQUIRED
    assert limited.problem is not None and limited.problem.trouble is Trouble.RATE_LIMITED
    assert limited.wait_until == reset  # from RateLimit-Reset, in Unix seconds
    assert (limited.items, limited.seen_until) == ((), None)


def test_a_host_that_does_not_speak_the_api_is_an_error_value() -> None:
    with (
        SocialServer(mastodon=mastodon_world().dana_server) as instance,
        SocialServer(appview=bluesky_world(), login_page=True) as portal,
    ):

        async def calls() -> tuple[client.ProfileLookup, client.StatusesFetch]:
            async with api() as a:
                not_appview = await client.lookup_bluesky_profile(
                    a, instance.base_url, SAM_DID, now=NOW
                )
                html = await client.fetch_mastodon_statuses(a, portal.base_url, "1", now=NOW)
                return not_appview, html

        not_appview, html = run(calls())
    assert not_appview.problem == client.Problem(
        Trouble.ERROR,
        f"127.0.0.1:{instance.port}: HTTP 404 Not Found (is it a Bluesky AppView?)",
        "http",
    )
    assert html.problem is not None and html.problem.trouble is Trouble.ERROR
    assert html.problem.message.startswith(f"127.0.0.1:{portal.port}: the response is not JSON")
    assert (html.statuses, html.since_id) == ((), None)
