"""Turn parsed entries into what the store keeps: a Post for a post feed, a Comment for
a comment feed. Which one depends only on the feed's kind, decided here once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engage.models import Comment, Entry, FeedKind, Post

COMMENT_KINDS = frozenset({FeedKind.COMMENTS, FeedKind.FORUM})
SNIPPET_CHARS = 280  # privacy: keep what the meter needs, not archives of their writing


def is_comment_feed(kind: FeedKind) -> bool:
    return kind in COMMENT_KINDS


def to_post(entry: Entry, *, person: str, feed: str, now: datetime | None = None) -> Post:
    return Post(
        person=person,
        feed=feed,
        id=entry.id,
        link=entry.link,
        title=entry.title or "(untitled)",
        published=entry.published or entry.updated,
        updated=entry.updated,
        author=entry.author,
        author_url=entry.author_url,
        summary=entry.summary,
        links=entry.links,
        enclosure=entry.enclosure,
        comment_feeds=entry.comment_feeds,
        comment_count=entry.comment_count,
        first_seen=now,
        categories=entry.categories,
    )


def to_comment(entry: Entry, *, person: str, feed: str, now: datetime | None = None) -> Comment:
    return Comment(
        person=person,
        feed=feed,
        id=entry.id,
        post_link=entry.thread_url,
        link=entry.link,
        author=entry.author,
        author_url=entry.author_url,
        published=entry.published or entry.updated,
        in_reply_to=entry.in_reply_to,
        snippet=_snippet(entry.summary),
        is_pingback=entry.is_pingback,
        first_seen=now,
    )


def split_entries(
    entries: Iterable[Entry], *, kind: FeedKind, person: str, feed: str, now: datetime | None
) -> tuple[list[Post], list[Comment]]:
    posts: list[Post] = []
    comments: list[Comment] = []
    for entry in entries:
        if is_comment_feed(kind):
            comments.append(to_comment(entry, person=person, feed=feed, now=now))
        else:
            posts.append(to_post(entry, person=person, feed=feed, now=now))
    return posts, comments


def _snippet(html: str) -> str:
    """Comment snippets are stored as sanitized HTML cut short; parse already sanitized it."""
    if len(html) <= SNIPPET_CHARS:
        return html
    import nh3

    # Cutting HTML can leave an open tag; cleaning again closes it.
    return nh3.clean(html[:SNIPPET_CHARS] + "…", tags=set())
