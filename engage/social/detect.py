"""Find the conversation between me and one person in our Mastodon statuses and Bluesky
posts.

Pure: my accounts, theirs, their statuses and mine in; events out. Like the blog
detection it computes every event from what it is given, each time; an event's id is a
hash of its kind and the status or post URI (never the person's name, which the user
may change), so reading the same status twice, or on a later poll, gives the same id
and the store keeps it once.

The rules (one status gives at most one event):
- their status that replies to one of mine -> their_reply;
- their status that mentions me and replies to nobody but themselves -> their_mention;
  a reply to someone else counts for nothing, even when it names me: Mastodon copies
  every participant of a thread into each reply, and a mention there says nothing;
- my status that replies to one of theirs -> my_comment;
- my boost (repost) of theirs -> my_share; theirs of mine -> their_share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from engage.detect import EVIDENCE_CHARS, stable_id
from engage.models import DIRECTION, Event, EventKind, EventSource
from engage.social.bluesky import FeedItem
from engage.social.handles import MastodonHandle
from engage.social.mastodon import Mention, Status
from engage.social.reading import cut

# What each kind of event says in its evidence line, per network.
_WORDS = {
    EventKind.THEIR_REPLY: "reply to me",
    EventKind.THEIR_MENTION: "mention of me",
    EventKind.MY_COMMENT: "my reply",
    EventKind.MY_SHARE: "my {share} of their post",
    EventKind.THEIR_SHARE: "{share} of my post",
}


@dataclass(frozen=True)
class Instance:
    """The Mastodon instance a list of statuses was read from, and the ids it gives me and
    them (ids are per instance: None where they were not looked up there). Without an
    id, people are recognised by the address their mentions carry."""

    host: str
    me: str | None = None
    them: str | None = None


def mastodon_events(
    person: str,
    *,
    me: MastodonHandle,
    them: MastodonHandle,
    theirs: Iterable[Status],
    mine: Iterable[Status],
    their_instance: Instance | None = None,
    my_instance: Instance | None = None,
) -> tuple[Event, ...]:
    """Events from their statuses (read on their instance) and mine (read on mine)."""
    there = their_instance or Instance(them.host)
    here = my_instance or Instance(me.host)
    found = _Found(person, "Mastodon", "boost")
    sides = (
        (theirs, _Account(them, there.them), _Account(me, there.me), there.host, False),
        (mine, _Account(me, here.me), _Account(them, here.them), here.host, True),
    )
    for statuses, author, other, host, mine_ in sides:
        for status in statuses:
            kind = _mastodon_status(status, author, other, host, mine=mine_)
            if kind is not None:
                found.mastodon(kind, status)
    return found.result()


def bluesky_events(
    person: str,
    *,
    me: str,
    them: str,
    theirs: Iterable[FeedItem],
    mine: Iterable[FeedItem],
) -> tuple[Event, ...]:
    """Events from their author feed and mine; `me` and `them` are DIDs."""
    found = _Found(person, "Bluesky", "repost")
    for item in theirs:
        kind = _bluesky_item(item, author=them, other=me, mine=False)
        if kind is not None:
            found.bluesky(kind, item)
    for item in mine:
        kind = _bluesky_item(item, author=me, other=them, mine=True)
        if kind is not None:
            found.bluesky(kind, item)
    return found.result()


# ---------------------------------------------------------------------------
# Mastodon


@dataclass(frozen=True)
class _Account:
    """One of us two on the instance being read: the handle, and the id there if known."""

    handle: MastodonHandle
    id: str | None

    def named(self, account_id: str, acct: str, host: str) -> bool:
        if self.id is not None:  # an id is the instance's own word: it decides
            return account_id == self.id
        return self.handle.same_account(acct, host)

    def answered(self, target: str, mentions: Iterable[Mention], host: str) -> bool:
        """Whether a reply's in_reply_to_account_id is this account: by the id when known,
        else through the mention every reply carries of the account it answers (the
        mention has both the id and the address)."""
        if self.id is not None:
            return target == self.id
        return any(m.id == target and self.handle.same_account(m.acct, host) for m in mentions)


def _mastodon_status(
    status: Status, author: _Account, other: _Account, host: str, *, mine: bool
) -> EventKind | None:
    if not author.named(status.account_id, status.account_acct, host):
        return None  # not the author's: nothing to say about the two of us
    if status.boosted is not None:
        shared = status.boosted
        if other.named(shared.account_id, shared.account_acct, host):
            return EventKind.MY_SHARE if mine else EventKind.THEIR_SHARE
        return None
    target = status.in_reply_to_account_id
    if target is None and status.in_reply_to_id is not None:
        return None  # a reply to an account the server did not name: nobody we know
    if target is not None and target != status.account_id:  # not a thread of their own
        if other.answered(target, status.mentions, host):
            return EventKind.MY_COMMENT if mine else EventKind.THEIR_REPLY
        return None
    if not mine and any(other.named(m.id, m.acct, host) for m in status.mentions):
        return EventKind.THEIR_MENTION
    return None


# ---------------------------------------------------------------------------
# Bluesky


def _bluesky_item(item: FeedItem, *, author: str, other: str, mine: bool) -> EventKind | None:
    post = item.post
    if item.reposted_by is not None:
        if item.reposted_by == author and post.author_did == other:
            return EventKind.MY_SHARE if mine else EventKind.THEIR_SHARE
        return None
    if post.author_did != author:
        return None
    if post.is_reply and post.reply_parent_did != author:  # not a thread of their own
        if post.reply_parent_did == other:
            return EventKind.MY_COMMENT if mine else EventKind.THEIR_REPLY
        return None
    if not mine and other in post.mentions:
        return EventKind.THEIR_MENTION
    return None


# ---------------------------------------------------------------------------


class _Found:
    """Collects events once per id, sorted by time at the end."""

    def __init__(self, person: str, network: str, share: str) -> None:
        self.person = person
        self.network = network
        self.share = share
        self.events: dict[str, Event] = {}

    def mastodon(self, kind: EventKind, status: Status) -> None:
        shared = status.boosted
        url = shared.url if shared else status.url
        self._add(kind, status.uri, status.created, url, shared.text if shared else status.text)

    def bluesky(self, kind: EventKind, item: FeedItem) -> None:
        post = item.post
        self._add(kind, item.key, item.when, post.url, post.text)

    def _add(self, kind: EventKind, key: str, when: datetime, url: str, text: str) -> None:
        event_id = stable_id("auto", kind.value, key)
        if event_id in self.events:
            return
        what = _WORDS[kind].format(share=self.share)
        lead = f"{what} on {self.network}"
        room = EVIDENCE_CHARS - len(lead) - 4
        evidence = f'{lead}: "{cut(text, room)}"' if text else lead
        self.events[event_id] = Event(
            id=event_id,
            person=self.person,
            kind=kind,
            when=when,
            direction=DIRECTION[kind],
            source=EventSource.AUTO,
            url=url,
            evidence=evidence,
        )

    def result(self) -> tuple[Event, ...]:
        return tuple(sorted(self.events.values(), key=lambda e: (e.when, e.id)))
