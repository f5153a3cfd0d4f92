"""The conversation on Mastodon and Bluesky, end to end: `engage poll` (the CLI in-process,
engage.cli.main) reads the public APIs of local servers speaking both (tests/socialserver.py)
through settings.mastodon_api and settings.bluesky_appview, and the events, the feed list,
the meter, the digest and `explain` show what was found.

The expected events were worked out by reading `mastodon_world()` and `bluesky_world()`
(see tests/test_social_client.py): on each network Dana replies to my first post on the
3rd, I answer her on the 4th, she mentions me on the 5th, I share her first post on the
6th, she shares mine on the 7th; her reply to Lee on the 6th names me too and must not
count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli
from socialserver import (
    AppView,
    MastodonWorld,
    RateLimit,
    SocialServer,
    Toot,
    bluesky_world,
    mastodon_world,
)

DANA_ID = "110000000000000001"  # her account on her instance

MASTODON_EVENTS = [
    ("their_reply", "2026-11-03T14:15:00+00:00", "https://social.example.org/@dana/110000000000000200"),
    ("my_comment", "2026-11-04T10:00:00+00:00", "https://mastodon.example.net/@sam/109000000000000300"),
    ("their_mention", "2026-11-05T18:30:00+00:00", "https://social.example.org/@dana/110000000000000500"),
    ("my_share", "2026-11-06T09:00:00+00:00", "https://social.example.org/@dana/110000000000000100"),
    ("their_share", "2026-11-07T12:00:00+00:00", "https://mastodon.example.net/@sam/109000000000000100"),
]  # fmt: skip
BLUESKY_EVENTS = [
    ("their_reply", "2026-11-03T14:15:00+00:00", "https://bsky.app/profile/dana.example.org/post/3m4dbbbbbbb2a"),
    ("my_comment", "2026-11-04T10:00:00+00:00", "https://bsky.app/profile/sam.example.net/post/3m4abbbbbbb2a"),
    ("their_mention", "2026-11-05T18:30:00+00:00", "https://bsky.app/profile/dana.example.org/post/3m4dccccccc2a"),
    ("my_share", "2026-11-06T09:00:00+00:00", "https://bsky.app/profile/dana.example.org/post/3m4daaaaaaa2a"),
    ("their_share", "2026-11-07T12:00:00+00:00", "https://bsky.app/profile/sam.example.net/post/3m4aaaaaaaa2a"),
]  # fmt: skip
# Her reply to Lee, on each network: it names me, and must not count.
NOT_FOR_ME = (
    "https://social.example.org/@dana/110000000000000600",
    "https://bsky.app/profile/dana.example.org/post/3m4ddddddd22a",
)


def watchlist(there: str, here: str, appview: str, *, bluesky: bool = True) -> str:
    sky = "bluesky: sam.example.net" if bluesky else ""
    dana_sky = "bluesky: https://bsky.app/profile/dana.example.org" if bluesky else ""
    return f"""\
me:
  name: Sam Rivera
  handles:
    mastodon: "@sam@mastodon.example.net"
    {sky}
people:
  - name: Dana Reyes
    handles:
      mastodon: https://social.example.org/@dana
      {dana_sky}
  - name: Lee Okafor
settings:
  contact_url: https://example.org/engage-tests
  bluesky_appview: {appview}
  mastodon_api:
    social.example.org: {there}
    mastodon.example.net: {here}
"""


@dataclass
class Social:
    """Dana's instance, mine, a Bluesky AppView, and `engage` pointed at them."""

    world: MastodonWorld
    view: AppView
    there: SocialServer
    here: SocialServer
    appview: SocialServer
    config: Path
    data: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        return run_cli(self.capsys, [*args, "--config", str(self.config), "--data", str(self.data)])

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err + out
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def events(self, *args: str) -> list[tuple[str, str, str]]:
        return [(e["kind"], e["when"], e["url"]) for e in self.json("events", *args)]

    def accounts(self) -> dict[str, dict[str, Any]]:
        """`engage feeds --json`'s accounts, by network and handle."""
        found = {}
        for item in self.json("feeds"):
            if item["account"] is not None:
                account = item["account"]
                found[f"{account['network']} {account['handle']}"] = item
        return found


@pytest.fixture
def social(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Social]:
    yield from make_social(tmp_path, capsys)


def make_social(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    refuse_anonymous: bool = False,
    rate_limit: RateLimit | None = None,
    bluesky: bool = True,
) -> Iterator[Social]:
    world = mastodon_world(page_size=3)
    view = bluesky_world(page_size=2)
    with ExitStack() as stack:
        there = stack.enter_context(
            SocialServer(
                mastodon=world.dana_server, refuse_anonymous=refuse_anonymous, rate_limit=rate_limit
            )
        )
        here = stack.enter_context(SocialServer(mastodon=world.my_server))
        appview = stack.enter_context(SocialServer(appview=view))
        config = tmp_path / "feeds.yaml"
        config.write_text(
            watchlist(there.base_url, here.base_url, appview.base_url, bluesky=bluesky),
            encoding="utf-8",
        )
        yield Social(world, view, there, here, appview, config, tmp_path / "data", capsys)


# ---------------------------------------------------------------------------
# The conversation


def test_a_poll_finds_the_conversation_on_both_networks(social: Social) -> None:
    out = social.ok("poll", "-v")
    assert out.splitlines()[-1].startswith(
        "0 feeds polled: 0 new posts, 0 new comments, 0 not modified, 0 errors; "
        "4 social accounts polled: 19 new statuses; 10 new interactions ("
    )
    assert "ok           Dana Reyes: mastodon @dana@social.example.org — 7 new statuses" in out
    assert "ok           Sam Rivera: bluesky sam.example.net — 3 new statuses" in out

    found = social.events("Dana Reyes")
    assert sorted(found) == sorted(MASTODON_EVENTS + BLUESKY_EVENTS)
    assert [e[1] for e in found] == sorted(e[1] for e in found)  # oldest first
    events = social.json("events")
    assert not {e["url"] for e in events} & set(NOT_FOR_ME)
    assert {e["source"] for e in events} == {"auto"}
    assert {e["person"] for e in events} == {"Dana Reyes"}
    reply = next(e for e in events if e["url"] == MASTODON_EVENTS[0][2])
    assert reply["evidence"] == 'reply to me on Mastodon: "@sam Yes! That is how I see it too."'

    # Her first fetch read her seven statuses in three pages of three, following
    # Link rel="next".
    statuses = [r for r in social.there.requests if "/statuses" in r]
    assert statuses == [
        f"/api/v1/accounts/{DANA_ID}/statuses?limit=40",
        f"/api/v1/accounts/{DANA_ID}/statuses?limit=3&max_id=110000000000000500",
        f"/api/v1/accounts/{DANA_ID}/statuses?limit=3&max_id=110000000000000200",
    ]
    assert set(social.there.user_agents) == {
        f"engage/{engage_version()} (+https://example.org/engage-tests)"
    }

    accounts = social.accounts()
    assert set(accounts) == {
        "mastodon @sam@mastodon.example.net",
        "bluesky sam.example.net",
        "mastodon @dana@social.example.org",
        "bluesky dana.example.org",
    }
    dana = accounts["mastodon @dana@social.example.org"]
    assert (dana["person"], dana["status"], dana["url"], dana["failures"]) == (
        "Dana Reyes",
        "ok",
        "https://social.example.org/@dana",
        0,
    )
    assert dana["account"] == {
        "network": "mastodon",
        "handle": "@dana@social.example.org",
        "id": DANA_ID,
        "api": social.there.base_url,
        "status": "ok",
        "wait_until": None,
    }
    assert (
        accounts["bluesky dana.example.org"]["account"]["id"] == "did:plc:danadanadanadanadanadana"
    )


def test_no_duplicates_after_a_repoll_and_a_rebuild(social: Social) -> None:
    social.ok("poll")
    first = social.json("events")
    asked = len(social.there.requests)
    # Nothing is due yet: the accounts follow the feeds' schedule, not every command.
    assert "0 feeds polled" in social.ok("poll") and len(social.there.requests) == asked

    social.ok("poll", "--all")
    assert social.there.requests[asked:] == [
        f"/api/v1/accounts/{DANA_ID}/statuses?limit=40&since_id=110000000000000700"
    ]  # the account id was kept: no second lookup, and only what is new
    assert social.json("events") == first

    assert social.ok("detect", "--rebuild") == "Rebuilt automatic events: 10 (was 10).\n"
    rebuilt = social.json("events")
    assert [{k: v for k, v in e.items() if k != "created"} for e in rebuilt] == [
        {k: v for k, v in e.items() if k != "created"} for e in first
    ]


def test_an_event_logged_by_hand_for_the_same_link_is_not_counted_twice(social: Social) -> None:
    mine = MASTODON_EVENTS[1][2]  # my reply to her
    logged = social.ok(
        "log", "Dana Reyes", "my_comment", "--url", mine, "--when", "2026-11-04T10:05Z"
    )
    assert logged.startswith("logged my_comment with Dana Reyes")
    social.ok("poll")
    social.ok("detect", "--rebuild")
    at_that_link = [e for e in social.json("events") if e["url"] == mine]
    assert [(e["source"], e["when"]) for e in at_that_link] == [
        ("manual", "2026-11-04T10:05:00+00:00")
    ]
    assert len(social.json("events")) == 10

    # The other way round: what detection found is not logged again by hand.
    theirs = MASTODON_EVENTS[0][2]
    said = social.ok("log", "Dana Reyes", "their_reply", "--url", theirs.replace("https", "http"))
    assert said.startswith("already found by `engage poll`: their_reply with Dana Reyes at ")
    assert "nothing added" in said
    assert len(social.json("events")) == 10


def test_the_meter_moves_with_the_conversation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone who only talks on Mastodon goes from noticed to in dialogue to ready to ask,
    through replies the poll finds."""
    for social in make_social(tmp_path, capsys, bluesky=False):
        world = social.world
        dana, _lee, sam_there = world.dana_server.accounts
        sam, dana_here = world.my_server.accounts
        m1_there = world.dana_server.toots[0]
        # At first she has said nothing to me: keep her posts and her reply to Lee only,
        # and on my side my first post and my boost of hers.
        world.dana_server.toots = [
            t
            for t in world.dana_server.toots
            if t.id in ("110000000000000100", "110000000000000600")
        ]
        world.my_server.toots = [
            t for t in world.my_server.toots if t.id in ("109000000000000100", "109000000000000400")
        ]
        social.ok("poll")
        assert social.events("Dana Reyes") == [MASTODON_EVENTS[3]]  # my boost
        assert stage(social, "2026-11-07T12:00Z") == "noticed"

        reply = Toot(
            "110000000000000800",
            dana,
            "2026-11-08T09:30:00.000Z",
            "Thanks for sharing! How did you start?",
            in_reply_to=(m1_there.id, sam_there.id),
            mentions=(sam_there,),
        )
        world.dana_server.toots.append(reply)
        social.ok("poll", "--all")
        assert stage(social, "2026-11-08T12:00Z") == "in_dialogue"
        digest = social.json("digest", "--date", "2026-11-08")
        (follow_up,) = digest["follow_ups"]
        assert (follow_up["person"], follow_up["action"]) == ("Dana Reyes", "reply")
        assert follow_up["event"]["url"] == "https://social.example.org/@dana/110000000000000800"
        assert follow_up["event"]["evidence"] == (
            'reply to me on Mastodon: "@sam Thanks for sharing! How did you start?"'
        )

        # I answer, she mentions me the next day, I share her post and answer again.
        her_copy = "109000000000000800"  # her reply as my instance numbers it
        world.my_server.toots.append(
            Toot(
                "109000000000000850",
                sam,
                "2026-11-08T18:00:00.000Z",
                "With a feed reader, years ago.",
                in_reply_to=(her_copy, dana_here.id),
                mentions=(dana_here,),
            )
        )
        world.dana_server.toots.append(
            Toot(
                "110000000000000900",
                dana,
                "2026-11-09T11:00:00.000Z",
                "read this thread by Sam on feed readers.",
                mentions=(sam_there,),
            )
        )
        her_post = Toot("109000000000000870", dana_here, "2026-11-09T10:00:00.000Z", "A post")
        world.my_server.toots.append(
            Toot("109000000000000950", sam, "2026-11-09T12:00:00.000Z", boost_of=her_post)
        )
        world.my_server.toots.append(
            Toot(
                "109000000000000990",
                sam,
                "2026-11-10T08:00:00.000Z",
                "Thank you for the mention!",
                in_reply_to=("109000000000000960", dana_here.id),
                mentions=(dana_here,),
            )
        )
        social.ok("poll", "--all")
        assert [e[0] for e in social.events("Dana Reyes")] == [
            "my_share",
            "their_reply",
            "my_comment",
            "their_mention",
            "my_share",
            "my_comment",
        ]
        status = reading(social, "2026-11-10T12:00Z")
        assert status["stage"] == "ready", status["reason"]
        explained = social.json("explain", "Dana Reyes", "--at", "2026-11-10T12:00Z")
        assert "https://social.example.org/@dana/110000000000000900" in {
            e["url"] for e in explained["timeline"]
        }


def reading(social: Social, at: str) -> dict[str, Any]:
    (found,) = [r for r in social.json("status", "--at", at) if r["person"] == "Dana Reyes"]
    return found


def stage(social: Social, at: str) -> str:
    return str(reading(social, at)["stage"])


def test_forget_takes_their_accounts_and_every_status_about_them(social: Social) -> None:
    social.ok("poll")
    out = social.ok("forget", "Dana Reyes", "--yes")
    assert ", 2 social accounts, " in out
    # Hers (7 + 5), and mine that answer, share or name her (2 + 2); my posts to nobody
    # stay (my first post and "Coffee first." on Mastodon, my first post on Bluesky).
    assert ", 16 social statuses, " in out
    stored = [
        json.loads((social.data / name).read_text(encoding="utf-8"))
        for name in ("engage.json", "cache.json")
    ]
    text = json.dumps(stored)
    for address in (
        "dana@social.example.org",
        "did:plc:danadanadanadanadanadana",
        "dana.example.org",
    ):
        assert address not in text
    kept = [p for p in stored[1]["social_posts"].values()]
    assert sorted(p["id"] for p in kept) == [
        "at://did:plc:sam2sam2sam2sam2sam2sam2/app.bsky.feed.post/3m4aaaaaaaa2a",
        "https://mastodon.example.net/users/sam/statuses/109000000000000100",
        "https://mastodon.example.net/users/sam/statuses/109000000000000250",
    ]


# ---------------------------------------------------------------------------
# Manners and troubles


def test_a_429_delays_that_account_and_no_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reset = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    for social in make_social(tmp_path, capsys, rate_limit=RateLimit(0, reset)):
        out = social.ok("poll", "-v")
        assert "1 rate limited" in out.splitlines()[-1]
        accounts = social.accounts()
        dana = accounts["mastodon @dana@social.example.org"]
        assert dana["account"]["status"] == "rate_limited"
        assert dana["account"]["wait_until"] == reset.isoformat()
        assert datetime.fromisoformat(dana["next_check"]) >= reset
        assert dana["last_error"] == (
            f"127.0.0.1:{social.there.port} asks us to slow down (HTTP 429); next try after "
            f"{reset:%Y-%m-%d %H:%M} UTC"
        )
        others = {k: v["status"] for k, v in accounts.items() if v is not dana}
        assert others == {
            "mastodon @sam@mastodon.example.net": "ok",
            "bluesky sam.example.net": "ok",
            "bluesky dana.example.org": "ok",
        }
        # Bluesky, and on Mastodon what my statuses alone show (my reply, my boost).
        mine = [MASTODON_EVENTS[1], MASTODON_EVENTS[3]]
        assert sorted(social.events("Dana Reyes")) == sorted(BLUESKY_EVENTS + mine)
        # Even --all leaves her instance alone until the reset.
        asked = len(social.there.requests)
        social.ok("poll", "--all")
        assert len(social.there.requests) == asked
        assert social.json("digest")["feeds"] == []  # it goes on by itself: nothing to do


def test_an_instance_that_wants_a_login_says_so_once_and_its_profile_feed_is_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for social in make_social(tmp_path, capsys, refuse_anonymous=True, bluesky=False):
        social.ok("poll")
        line = (
            f"Dana Reyes: mastodon @dana@social.example.org: 127.0.0.1:{social.there.port} "
            "answers its API only to logged-in users (HTTP 401); its profile feed is followed "
            "instead"
        )
        listing = social.ok("feeds")
        assert listing.splitlines().count(line) == 1
        assert sum(line in row for row in listing.splitlines()) == 1
        feed = f"{social.there.base_url}/@dana.rss"
        feeds = {f["url"]: f for f in social.json("feeds")}
        assert feeds[feed]["discovered"] and feeds[feed]["status"] == "never"
        assert feeds["https://social.example.org/@dana"]["last_error_type"] == "login_required"

        out = social.ok("poll")  # the profile feed is due now; the API is not (weekly)
        assert out.startswith("1 feeds polled: 3 new posts")
        assert "/@dana.rss" in social.there.requests
        assert sum("/api/v1/" in r for r in social.there.requests) == 1  # the one refusal
        posts = social.json("posts", "--person", "Dana Reyes")
        assert [p["link"] for p in posts] == [  # her own posts: no replies, no boosts
            "https://social.example.org/@dana/110000000000000500",
            "https://social.example.org/@dana/110000000000000300",
            "https://social.example.org/@dana/110000000000000100",
        ]
        assert social.json("digest")["feeds"] == []  # followed by its feed: nothing to do


def test_a_deleted_account_is_reported_like_a_gone_feed(social: Social) -> None:
    social.ok("poll")
    social.world.dana_server.gone.add(DANA_ID)
    out = social.ok("poll", "--all", "-v")
    assert "gone         Dana Reyes: mastodon @dana@social.example.org — account " in out
    dana = social.accounts()["mastodon @dana@social.example.org"]
    assert (dana["status"], dana["gone"], dana["next_check"]) == ("gone", True, None)
    assert "never (gone)" in social.ok("feeds")
    (trouble,) = social.json("digest")["feeds"]
    assert (
        trouble["problem"] == "gone"
        and trouble["feed"]["url"] == "https://social.example.org/@dana"
    )
    # Never asked again, and what was found before it went stays.
    asked = len(social.there.requests)
    social.ok("poll", "--all")
    assert len(social.there.requests) == asked
    assert len(social.json("events")) == 10


def test_no_call_on_a_network_i_have_no_account_on(social: Social) -> None:
    text = social.config.read_text(encoding="utf-8")
    social.config.write_text(text.replace("    bluesky: sam.example.net\n", ""), encoding="utf-8")
    social.ok("poll")
    assert social.appview.requests == []
    assert sorted(social.events("Dana Reyes")) == sorted(MASTODON_EVENTS)
    assert (
        "Dana Reyes: bluesky dana.example.org: not read: the conversation is with you, so put "
        "your own bluesky account under me: handles: (bluesky: …)"
    ) in social.ok("feeds").splitlines()


# ---------------------------------------------------------------------------
# engage add


def test_add_a_mastodon_address_fills_handles_and_adds_its_profile_feed(social: Social) -> None:
    code, out, err = run_cli(
        social.capsys,
        [
            "add",
            "@lee@social.example.org",
            "--person",
            "Lee Okafor",
            "--config",
            str(social.config),
        ],
    )
    assert code == 0, err
    feed = f"{social.there.base_url}/@lee.rss"
    assert out.splitlines() == [
        f"added social feed for Lee Okafor: {feed}",
        "mastodon: @lee@social.example.org is under Lee Okafor's handles: (their replies and "
        "mentions are read from its API)",
        "  1 entries now; `engage poll` will store them",
    ]
    text = social.config.read_text(encoding="utf-8")
    assert text.endswith(
        f"""\
  - name: Lee Okafor
    feeds:
      - url: {feed}
        kind: social
        title: Lee Okafor
    handles:
      mastodon: '@lee@social.example.org'
settings:
  contact_url: https://example.org/engage-tests
  bluesky_appview: {social.appview.base_url}
  mastodon_api:
    social.example.org: {social.there.base_url}
    mastodon.example.net: {social.here.base_url}
"""
    )
    # Again for someone who has another address already: theirs is kept.
    code, out, _ = run_cli(
        social.capsys,
        [
            "add",
            "@lee@mastodon.example.net",
            "--person",
            "Dana Reyes",
            "--config",
            str(social.config),
        ],
    )
    assert "Dana Reyes already has mastodon: @dana@social.example.org under handles: (kept;" in out


def engage_version() -> str:
    from engage import __version__

    return __version__
