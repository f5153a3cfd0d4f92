"""Bluesky AppView JSON -> our own values.

Pure. Reads the shapes the atproto lexicons define for `app.bsky.actor.getProfile`
(`app.bsky.actor.defs#profileViewDetailed`) and `app.bsky.feed.getAuthorFeed`
(`{cursor?, feed: [app.bsky.feed.defs#feedViewPost]}`), and XRPC error bodies
(`{"error": "AccountTakedown", "message": "…"}`). Nothing is trusted: the record inside a
post is whatever the poster's client wrote, so an item the detection cannot use is
skipped with a reason and the rest are kept.

A post's time is the earlier of its record's `createdAt` (the poster's clock, which may
be wrong or in the future) and the AppView's `indexedAt`: the AppView sorts feeds by the
same rule, so a post cannot claim to be newer than when it was seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engage.social.handles import parse_bluesky
from engage.social.reading import field, load_json, parse_time, plain_snippet, text_field

POST_COLLECTION = "app.bsky.feed.post"
REPOST_REASON = "app.bsky.feed.defs#reasonRepost"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
# Errors the AppView answers (HTTP 400) for an account that is no longer there.
GONE_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "ActorNotFound"})
MAX_CURSOR = 512


@dataclass(frozen=True)
class Profile:
    did: str
    handle: str | None = None  # None when the AppView could not verify it ("handle.invalid")


@dataclass(frozen=True)
class Post:
    uri: str  # at://DID/app.bsky.feed.post/RKEY: our identity for it
    url: str  # its page on bsky.app
    author_did: str
    created: datetime  # aware, UTC; see the module docstring
    is_reply: bool = False
    reply_parent_uri: str | None = None
    reply_parent_did: str | None = None  # whose post it answers, when readable
    mentions: tuple[str, ...] = ()  # DIDs from mention facets
    text: str = ""  # plain snippet


@dataclass(frozen=True)
class FeedItem:
    """One entry of an author feed: a post of theirs, or someone's post they reposted."""

    post: Post
    reposted_by: str | None = None  # the DID that reposted it
    reposted_at: datetime | None = None
    repost_uri: str | None = None  # the repost record, when the AppView names it

    @property
    def when(self) -> datetime:
        """When it entered the feed: the order getAuthorFeed pages in."""
        return self.reposted_at or self.post.created

    @property
    def key(self) -> str:
        """What this entry is: a repost is a record of its own, and without its URI who
        reposted what names it; a post is its URI."""
        if self.reposted_by is None:
            return self.post.uri
        return self.repost_uri or f"{self.reposted_by} reposted {self.post.uri}"


@dataclass(frozen=True)
class ProfileReading:
    profile: Profile | None
    error: str | None = None


@dataclass(frozen=True)
class FeedReading:
    items: tuple[FeedItem, ...] = ()
    skipped: tuple[str, ...] = ()
    cursor: str | None = None
    error: str | None = None


def read_profile(body: bytes) -> ProfileReading:
    data, error = load_json(body)
    if error is not None:
        return ProfileReading(None, error)
    did = text_field(data, "did")
    if did is None or not did.startswith("did:"):
        return ProfileReading(None, "the profile has no DID")
    return ProfileReading(Profile(did, _handle(text_field(data, "handle"))))


def read_feed(body: bytes) -> FeedReading:
    data, error = load_json(body)
    if error is not None:
        return FeedReading(error=error)
    feed = field(data, "feed")
    if not isinstance(feed, list):
        return FeedReading(error="the response has no feed list")
    items: list[FeedItem] = []
    skipped: list[str] = []
    for index, entry in enumerate(feed):
        item, reason = _item(entry)
        if item is not None:
            items.append(item)
        else:
            uri = text_field(field(entry, "post"), "uri")
            skipped.append(f"post {uri or '#' + str(index + 1)}: {reason}")
    cursor = text_field(data, "cursor")
    if cursor is not None and len(cursor) > MAX_CURSOR:
        cursor = None  # not something to send back in a URL
    return FeedReading(tuple(items), tuple(skipped), cursor)


def xrpc_error(body: bytes | None) -> tuple[str | None, str | None]:
    """(error name, message) of an XRPC error body, each None when absent."""
    data, _ = load_json(body or b"")
    name = text_field(data, "error")
    message = text_field(data, "message")
    return (
        name[:80] if name else None,
        " ".join(message.split())[:200] if message else None,
    )


def parse_at_uri(uri: str) -> tuple[str, str, str] | None:
    """('did:plc:…', 'app.bsky.feed.post', 'rkey') for a record's at:// URI, else None."""
    if not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def post_url(author: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{author}/post/{rkey}"


# ---------------------------------------------------------------------------


def _item(entry: object) -> tuple[FeedItem | None, str | None]:
    view = field(entry, "post")
    post, reason = _post(view, field(entry, "reply"))
    if post is None:
        return None, reason
    why = field(entry, "reason")
    if field(why, "$type") != REPOST_REASON:
        return FeedItem(post), None  # a plain post (or pinned: the same post)
    by = text_field(field(why, "by"), "did")
    at = parse_time(field(why, "indexedAt"))
    if by is None or at is None:
        return None, "a repost without who or when"
    uri = text_field(why, "uri")
    return FeedItem(post, by, at, uri if uri and parse_at_uri(uri) else None), None


def _post(view: object, reply_view: object) -> tuple[Post | None, str | None]:
    if not isinstance(view, dict):
        return None, "no post object"
    uri = text_field(view, "uri")
    parts = parse_at_uri(uri or "")
    if uri is None or parts is None or parts[1] != POST_COLLECTION:
        return None, "no post at:// uri"
    author = field(view, "author")
    did = text_field(author, "did")
    if did is None or did != parts[0]:
        return None, "the uri does not belong to the post's author"
    record = field(view, "record")
    if not isinstance(record, dict) or record.get("$type", POST_COLLECTION) != POST_COLLECTION:
        return None, "no post record"
    created = _earlier(parse_time(field(record, "createdAt")), parse_time(field(view, "indexedAt")))
    if created is None:
        return None, "no readable createdAt or indexedAt"
    reply = field(record, "reply")
    parent_uri = text_field(field(reply, "parent"), "uri")
    parent = parse_at_uri(parent_uri or "")
    parent_did = parent[0] if parent and parent[0].startswith("did:") else None
    if parent_did is None:  # a handle in the record's URI: the hydrated view knows the DID
        parent_did = text_field(field(field(reply_view, "parent"), "author"), "did")
    shown = _handle(text_field(author, "handle")) or did
    text = field(record, "text")
    return (
        Post(
            uri=uri,
            url=post_url(shown, parts[2]),
            author_did=did,
            created=created,
            is_reply=reply is not None,
            reply_parent_uri=parent_uri if parent else None,
            reply_parent_did=parent_did if parent_did and parent_did.startswith("did:") else None,
            mentions=_mentions(field(record, "facets")),
            text=plain_snippet(text) if isinstance(text, str) else "",
        ),
        None,
    )


def _mentions(facets: object) -> tuple[str, ...]:
    if not isinstance(facets, list):
        return ()
    found: list[str] = []
    for facet in facets:
        features = field(facet, "features")
        if not isinstance(features, list):
            continue
        for feature in features:
            did = text_field(feature, "did")
            if field(feature, "$type") == MENTION_FEATURE and did and did.startswith("did:"):
                found.append(did)
    return tuple(dict.fromkeys(found))


def _handle(value: str | None) -> str | None:
    if not value:
        return None
    try:
        handle = parse_bluesky(value)
    except ValueError:  # "handle.invalid" and anything else the AppView could not verify
        return None
    return None if handle.is_did else handle.actor


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)
