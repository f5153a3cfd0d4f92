"""The pure rules of polling social accounts, as tables with an invented clock: which
accounts are due, what one poll does to an account's state, the profile feed followed
instead of an API that wants a login, and whose conversation can be read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from engage.models import (
    AccountStatus,
    EventKind,
    FeedKind,
    FeedRef,
    FeedState,
    Network,
    Person,
    Role,
    Settings,
    SocialAccount,
    Watchlist,
)
from engage.social.accounts import (
    Polled,
    after_poll,
    as_feed,
    bluesky_posts,
    conversation,
    fallback_feeds,
    plan,
    profile_feed,
    social_handle,
)
from engage.social.bluesky import FeedItem, Post
from engage.social.handles import parse_bluesky, parse_mastodon

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SETTINGS = Settings(
    mastodon_api={"example.org": "https://social.example.org"},
    bluesky_appview="http://127.0.0.1:9000",
)
ME = Person(
    "Sam",
    Role.ME,
    handles={"mastodon": "@sam@mastodon.example.net", "bluesky": "sam.example.net"},
)
DANA = Person(
    "Dana",
    handles={"mastodon": "@dana@example.org", "bluesky": "did:plc:danadanadanadanadanadana"},
)
LEE = Person("Lee", handles={"mastodon": "@lee@mastodon.example.net"})
WATCHLIST = Watchlist(ME, (DANA, LEE), settings=SETTINGS)


def state(network: Network, handle: str, person: str, **changes: object) -> SocialAccount:
    return replace(SocialAccount(network, handle, person), **changes)  # type: ignore[arg-type]


MY_TOOTS = state(Network.MASTODON, "@sam@mastodon.example.net", "Sam")
MY_SKY = state(Network.BLUESKY, "sam.example.net", "Sam")
DANA_TOOTS = state(Network.MASTODON, "@dana@example.org", "Dana")
DANA_SKY = state(Network.BLUESKY, "did:plc:danadanadanadanadanadana", "Dana")
LEE_TOOTS = state(Network.MASTODON, "@lee@mastodon.example.net", "Lee")


# ---------------------------------------------------------------------------
# What one poll does to an account


@pytest.mark.parametrize(
    ("situation", "before", "polled", "status", "failures", "earliest", "latest"),
    [
        (
            "a good poll waits the interval, give or take its jitter",
            {"failures": 3},
            Polled(AccountStatus.OK, since_id="9"),
            AccountStatus.OK,
            0,
            NOW + 54 * timedelta(minutes=1),
            NOW + 66 * timedelta(minutes=1),
        ),
        (
            "a good poll with no call left waits for the server's reset",
            {},
            Polled(AccountStatus.OK, wait_until=NOW + 5 * HOUR),
            AccountStatus.OK,
            0,
            NOW + 5 * HOUR,
            NOW + 5 * HOUR,
        ),
        (
            "a 429 waits for the reset, however soon the interval would come",
            {},
            Polled(AccountStatus.RATE_LIMITED, "slow down", wait_until=NOW + 3 * HOUR),
            AccountStatus.RATE_LIMITED,
            1,
            NOW + 3 * HOUR,
            NOW + 3 * HOUR,
        ),
        (
            "a failure backs off: the fourth in a row waits eight intervals",
            {"failures": 3},
            Polled(AccountStatus.ERROR, "connection refused", "connection"),
            AccountStatus.ERROR,
            4,
            NOW + 8 * HOUR,
            NOW + 8 * HOUR,
        ),
        (
            "an API that wants a login is asked again in a week",
            {},
            Polled(AccountStatus.LOGIN_REQUIRED, "logged-in users only"),
            AccountStatus.LOGIN_REQUIRED,
            1,
            NOW + timedelta(days=7),
            NOW + timedelta(days=7),
        ),
    ],
)
def test_after_poll(
    situation: str,
    before: dict[str, object],
    polled: Polled,
    status: AccountStatus,
    failures: int,
    earliest: datetime,
    latest: datetime,
) -> None:
    old = replace(DANA_TOOTS, since_id="5", account_id="42", **before)  # type: ignore[arg-type]
    after = after_poll(old, polled, now=NOW, interval_minutes=60)
    assert (after.status, after.failures, after.last_poll) == (status, failures, NOW), situation
    assert after.next_check is not None and earliest <= after.next_check <= latest, situation
    assert after.account_id == "42"  # looked up once, kept
    assert after.since_id == (polled.since_id or "5")
    ok = status is AccountStatus.OK
    assert (after.last_success, after.last_error) == ((NOW, None) if ok else (None, polled.message))


def test_a_gone_account_is_never_checked_again() -> None:
    after = after_poll(
        DANA_TOOTS, Polled(AccountStatus.GONE, "not there"), now=NOW, interval_minutes=60
    )
    assert (after.status, after.gone, after.next_check) == (AccountStatus.GONE, True, None)
    feed = as_feed(after)
    assert (feed.url, feed.kind, feed.gone, feed.last_error) == (
        "https://example.org/@dana",
        FeedKind.SOCIAL,
        True,
        "not there",
    )


def test_the_newest_seen_stays_the_newest() -> None:
    seen = replace(DANA_SKY, seen_until=NOW)
    after = after_poll(
        seen, Polled(AccountStatus.OK, seen_until=NOW - HOUR), now=NOW, interval_minutes=60
    )
    assert after.seen_until == NOW


# ---------------------------------------------------------------------------
# Which accounts are due


def planned(stored: list[SocialAccount], **options: object) -> list[str]:
    return [s.key for _, s in plan(WATCHLIST, stored, NOW, **options)]  # type: ignore[arg-type]


def test_every_account_is_due_the_first_time_me_first() -> None:
    assert planned([]) == [
        "mastodon:@sam@mastodon.example.net",
        "bluesky:sam.example.net",
        "mastodon:@dana@example.org",
        "bluesky:did:plc:danadanadanadanadanadana",
        "mastodon:@lee@mastodon.example.net",
    ]


@pytest.mark.parametrize(
    ("situation", "stored", "options", "expected"),
    [
        (
            "checked a minute ago: not due, unless everything is asked for",
            [replace(DANA_TOOTS, next_check=NOW + HOUR)],
            {},
            ["mastodon:@dana@example.org"],
        ),
        (
            "gone: not even with --all",
            [replace(DANA_TOOTS, status=AccountStatus.GONE)],
            {"everything": True},
            ["mastodon:@dana@example.org"],
        ),
        (
            "a server's wait holds even with --all",
            [replace(DANA_TOOTS, wait_until=NOW + HOUR)],
            {"everything": True},
            ["mastodon:@dana@example.org"],
        ),
        (
            "a wait on my instance holds back Lee's account there too",
            [replace(MY_TOOTS, api="https://mastodon.example.net", wait_until=NOW + HOUR)],
            {},
            ["mastodon:@sam@mastodon.example.net", "mastodon:@lee@mastodon.example.net"],
        ),
        (
            "a wait that is over holds nothing back",
            [replace(MY_TOOTS, api="https://mastodon.example.net", wait_until=NOW - HOUR)],
            {},
            [],
        ),
    ],
)
def test_what_is_not_due(
    situation: str,
    stored: list[SocialAccount],
    options: dict[str, object],
    expected: list[str],
) -> None:
    everyone = [MY_TOOTS, MY_SKY, DANA_TOOTS, DANA_SKY, LEE_TOOTS]
    assert set(planned([])) == {s.key for s in everyone}
    due = set(planned(stored, **options))
    assert {s.key for s in everyone} - due == set(expected), situation


def test_no_account_is_read_on_a_network_i_am_not_on() -> None:
    only_bluesky = Watchlist(replace(ME, handles={"bluesky": "sam.example.net"}), (DANA, LEE))
    assert [s.key for _, s in plan(only_bluesky, [], NOW)] == [
        "bluesky:sam.example.net",
        "bluesky:did:plc:danadanadanadanadanadana",
    ]
    assert plan(Watchlist(replace(ME, handles={}), (DANA, LEE)), [], NOW) == []


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (
            "Lee",
            ["mastodon:@sam@mastodon.example.net", "mastodon:@lee@mastodon.example.net"],
        ),
        (
            "dana",
            [
                "mastodon:@sam@mastodon.example.net",
                "bluesky:sam.example.net",
                "mastodon:@dana@example.org",
                "bluesky:did:plc:danadanadanadanadanadana",
            ],
        ),
        ("Sam", ["mastodon:@sam@mastodon.example.net", "bluesky:sam.example.net"]),
    ],
)
def test_one_persons_poll_reads_theirs_and_mine_on_their_networks(
    person: str, expected: list[str]
) -> None:
    assert planned([], person=person) == expected


# ---------------------------------------------------------------------------
# What users give `engage add`, and profile feeds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@dana@social.example.org", (Network.MASTODON, "@dana@social.example.org")),
        ("https://social.example.org/@dana", (Network.MASTODON, "@dana@social.example.org")),
        ("https://bsky.app/profile/dana.example.org", (Network.BLUESKY, "dana.example.org")),
        ("https://dana.example.org/", None),  # a site: its feed, no handle
        ("http://127.0.0.1:8080/@dana", None),  # a profile on an address: a feed only
        ("https://www.youtube.com/channel/UC0123456789abcdefghijkl", None),
    ],
)
def test_the_handle_in_what_engage_add_is_given(
    text: str, expected: tuple[Network, str] | None
) -> None:
    found = social_handle(text)
    assert (None if found is None else (found[0], str(found[1]))) == expected


def test_profile_feeds_live_on_the_server_that_serves_the_account() -> None:
    assert profile_feed(parse_mastodon("@dana@example.org"), SETTINGS) == (
        "https://social.example.org/@dana.rss"  # settings.mastodon_api: a split domain
    )
    assert profile_feed(parse_mastodon("@lee@mastodon.example.net"), SETTINGS) == (
        "https://mastodon.example.net/@lee.rss"
    )
    assert profile_feed(parse_bluesky("dana.example.org"), SETTINGS) == (
        "https://bsky.app/profile/dana.example.org/rss"
    )


def test_the_profile_feed_is_followed_while_the_api_wants_a_login() -> None:
    wants_login = replace(DANA_TOOTS, status=AccountStatus.LOGIN_REQUIRED)
    add, remove = fallback_feeds(WATCHLIST, [wants_login], [])
    assert remove == []
    assert [(f.url, f.person, f.kind, f.discovered) for f in add] == [
        ("https://social.example.org/@dana.rss", "Dana", FeedKind.SOCIAL, True)
    ]
    # Once it is there it is not added again; when the API answers again it goes.
    assert fallback_feeds(WATCHLIST, [wants_login], add) == ([], [])
    answering = replace(wants_login, status=AccountStatus.OK)
    assert fallback_feeds(WATCHLIST, [answering], add) == ([], [add[0].url])
    # A profile feed the user listed is theirs: never added, never removed.
    listed = FeedRef("https://Social.Example.org/@dana.rss/", FeedKind.SOCIAL)
    theirs = Watchlist(ME, (replace(DANA, feeds=(listed,)),), settings=SETTINGS)
    stored = [FeedState(url="https://social.example.org/@dana.rss", person="Dana")]
    assert fallback_feeds(theirs, [wants_login], []) == ([], [])
    assert fallback_feeds(theirs, [answering], stored) == ([], [])


# ---------------------------------------------------------------------------
# Whose conversation can be read


def test_bluesky_needs_both_dids_and_mastodon_needs_my_account() -> None:
    reply = FeedItem(
        Post(
            uri="at://did:plc:danadanadanadanadanadana/app.bsky.feed.post/3m4d",
            url="https://bsky.app/profile/dana.example.org/post/3m4d",
            author_did="did:plc:danadanadanadanadanadana",
            created=NOW - HOUR,
            is_reply=True,
            reply_parent_uri="at://did:plc:sam2sam2sam2sam2sam2sam2/app.bsky.feed.post/1",
            reply_parent_did="did:plc:sam2sam2sam2sam2sam2sam2",
            text="Agreed!",
        )
    )
    posts = bluesky_posts(DANA_SKY, [reply], NOW)
    # My handle is not a DID and was never looked up: nobody to recognise yet.
    assert conversation(WATCHLIST, [DANA_SKY], posts) == ()
    looked_up = replace(MY_SKY, account_id="did:plc:sam2sam2sam2sam2sam2sam2")
    (event,) = conversation(WATCHLIST, [DANA_SKY, looked_up], posts)
    assert (event.person, event.kind, event.url) == (
        "Dana",
        EventKind.THEIR_REPLY,
        "https://bsky.app/profile/dana.example.org/post/3m4d",
    )
    # Without an account of mine on a network there is no conversation on it.
    alone = Watchlist(replace(ME, handles={"mastodon": "@sam@mastodon.example.net"}), (DANA,))
    assert conversation(alone, [DANA_SKY, looked_up], posts) == ()
