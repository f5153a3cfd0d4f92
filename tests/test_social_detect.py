"""Which statuses and posts are part of the conversation between me and one person, as
a table: each row a situation and the event it gives (or none)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from engage.detect import stable_id
from engage.models import Direction, EventKind, EventSource
from engage.social.bluesky import FeedItem, Post
from engage.social.detect import Instance, bluesky_events, mastodon_events
from engage.social.handles import MastodonHandle
from engage.social.mastodon import Boosted, Mention, Status

WHEN = datetime(2026, 11, 3, 14, 15, tzinfo=UTC)
ME = MastodonHandle("sam", "mastodon.example.net")
DANA = MastodonHandle("dana", "social.example.org")

# Ids on Dana's instance (social.example.org), where her statuses are read.
DANA_ID, ME_THERE, LEE_ID = "1", "77", "3"
# Ids on mine (mastodon.example.net), where my statuses are read.
ME_ID, DANA_HERE = "900", "942"

AT_ME_THERE = Mention(ME_THERE, "sam@mastodon.example.net")
AT_LEE = Mention(LEE_ID, "lee")
AT_DANA_HERE = Mention(DANA_HERE, "dana@social.example.org")


def status(owner: MastodonHandle, owner_id: str, n: int, **fields: object) -> Status:
    """A status as its owner's instance serves it."""
    base = Status(
        id=str(n),
        uri=f"https://{owner.host}/users/{owner.user}/statuses/{n}",
        url=f"https://{owner.host}/@{owner.user}/{n}",
        account_id=owner_id,
        account_acct=owner.user,
        created=WHEN,
        text="their words" if owner == DANA else "my words",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def theirs(n: int, **fields: object) -> Status:
    return status(DANA, DANA_ID, n, **fields)


def mine(n: int, **fields: object) -> Status:
    return status(ME, ME_ID, n, **fields)


MY_POST = Boosted(
    "https://mastodon.example.net/users/sam/statuses/5",
    "https://mastodon.example.net/@sam/5",
    ME_THERE,
    "sam@mastodon.example.net",
    "my post",
)
HER_POST = Boosted(
    "https://social.example.org/users/dana/statuses/6",
    "https://social.example.org/@dana/6",
    DANA_HERE,
    "dana@social.example.org",
    "her post",
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            theirs(
                10, in_reply_to_id="5", in_reply_to_account_id=ME_THERE, mentions=(AT_ME_THERE,)
            ),
            EventKind.THEIR_REPLY,
            id="their reply to my status is their_reply",
        ),
        pytest.param(
            theirs(11, mentions=(AT_ME_THERE,)),
            EventKind.THEIR_MENTION,
            id="their status that mentions me without replying is their_mention",
        ),
        pytest.param(
            theirs(
                12,
                in_reply_to_id="4",
                in_reply_to_account_id=LEE_ID,
                mentions=(AT_LEE, AT_ME_THERE),
            ),
            None,
            id="their reply to someone else counts for nothing, even naming me",
        ),
        pytest.param(
            theirs(13, in_reply_to_id="9", in_reply_to_account_id=DANA_ID, mentions=(AT_ME_THERE,)),
            EventKind.THEIR_MENTION,
            id="a mention in a thread of their own is a mention",
        ),
        pytest.param(
            theirs(14, in_reply_to_id="9", in_reply_to_account_id=DANA_ID),
            None,
            id="a thread of their own that names nobody is nothing",
        ),
        pytest.param(
            theirs(15, in_reply_to_id="9", mentions=(AT_ME_THERE,)),
            None,
            id="a reply whose account the server did not name is nothing",
        ),
        pytest.param(theirs(16), None, id="a status of theirs about anything else is nothing"),
        pytest.param(
            theirs(17, boosted=MY_POST, text=""),
            EventKind.THEIR_SHARE,
            id="their boost of my status is their_share",
        ),
        pytest.param(
            theirs(18, boosted=replace(MY_POST, account_id=LEE_ID, account_acct="lee"), text=""),
            None,
            id="their boost of someone else's is nothing",
        ),
        pytest.param(
            theirs(19, account_id=LEE_ID, account_acct="lee", mentions=(AT_ME_THERE,)),
            None,
            id="a status by someone else in their list is not theirs",
        ),
    ],
)
def test_their_statuses(status: Status, expected: EventKind | None) -> None:
    there = Instance(DANA.host, me=ME_THERE, them=DANA_ID)
    events = mastodon_events(
        "Dana Reyes", me=ME, them=DANA, theirs=[status], mine=[], their_instance=there
    )
    assert [e.kind for e in events] == ([expected] if expected else [])
    # The same without the ids: people are known by the address their mentions carry.
    by_address = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=[status], mine=[])
    assert [e.kind for e in by_address] == [e.kind for e in events]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            mine(
                20, in_reply_to_id="6", in_reply_to_account_id=DANA_HERE, mentions=(AT_DANA_HERE,)
            ),
            EventKind.MY_COMMENT,
            id="my reply to their status is my_comment",
        ),
        pytest.param(
            mine(21, boosted=HER_POST, text=""),
            EventKind.MY_SHARE,
            id="my boost of theirs is my_share",
        ),
        pytest.param(mine(22, mentions=(AT_DANA_HERE,)), None, id="my mention of them is nothing"),
        pytest.param(
            mine(
                23,
                in_reply_to_id="8",
                in_reply_to_account_id="555",
                mentions=(Mention("555", "lee@x.example"),),
            ),
            None,
            id="my reply to someone else is nothing",
        ),
        pytest.param(
            mine(
                24,
                boosted=replace(HER_POST, account_id="555", account_acct="lee@x.example"),
                text="",
            ),
            None,
            id="my boost of someone else's is nothing",
        ),
    ],
)
def test_my_statuses(status: Status, expected: EventKind | None) -> None:
    here = Instance(ME.host, me=ME_ID, them=DANA_HERE)
    events = mastodon_events(
        "Dana Reyes", me=ME, them=DANA, theirs=[], mine=[status], my_instance=here
    )
    assert [e.kind for e in events] == ([expected] if expected else [])
    by_address = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=[], mine=[status])
    assert [e.kind for e in by_address] == [e.kind for e in events]


def test_a_known_id_decides_over_an_address() -> None:
    # Another server's "sam@mastodon.example.net" impostor cannot be me when my id is known.
    impostor = Mention("78", "sam@mastodon.example.net")
    status = theirs(30, mentions=(impostor,))
    there = Instance(DANA.host, me=ME_THERE, them=DANA_ID)
    assert (
        mastodon_events("D", me=ME, them=DANA, theirs=[status], mine=[], their_instance=there) == ()
    )


def test_an_event_carries_time_url_evidence_and_an_id_from_the_status_uri() -> None:
    reply = theirs(10, in_reply_to_id="5", in_reply_to_account_id=ME_THERE, mentions=(AT_ME_THERE,))
    boost = mine(
        21,
        boosted=HER_POST,
        text="",
        uri="https://mastodon.example.net/users/sam/statuses/21/activity",
    )
    (first, second) = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=[reply], mine=[boost])
    assert first.id == stable_id("auto", "their_reply", reply.uri)
    assert (first.person, first.when, first.direction) == ("Dana Reyes", WHEN, Direction.IN)
    assert first.source is EventSource.AUTO
    assert first.url == "https://social.example.org/@dana/10"
    assert first.evidence == 'reply to me on Mastodon: "their words"'
    # A boost is its own activity (its id), shown as the status it shares (its URL).
    assert second.id == stable_id("auto", "my_share", boost.uri)
    assert second.url == "https://social.example.org/@dana/6"
    assert second.evidence == 'my boost of their post on Mastodon: "her post"'


def test_a_renamed_person_keeps_the_ids_and_a_status_read_twice_counts_once() -> None:
    reply = theirs(10, in_reply_to_id="5", in_reply_to_account_id=ME_THERE, mentions=(AT_ME_THERE,))
    before = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=[reply, reply], mine=[])
    after = mastodon_events("Dana R.", me=ME, them=DANA, theirs=[reply], mine=[])
    assert len(before) == 1 and [e.id for e in before] == [e.id for e in after]


def test_evidence_is_cut_to_the_digest_line() -> None:
    status = theirs(11, mentions=(AT_ME_THERE,), text="word " * 100)
    (event,) = mastodon_events("Dana Reyes", me=ME, them=DANA, theirs=[status], mine=[])
    assert len(event.evidence) <= 200 and event.evidence.endswith('…"')


# ---------------------------------------------------------------------------
# Bluesky

SAM = "did:plc:sam2sam2sam2sam2sam2sam2"
DANA_DID = "did:plc:danadanadanadanadanadana"
LEE = "did:plc:leeleeleeleeleeleeleelee"


def post(author: str, rkey: str, **fields: object) -> Post:
    base = Post(
        uri=f"at://{author}/app.bsky.feed.post/{rkey}",
        url=f"https://bsky.app/profile/{author}/post/{rkey}",
        author_did=author,
        created=WHEN,
        text="words",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def reply_to(did: str) -> dict[str, object]:
    return {
        "is_reply": True,
        "reply_parent_did": did,
        "reply_parent_uri": f"at://{did}/app.bsky.feed.post/p",
    }


def repost(by: str, of: Post) -> FeedItem:
    return FeedItem(of, by, WHEN, f"at://{by}/app.bsky.feed.repost/r{of.uri[-3:]}")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            FeedItem(post(DANA_DID, "a1", **reply_to(SAM))),
            EventKind.THEIR_REPLY,
            id="their reply to my post",
        ),
        pytest.param(
            FeedItem(post(DANA_DID, "a2", mentions=(SAM,))),
            EventKind.THEIR_MENTION,
            id="a mention facet of my DID",
        ),
        pytest.param(
            FeedItem(post(DANA_DID, "a3", mentions=(LEE, SAM), **reply_to(LEE))),
            None,
            id="their reply to someone else, naming me, counts for nothing",
        ),
        pytest.param(
            FeedItem(post(DANA_DID, "a4", mentions=(SAM,), **reply_to(DANA_DID))),
            EventKind.THEIR_MENTION,
            id="a mention in a thread of their own",
        ),
        pytest.param(
            FeedItem(post(DANA_DID, "a5", is_reply=True, mentions=(SAM,))),
            None,
            id="a reply whose parent cannot be read is nothing",
        ),
        pytest.param(
            repost(DANA_DID, post(SAM, "m1")), EventKind.THEIR_SHARE, id="their repost of mine"
        ),
        pytest.param(repost(DANA_DID, post(LEE, "l1")), None, id="their repost of someone else's"),
        pytest.param(FeedItem(post(LEE, "l2", mentions=(SAM,))), None, id="a post by someone else"),
    ],
)
def test_their_posts(item: FeedItem, expected: EventKind | None) -> None:
    events = bluesky_events("Dana Reyes", me=SAM, them=DANA_DID, theirs=[item], mine=[])
    assert [e.kind for e in events] == ([expected] if expected else [])


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(
            FeedItem(post(SAM, "b1", **reply_to(DANA_DID))),
            EventKind.MY_COMMENT,
            id="my reply to theirs",
        ),
        pytest.param(
            repost(SAM, post(DANA_DID, "d1")), EventKind.MY_SHARE, id="my repost of theirs"
        ),
        pytest.param(
            FeedItem(post(SAM, "b2", mentions=(DANA_DID,))), None, id="my mention of them"
        ),
        pytest.param(
            FeedItem(post(SAM, "b3", **reply_to(LEE))), None, id="my reply to someone else"
        ),
    ],
)
def test_my_posts(item: FeedItem, expected: EventKind | None) -> None:
    events = bluesky_events("Dana Reyes", me=SAM, them=DANA_DID, theirs=[], mine=[item])
    assert [e.kind for e in events] == ([expected] if expected else [])


def test_a_repost_without_its_record_uri_is_named_by_who_reposted_what() -> None:
    mine_ = post(SAM, "m1")
    item = FeedItem(mine_, DANA_DID, WHEN, None)
    (event,) = bluesky_events("Dana Reyes", me=SAM, them=DANA_DID, theirs=[item], mine=[])
    assert event.id == stable_id("auto", "their_share", f"{DANA_DID} reposted {mine_.uri}")
    assert event.url == mine_.url and event.evidence == 'repost of my post on Bluesky: "words"'
