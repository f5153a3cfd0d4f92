"""Find the public conversation between me and the people I follow in what was polled.

Pure: watchlist + stored posts and comments in, events and introduction evidence out. It
computes ALL auto events from everything stored, every time; each event's id is a hash of
what it is about, and the store skips ids it already holds or that the user undid
(tombstones), so a re-poll or `engage detect --rebuild` never counts anything twice.

Who wrote a comment is decided from the author name and URL only (comment feeds carry
nothing else); a name that two identities share is reported as ambiguous, never guessed.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urljoin, urlsplit

from engage.comment_marks import reply_link, without_reply_lead
from engage.models import (
    DIRECTION,
    Comment,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    IntroEvidence,
    MeterRules,
    Person,
    Post,
    Role,
    Watchlist,
    fold_name,
)
from engage.urls import host_and_path, normalize_url, thread_key

EVIDENCE_CHARS = 200
SNIPPET_CHARS = 90

# Hosts shared by many authors: a blog feed served from one of these says nothing about
# who owns an author URL on that host, so it does not make the host one of the person's sites.
SHARED_HOSTS = frozenset(
    {
        "blogger.com",
        "feeds.feedburner.com",
        "feedburner.com",
        "feeds.feedblitz.com",
        "medium.com",
        "github.com",
        "youtube.com",
        "wordpress.com",
        "substack.com",
        "tumblr.com",
        "dev.to",
        "rss.app",
        "feeds.buzzsprout.com",
        "anchor.fm",
    }
)
_TAG = re.compile(r"<[^>]*>")
# WordPress names a pingback "Post title – Site name" (or with |, », :: between them).
_PINGBACK_PARTS = re.compile(r"\s+(?:[–—|»·-]+|::)\s+")

How = Literal["url", "name", "alias"]


# ---------------------------------------------------------------------------
# Identity matching


@dataclass(frozen=True)
class Site:
    """A normalized site: a host (without www.) and a path prefix ('' for the whole host)."""

    host: str
    path: str

    def covers(self, host: str, path: str) -> bool:
        if host != self.host:
            return False
        return not self.path or path == self.path or path.startswith(self.path + "/")


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    names: frozenset[str]  # folded name and aliases
    sites: tuple[Site, ...]


@dataclass(frozen=True)
class Identities:
    """Everyone in the watchlist, ready for matching: me, the people, the contacts."""

    me: Identity
    all: tuple[Identity, ...]
    by_name: Mapping[str, tuple[tuple[Identity, How], ...]]  # folded name -> who has it

    def get(self, name: str) -> Identity | None:
        for identity in self.all:
            if identity.name == name:
                return identity
        return None


@dataclass(frozen=True)
class Match:
    """Who wrote something: `identity` is None when nobody (or more than one) matched; in
    the second case `ambiguous` names the candidates."""

    identity: str | None = None
    role: Role | None = None
    ambiguous: tuple[str, ...] = ()
    how: How | None = None


NO_MATCH = Match()


def _site(url: str) -> Site | None:
    normalized = normalize_url(url, keep_fragment=False).split("?", 1)[0]
    host, _, path = normalized.partition("/")
    if not host:
        return None
    return Site(host=host, path=("/" + path) if path else "")


def _sites_of(person: Person) -> tuple[Site, ...]:
    sites: list[Site] = []
    for url in person.sites:
        site = _site(url)
        if site is not None and site not in sites:
            sites.append(site)
    for feed in person.feeds:
        # Podcast and video feeds mostly live on hosting platforms shared by many shows.
        if feed.kind not in (FeedKind.BLOG, FeedKind.COMMENTS):
            continue
        host, _ = host_and_path(feed.url)
        if host and not _is_shared_host(host):
            site = Site(host=host, path="")
            if site not in sites:
                sites.append(site)
    return tuple(sites)


def _is_shared_host(host: str) -> bool:
    # A subdomain blog (jane.wordpress.com) is hers alone; only the bare host is shared.
    return host in SHARED_HOSTS


def identity_of(person: Person, role: Role | None = None) -> Identity:
    """How detection recognises one person: their folded name and aliases, their sites (and
    the hosts of their blog and comment feeds). Filed under the person's key, not their
    display name of the day, so a rename keeps their auto ids and their stored posts and
    comments (engage.identity)."""
    names = {fold_name(person.name)} | {fold_name(alias) for alias in person.aliases}
    names.discard("")
    role = role or person.role
    return Identity(name=person.key, role=role, names=frozenset(names), sites=_sites_of(person))


def build_identities(watchlist: Watchlist) -> Identities:
    all_ids: list[Identity] = []
    by_name: dict[str, list[tuple[Identity, How]]] = {}
    for person in watchlist.everyone():
        identity = identity_of(person, Role.ME if person is watchlist.me else person.role)
        all_ids.append(identity)
        entries: list[tuple[str, How]] = [(fold_name(person.name), "name")]
        entries += [(fold_name(alias), "alias") for alias in person.aliases]
        for folded, how in entries:
            bucket = by_name.setdefault(folded, [])
            if folded and all(other.name != identity.name for other, _ in bucket):
                bucket.append((identity, how))
    return Identities(
        me=all_ids[0],
        all=tuple(all_ids),
        by_name={name: tuple(found) for name, found in by_name.items()},
    )


def match_url(ids: Identities, url: str | None) -> Match:
    """The identity whose site holds `url`; the most specific site wins (a profile path
    beats a whole host); two equally specific ones are ambiguous."""
    if not url:
        return NO_MATCH
    host, path = host_and_path(url)
    if not host:
        return NO_MATCH
    best: list[tuple[int, Identity]] = []
    for identity in ids.all:
        for site in identity.sites:
            if site.covers(host, path):
                best.append((len(site.path), identity))
    if not best:
        return NO_MATCH
    longest = max(length for length, _ in best)
    winners: list[Identity] = []
    for length, identity in best:
        if length == longest and identity not in winners:
            winners.append(identity)
    if len(winners) > 1:
        return Match(ambiguous=tuple(w.name for w in winners), how="url")
    return Match(identity=winners[0].name, role=winners[0].role, how="url")


def match_author(ids: Identities, name: str | None, url: str | None) -> Match:
    """Who wrote a comment or post: the author URL first (a name is easy to share, a site
    is not), then the folded name against names and aliases."""
    by_url = match_url(ids, url)
    if by_url.identity is not None:
        return by_url
    by_name = _match_name(ids, name)
    if by_name.identity is None and not by_name.ambiguous and by_url.ambiguous:
        return by_url
    return by_name


def _match_name(ids: Identities, name: str | None) -> Match:
    if not name:
        return NO_MATCH
    found = ids.by_name.get(fold_name(name), ())
    if not found:
        return NO_MATCH
    if len(found) > 1:
        return Match(ambiguous=tuple(identity.name for identity, _ in found), how="alias")
    identity, how = found[0]
    return Match(identity=identity.name, role=identity.role, how=how)


def _named_in_folded(identity: Identity, folded: str) -> bool:
    pattern = _names_pattern(identity.names)
    return pattern is not None and pattern.search(folded) is not None


@functools.lru_cache(maxsize=1024)
def _names_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One compiled pattern per identity: a poll cycle checks thousands of posts."""
    if not names:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")(?!\w)")


def on_sites(identity: Identity, url: str | None) -> bool:
    if not url:
        return False
    host, path = host_and_path(url)
    return any(site.covers(host, path) for site in identity.sites)


# ---------------------------------------------------------------------------
# Detection


@dataclass(frozen=True)
class Detection:
    events: tuple[Event, ...]
    intro_evidence: tuple[IntroEvidence, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Seen:
    """A comment with what detection needs worked out once."""

    comment: Comment
    key: str  # normalized permalink, or the feed's id when there is none
    thread: str  # normalized thread (post) URL, or '' when unknown
    when: datetime
    dated: bool  # False when `when` is the first-seen time
    author: Match
    reply_to: str | None  # what the comment answers (a comment), or None for the post


def detect(
    watchlist: Watchlist,
    posts: Sequence[Post],
    comments: Sequence[Comment],
    *,
    rules: MeterRules,
) -> Detection:
    ids = build_identities(watchlist)
    found = _Found()
    titles = _post_titles(posts)
    seen = _prepare(ids, comments, found)
    mine = [s for s in seen if s.author.role == Role.ME and not s.comment.is_pingback]
    mine_by_key = _index(mine)
    window = timedelta(days=rules.implicit_reply_days)

    for item in seen:
        owner = ids.get(item.comment.person)
        if owner is None:
            continue
        if item.comment.is_pingback:
            _pingback(ids, item, owner, titles, found)
            continue
        author = ids.get(item.author.identity) if item.author.identity else None
        if author is None:
            continue
        if owner.role == Role.PERSON and author.role == Role.ME:
            found.event(EventKind.MY_COMMENT, owner.name, item, titles)
        elif owner.role == Role.ME and author.role == Role.PERSON:
            found.event(EventKind.THEIR_COMMENT_ON_MINE, author.name, item, titles)
        elif owner.role == Role.PERSON and author.role == Role.CONTACT:
            found.intro(author.name, owner.name, item, "contact_commented", titles)
        elif owner.role == Role.CONTACT and author.role == Role.PERSON:
            found.intro(owner.name, author.name, item, "person_commented_contact", titles)
        if author.role == Role.PERSON and owner.role != Role.ME:
            answered = _answers_me(item, mine, mine_by_key, window)
            if answered is not None:
                found.event(EventKind.THEIR_REPLY, author.name, item, titles, answered=answered)

    for post in _unique_posts(posts):
        _post(ids, post, found)
    return found.result()


class _Found:
    """Collects events and evidence, once per id, with the warnings met on the way."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}
        self.evidence: dict[str, IntroEvidence] = {}
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def event(
        self,
        kind: EventKind,
        person: str,
        item: _Seen,
        titles: Mapping[str, str],
        *,
        answered: _Seen | None = None,
    ) -> None:
        comment = item.comment
        text = _plain(comment.snippet)
        where = _where(item, titles)
        if kind == EventKind.THEIR_REPLY and answered is not None:
            where = f"reply to my comment of {answered.when.date().isoformat()} {where}"
        elif comment.is_pingback:
            where = f"pingback {where}"
        evidence = _evidence(where, text, dated=item.dated, when=item.when)
        event_id = stable_id("auto", kind.value, person, item.key)
        if event_id not in self.events:
            self.events[event_id] = Event(
                id=event_id,
                person=person,
                kind=kind,
                when=item.when,
                direction=DIRECTION[kind],
                source=EventSource.AUTO,
                url=comment.link or comment.post_link,
                evidence=evidence,
            )

    def post_event(self, kind: EventKind, person: str, post: Post, why: str) -> None:
        when, dated = _post_when(post)
        if when is None:
            self.warn(f"post {post.link or post.id} has no date and no first-seen time; skipped")
            return
        event_id = stable_id("auto", kind.value, person, _post_key(post))
        if event_id not in self.events:
            where = f'post "{_short(post.title, 70)}" {why}'
            self.events[event_id] = Event(
                id=event_id,
                person=person,
                kind=kind,
                when=when,
                direction=DIRECTION[kind],
                source=EventSource.AUTO,
                url=post.link,
                evidence=_evidence(where, "", dated=dated, when=when),
            )

    def intro(
        self, contact: str, person: str, item: _Seen, kind: str, titles: Mapping[str, str]
    ) -> None:
        evidence = _evidence(
            _where(item, titles), _plain(item.comment.snippet), dated=item.dated, when=item.when
        )
        self._intro(contact, person, item.comment.link, item.when, kind, evidence, item.key)

    def post_intro(self, contact: str, person: str, post: Post, kind: str, why: str) -> None:
        when, dated = _post_when(post)
        if when is None:
            return
        where = f'post "{_short(post.title, 70)}" {why}'
        evidence = _evidence(where, "", dated=dated, when=when)
        self._intro(contact, person, post.link, when, kind, evidence, _post_key(post))

    def _intro(
        self,
        contact: str,
        person: str,
        url: str | None,
        when: datetime,
        kind: str,
        evidence: str,
        key: str,
    ) -> None:
        evidence_id = stable_id("intro", kind, contact, person, key)
        if evidence_id not in self.evidence:
            self.evidence[evidence_id] = IntroEvidence(
                id=evidence_id,
                contact=contact,
                person=person,
                url=url,
                when=when,
                kind=kind,
                evidence=evidence,
            )

    def result(self) -> Detection:
        events = sorted(self.events.values(), key=lambda e: (e.when, e.id))
        evidence = sorted(self.evidence.values(), key=lambda e: (e.when, e.id))
        return Detection(tuple(events), tuple(evidence), tuple(self.warnings))


def stable_id(source: str, *parts: str) -> str:
    """`source:` + a hash of what the record is about: the same thing, the same id."""
    digest = hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{source}:{digest}"


def _prepare(ids: Identities, comments: Iterable[Comment], found: _Found) -> list[_Seen]:
    """One _Seen per distinct comment: the site-wide and the per-post comment feeds both
    carry the same comment, and it must count once."""
    unique: dict[str, _Seen] = {}
    for comment in comments:
        key = _comment_key(comment)
        if key in unique:
            continue
        when = comment.published or comment.first_seen
        if when is None:
            found.warn(f"comment {comment.link or comment.id} has no date; skipped")
            continue
        author = match_author(ids, comment.author, comment.author_url)
        if author.ambiguous:
            # One warning per author name, not one per comment they wrote.
            who = fold_name(comment.author or "")
            found.warn(
                f"comments by {who!r} could be {' or '.join(author.ambiguous)}; "
                "not counted (give them different aliases, or add their site)"
            )
            author = NO_MATCH
        unique[key] = _Seen(
            comment=comment,
            key=key,
            thread=_thread(comment),
            when=when,
            dated=comment.published is not None,
            author=author,
            reply_to=_reply_target(comment),
        )
    return sorted(unique.values(), key=lambda s: (s.when, s.key))


def _comment_key(comment: Comment) -> str:
    if comment.link:
        return normalize_url(comment.link)
    return f"{comment.person}|{comment.id}"


def _thread(comment: Comment) -> str:
    if comment.post_link:
        return thread_key(comment.post_link)
    if comment.link:
        return thread_key(comment.link)
    return ""


def _reply_target(comment: Comment) -> str | None:
    target = comment.in_reply_to
    if not target:
        # Stored by a version whose parser did not read WordPress's "In reply to" lead.
        answered = reply_link(comment.snippet or "")
        if answered:
            target = html.unescape(answered)
    if not target:
        return None
    if comment.link and target.startswith(("/", "#", "?", "./", "../")):
        target = urljoin(comment.link, target)  # the static export made links relative
    # thr:in-reply-to pointing at the post itself (Blogger does this for every top-level
    # comment) answers the post, not a comment.
    if "#" not in target and "showcomment=" not in target.casefold():
        thread = _thread(comment)
        if "://" in target and thread and thread_key(target) == thread:
            return None
    return target


def _index(items: Iterable[_Seen]) -> dict[str, _Seen]:
    """Every way a reply can name a comment: its id, its permalink, its fragment within
    its thread (WordPress's #comment-N; Blogger's #cNNN)."""
    index: dict[str, _Seen] = {}
    for item in items:
        comment = item.comment
        index.setdefault("id:" + comment.id, item)
        index.setdefault("url:" + item.key, item)
        if comment.link:
            fragment = urlsplit(comment.link).fragment
            if fragment:
                index.setdefault(f"frag:{item.thread}#{fragment}", item)
    return index


def _lookup(index: Mapping[str, _Seen], target: str, thread: str) -> _Seen | None:
    hit = index.get("id:" + target) or index.get("url:" + normalize_url(target))
    if hit is not None:
        return hit
    fragment = urlsplit(target).fragment if "#" in target else ""
    if fragment:
        target_thread = thread_key(target) if "://" in target else thread
        return index.get(f"frag:{target_thread}#{fragment}")
    return None


def _answers_me(
    item: _Seen,
    mine: Sequence[_Seen],
    mine_by_key: Mapping[str, _Seen],
    window: timedelta,
) -> _Seen | None:
    """My comment that `item` answers, if any. An explicit answer (thr:in-reply-to, "In
    reply to") decides alone: one addressed to someone else is not a reply to me, whatever
    I wrote earlier in the thread. Otherwise their comment within `window` after mine in
    the same thread is taken as a reply to it."""
    if item.reply_to is not None:
        target = _lookup(mine_by_key, item.reply_to, item.thread)
        if target is not None:
            return target if target.key != item.key else None
        # Answers a comment that is not mine (or one never seen): not a reply to me.
        return None
    if not item.thread:
        return None
    latest: _Seen | None = None
    for my in mine:
        if my.thread == item.thread and my.when < item.when <= my.when + window:
            latest = my
    return latest


def _pingback(
    ids: Identities, item: _Seen, owner: Identity, titles: Mapping[str, str], found: _Found
) -> None:
    """A pingback's author is the linking post's title and site name, and its URL (when the
    feed gives one) is on the linking site."""
    comment = item.comment
    source = _pingback_source(ids, comment)
    if source is None or source.name == owner.name:
        return
    if owner.role == Role.PERSON and source.role == Role.ME:
        found.event(EventKind.MY_SHARE, owner.name, item, titles)
    elif owner.role == Role.ME and source.role == Role.PERSON:
        found.event(EventKind.THEIR_MENTION, source.name, item, titles)
    elif owner.role == Role.PERSON and source.role == Role.CONTACT:
        found.intro(source.name, owner.name, item, "contact_linked_person", titles)
    elif owner.role == Role.CONTACT and source.role == Role.PERSON:
        found.intro(owner.name, source.name, item, "person_linked_contact", titles)


def _pingback_source(ids: Identities, comment: Comment) -> Identity | None:
    by_url = match_url(ids, comment.author_url)
    if by_url.identity is not None:
        return ids.get(by_url.identity)
    if not comment.author:
        return None
    # Only a whole part of "Post title – Site name" may name someone: a short alias found
    # inside a title ("what will happen") would credit the wrong person.
    author = html.unescape(comment.author)
    found: list[Identity] = []
    for part in (author, *_PINGBACK_PARTS.split(author)):
        match = _match_name(ids, part)
        identity = ids.get(match.identity) if match.identity else None
        if identity is not None and identity not in found:
            found.append(identity)
    return found[0] if len(found) == 1 else None


def _post(ids: Identities, post: Post, found: _Found) -> None:
    owner = ids.get(post.person)
    if owner is None:
        return
    text = fold_name(f"{post.title} {_plain(post.summary)}")
    if owner.role == Role.ME:
        for identity in ids.all:
            if identity.role == Role.PERSON and _links_to(identity, post):
                found.post_event(EventKind.MY_SHARE, identity.name, post, "links to their site")
        return
    if owner.role == Role.PERSON:
        if _links_to(ids.me, post):
            found.post_event(EventKind.THEIR_MENTION, owner.name, post, "links to my site")
        elif _named_in_folded(ids.me, text):
            found.post_event(EventKind.THEIR_MENTION, owner.name, post, "names me")
        for identity in ids.all:
            if identity.role != Role.CONTACT:
                continue
            if _links_to(identity, post):
                found.post_intro(
                    identity.name,
                    owner.name,
                    post,
                    "person_linked_contact",
                    "links to the contact's site",
                )
            elif _named_in_folded(identity, text):
                found.post_intro(
                    identity.name, owner.name, post, "person_mentioned_contact", "names the contact"
                )
        return
    if owner.role == Role.CONTACT:
        for identity in ids.all:
            if identity.role == Role.PERSON and _links_to(identity, post):
                found.post_intro(
                    owner.name,
                    identity.name,
                    post,
                    "contact_linked_person",
                    "links to the person's site",
                )


def _links_to(identity: Identity, post: Post) -> bool:
    return any(on_sites(identity, link) for link in post.links)


def _unique_posts(posts: Iterable[Post]) -> list[Post]:
    unique: dict[str, Post] = {}
    for post in posts:
        unique.setdefault(_post_key(post), post)
    return list(unique.values())


def _post_key(post: Post) -> str:
    if post.link:
        return normalize_url(post.link)
    return f"{post.person}|{post.id}"


def _post_when(post: Post) -> tuple[datetime | None, bool]:
    if post.published is not None:
        return post.published, True
    if post.updated is not None:
        return post.updated, True
    return post.first_seen, False


def _post_titles(posts: Iterable[Post]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for post in posts:
        if post.link and post.title:
            titles.setdefault(thread_key(post.link), post.title)
    return titles


def _where(item: _Seen, titles: Mapping[str, str]) -> str:
    title = titles.get(item.thread)
    if title:
        return f'on "{_short(title, 60)}"'
    if item.thread:
        return f"on {_short(item.thread, 80)}"
    return f"in {_short(item.comment.feed, 80)}"


def _plain(snippet: str) -> str:
    """Sanitized HTML -> one line of text, without WordPress's "In reply to Name." lead."""
    text = html.unescape(_TAG.sub(" ", without_reply_lead(snippet)))
    # Some feeds escape the comment's HTML once more: the lead then arrives as text.
    return " ".join(without_reply_lead(text).split())


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _evidence(where: str, text: str, *, dated: bool, when: datetime) -> str:
    lead = "comment " + where if not where.startswith(("post ", "pingback ", "reply ")) else where
    suffix = "" if dated else f" (no date in the feed; first seen {when.date().isoformat()})"
    if text:
        room = EVIDENCE_CHARS - len(lead) - len(suffix) - 4
        body = f'{lead}: "{_short(text, max(20, min(SNIPPET_CHARS, room)))}"{suffix}'
    else:
        body = lead + suffix
    return _short(body, EVIDENCE_CHARS)


def threads_i_joined(
    watchlist: Watchlist, comments: Sequence[Comment], *, now: datetime, quiet_days: int = 30
) -> set[str]:
    """Post links of the threads I commented in that are still alive (a comment newer
    than `quiet_days`): the poll cycle keeps polling their per-post comment feeds."""
    ids = build_identities(watchlist)
    last: dict[str, datetime] = {}
    link_of: dict[str, str] = {}
    joined: set[str] = set()
    for comment in comments:
        thread = _thread(comment)
        when = comment.published or comment.first_seen
        if not thread or when is None:
            continue
        link_of.setdefault(thread, comment.post_link or thread_link(comment))
        if thread not in last or when > last[thread]:
            last[thread] = when
        if not comment.is_pingback:
            author = match_author(ids, comment.author, comment.author_url)
            if author.role == Role.ME:
                joined.add(thread)
    cutoff = now - timedelta(days=quiet_days)
    return {link_of[thread] for thread in joined if last[thread] > cutoff}


def thread_link(comment: Comment) -> str:
    """The post URL of a comment's thread, as a URL (the permalink without its fragment)."""
    if comment.post_link:
        return comment.post_link
    if comment.link:
        return comment.link.split("#", 1)[0]
    return ""
