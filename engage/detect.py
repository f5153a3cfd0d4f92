"""Find the public conversation between me and the people I follow in what was polled.

Pure: watchlist + stored posts and comments in, events and introduction evidence out. It
computes ALL auto events from everything stored, every time; each event's id is a hash of
what it is about, and the store skips ids it already holds or that the user undid
(tombstones), so a re-poll or `engage detect --rebuild` never counts anything twice.

Who wrote a comment is decided from the author name and URL only (comment feeds carry
nothing else); a name that two identities share is reported as ambiguous, never guessed.

A match on the author's URL (Atom author/uri, a Blogger profile, WordPress's Atom comment
feed) is confirmed. A match on a name alone is unconfirmed (a stranger signing "Lucia" is
not Lucia), except for the blog's owner in their own comment feed (the feed is theirs: my
comments on my blog are mine) and for a (site, name) pair the user trusted in `engage
review`. An event is confirmed only when everything it rests on is: a reply to my
unconfirmed comment is unconfirmed too (docs/design.md, "Detection").
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    shorten,
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
# (site, folded name): a name seen on a site, as `engage review` trusts it.
NamePair = tuple[str, str]


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
    """Everyone in the watchlist, ready for matching: me, the people, the contacts.

    Indexed by name and by site host: a cold poll of 1,000 feeds checks 20,000 posts'
    links against every identity, and a scan of all of them per link was 3.6 s of it
    (measured); a host lookup is one dict access."""

    me: Identity
    all: tuple[Identity, ...]
    by_name: Mapping[str, tuple[tuple[Identity, How], ...]]  # folded name -> who has it
    by_key: Mapping[str, Identity] = field(default_factory=dict)  # identity.name -> it
    by_host: Mapping[str, tuple[tuple[Site, Identity], ...]] = field(default_factory=dict)
    contacts: tuple[Identity, ...] = ()

    def get(self, name: str) -> Identity | None:
        return self.by_key.get(name)

    def on_site(self, url: str) -> list[tuple[Site, Identity]]:
        """Every (site, identity) whose site holds `url`."""
        host, path = host_and_path(url)
        return [(s, i) for s, i in self.by_host.get(host, ()) if s.covers(host, path)]

    def linked(self, links: Iterable[str]) -> list[Identity]:
        """The identities one of `links` points into, each once, in link order."""
        found: dict[str, Identity] = {}
        for link in links:
            for _site, identity in self.on_site(link):
                found.setdefault(identity.name, identity)
        return list(found.values())


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
    by_host: dict[str, list[tuple[Site, Identity]]] = {}
    for identity in all_ids:
        for site in identity.sites:
            by_host.setdefault(site.host, []).append((site, identity))
    return Identities(
        me=all_ids[0],
        all=tuple(all_ids),
        by_name={name: tuple(found) for name, found in by_name.items()},
        by_key={identity.name: identity for identity in reversed(all_ids)},
        by_host={host: tuple(pairs) for host, pairs in by_host.items()},
        contacts=tuple(i for i in all_ids if i.role == Role.CONTACT),
    )


def match_url(ids: Identities, url: str | None) -> Match:
    """The identity whose site holds `url`; the most specific site wins (a profile path
    beats a whole host); two equally specific ones are ambiguous."""
    if not url:
        return NO_MATCH
    best = [(len(site.path), identity) for site, identity in ids.on_site(url)]
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


def _named_in_folded(identity: Identity, folded: str) -> str | None:
    """The name or alias of `identity` found as a whole word in `folded`, or None."""
    pattern = _names_pattern(identity.names)
    found = pattern.search(folded) if pattern is not None else None
    return found.group(0) if found is not None else None


def trust_site(url: str | None) -> str:
    """The site a name was seen on, as trust is keyed: the host, without www."""
    return host_and_path(url)[0] if url else ""


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
    unconfirmed: tuple[NamePair, ...] = ()  # the name-only match the author rests on


def detect(
    watchlist: Watchlist,
    posts: Sequence[Post],
    comments: Sequence[Comment],
    *,
    rules: MeterRules,
    trusted: Collection[NamePair] = (),
) -> Detection:
    """`trusted`: the (site, folded name) pairs the user trusted in `engage review`; a
    name-only match on one of them is confirmed."""
    ids = build_identities(watchlist)
    found = _Found(frozenset(trusted))
    # Titles name the post a comment is on: a poll that brought posts alone (a first poll of
    # 1,000 feeds: 20,000 posts) has no use for them.
    titles = _post_titles(posts) if comments else {}
    seen = _prepare(ids, comments, found)
    mine = [s for s in seen if s.author.role == Role.ME and not s.comment.is_pingback]
    mine_by_key = _index(mine)
    window = timedelta(days=rules.implicit_reply_days)
    on_my_blog: list[_Seen] = []

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
        if owner.role == Role.ME:
            on_my_blog.append(item)
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

    for item, theirs in _my_answers_on_my_blog(on_my_blog, window):
        person = theirs.author.identity
        assert person is not None
        found.event(EventKind.MY_COMMENT, person, item, titles, answered=theirs)

    for post in _unique_posts(posts):
        _post(ids, post, found)
    return found.result()


def _my_answers_on_my_blog(items: Sequence[_Seen], window: timedelta) -> list[tuple[_Seen, _Seen]]:
    """(my comment, their comment it answers) on my own blog, oldest first. A comment of
    mine that says what it answers (thr:in-reply-to, "In reply to") answers that comment
    alone; one that does not answers every comment by a person in the same thread since my
    previous comment there, when it comes within `window` after it. Without this, "Reply
    to their comment of 9 Nov" stayed the next step for weeks after I had answered."""
    theirs = [s for s in items if s.author.role == Role.PERSON]
    if not theirs:
        return []
    theirs_by_key = _index(theirs)
    answers: list[tuple[_Seen, _Seen]] = []
    last_mine: dict[str, datetime] = {}
    for item in items:  # oldest first
        if item.author.role != Role.ME:
            continue
        if item.reply_to is not None:
            target = _lookup(theirs_by_key, item.reply_to, item.thread)
            if target is not None and target.when <= item.when:
                answers.append((item, target))
        elif item.thread:
            since = last_mine.get(item.thread)
            answers += [
                (item, other)
                for other in theirs
                if other.thread == item.thread
                and other.when < item.when <= other.when + window
                and (since is None or other.when > since)
            ]
        if item.thread:
            last_mine[item.thread] = item.when
    return answers


class _Found:
    """Collects events and evidence, once per id, with the warnings met on the way."""

    def __init__(self, trusted: frozenset[NamePair] = frozenset()) -> None:
        self.events: dict[str, Event] = {}
        self.evidence: dict[str, IntroEvidence] = {}
        self.warnings: list[str] = []
        self.trusted = trusted

    def unconfirmed(self, site: str, name: str | None) -> tuple[NamePair, ...]:
        """The pair a name-only match rests on, unless the user trusted it."""
        pair = (site, fold_name(name or ""))
        return () if pair in self.trusted else (pair,)

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
        unconfirmed: tuple[NamePair, ...] = (),
    ) -> None:
        comment = item.comment
        text = _plain(comment.snippet)
        where = _where(item, titles)
        if answered is not None:
            whose = "my comment" if kind == EventKind.THEIR_REPLY else "their comment"
            where = f"reply to {whose} of {answered.when.date().isoformat()} {where}"
        elif comment.is_pingback:
            where = f"pingback {where}"
        evidence = _evidence(where, text, dated=item.dated, when=item.when)
        event_id = stable_id("auto", kind.value, person, item.key)
        pairs = item.unconfirmed + (answered.unconfirmed if answered else ()) + unconfirmed
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
                confirmed=not pairs,
                name_matches=tuple(dict.fromkeys(pairs)),
            )

    def post_event(
        self,
        kind: EventKind,
        person: str,
        post: Post,
        why: str,
        unconfirmed: tuple[NamePair, ...] = (),
    ) -> None:
        when, dated = _post_when(post)
        if when is None:
            self.warn(f"post {post.link or post.id} has no date and no first-seen time; skipped")
            return
        event_id = stable_id("auto", kind.value, person, _post_key(post))
        if event_id not in self.events:
            where = f'post "{shorten(post.title, 70)}" {why}'
            self.events[event_id] = Event(
                id=event_id,
                person=person,
                kind=kind,
                when=when,
                direction=DIRECTION[kind],
                source=EventSource.AUTO,
                url=post.link,
                evidence=_evidence(where, "", dated=dated, when=when),
                confirmed=not unconfirmed,
                name_matches=unconfirmed,
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
        where = f'post "{shorten(post.title, 70)}" {why}'
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
        unconfirmed: tuple[NamePair, ...] = ()
        # The owner's name in their own comment feed is the owner: the feed is theirs. A
        # pingback's author is a post title; _pingback says what its match rests on.
        by_name = author.identity is not None and author.how != "url"
        if by_name and author.identity != comment.person and not comment.is_pingback:
            site = trust_site(comment.link or comment.post_link or comment.feed)
            unconfirmed = found.unconfirmed(site, comment.author)
        unique[key] = _Seen(
            comment=comment,
            key=key,
            thread=_thread(comment),
            when=when,
            dated=comment.published is not None,
            author=author,
            reply_to=_reply_target(comment),
            unconfirmed=unconfirmed,
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
    found_source = _pingback_source(ids, comment)
    if found_source is None:
        return
    source, name = found_source
    if source.name == owner.name:
        return
    unconfirmed: tuple[NamePair, ...] = ()
    if name is not None:
        unconfirmed = found.unconfirmed(trust_site(comment.link or comment.post_link), name)
    if owner.role == Role.PERSON and source.role == Role.ME:
        found.event(EventKind.MY_SHARE, owner.name, item, titles, unconfirmed=unconfirmed)
    elif owner.role == Role.ME and source.role == Role.PERSON:
        found.event(EventKind.THEIR_MENTION, source.name, item, titles, unconfirmed=unconfirmed)
    elif owner.role == Role.PERSON and source.role == Role.CONTACT:
        found.intro(source.name, owner.name, item, "contact_linked_person", titles)
    elif owner.role == Role.CONTACT and source.role == Role.PERSON:
        found.intro(owner.name, source.name, item, "person_linked_contact", titles)


def _pingback_source(ids: Identities, comment: Comment) -> tuple[Identity, str | None] | None:
    """Who linked, and the name part that said so (None when the link's URL did)."""
    by_url = match_url(ids, comment.author_url)
    if by_url.identity is not None:
        identity = ids.get(by_url.identity)
        return (identity, None) if identity is not None else None
    if not comment.author:
        return None
    # Only a whole part of "Post title – Site name" may name someone: a short alias found
    # inside a title ("what will happen") would credit the wrong person.
    author = html.unescape(comment.author)
    found: dict[str, tuple[Identity, str]] = {}
    for part in (author, *_PINGBACK_PARTS.split(author)):
        match = _match_name(ids, part)
        identity = ids.get(match.identity) if match.identity else None
        if identity is not None and identity.name not in found:
            found[identity.name] = (identity, part)
    if len(found) != 1:
        return None
    ((identity, part),) = found.values()
    return identity, part


def _post(ids: Identities, post: Post, found: _Found) -> None:
    owner = ids.get(post.person)
    if owner is None:
        return
    linked = ids.linked(post.links)
    if owner.role == Role.ME:
        for identity in linked:
            if identity.role == Role.PERSON:
                found.post_event(EventKind.MY_SHARE, identity.name, post, "links to their site")
        return
    text = fold_name(f"{post.title} {_plain(post.summary)}")
    if owner.role == Role.PERSON:
        if ids.me in linked:
            found.post_event(EventKind.THEIR_MENTION, owner.name, post, "links to my site")
        elif name := _named_in_folded(ids.me, text):
            # "My colleague Lucia ran the retro" names a Lucia, not necessarily me.
            unconfirmed = found.unconfirmed(trust_site(post.link or post.feed), name)
            found.post_event(EventKind.THEIR_MENTION, owner.name, post, "names me", unconfirmed)
        for identity in ids.contacts:
            if identity in linked:
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
        for identity in linked:
            if identity.role == Role.PERSON:
                found.post_intro(
                    owner.name,
                    identity.name,
                    post,
                    "contact_linked_person",
                    "links to the person's site",
                )


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
        return f'on "{shorten(title, 60)}"'
    if item.thread:
        return f"on {shorten(item.thread, 80)}"
    return f"in {shorten(item.comment.feed, 80)}"


def _plain(snippet: str) -> str:
    """Sanitized HTML -> one line of text, without WordPress's "In reply to Name." lead."""
    text = html.unescape(_TAG.sub(" ", without_reply_lead(snippet)))
    # Some feeds escape the comment's HTML once more: the lead then arrives as text.
    return " ".join(without_reply_lead(text).split())


def _evidence(where: str, text: str, *, dated: bool, when: datetime) -> str:
    lead = "comment " + where if not where.startswith(("post ", "pingback ", "reply ")) else where
    suffix = "" if dated else f" (no date in the feed; first seen {when.date().isoformat()})"
    if text:
        room = EVIDENCE_CHARS - len(lead) - len(suffix) - 4
        body = f'{lead}: "{shorten(text, max(20, min(SNIPPET_CHARS, room)))}"{suffix}'
    else:
        body = lead + suffix
    return shorten(body, EVIDENCE_CHARS)


def threads_i_joined(
    watchlist: Watchlist, comments: Sequence[Comment], *, now: datetime, quiet_days: int = 30
) -> set[str]:
    """Post links of the threads I commented in that are still alive (a comment newer
    than `quiet_days`): the poll cycle keeps polling their per-post comment feeds."""
    return live_threads(joined_threads(watchlist, comments), now=now, quiet_days=quiet_days)


def identities_fingerprint(ids: Identities) -> str:
    """A digest of everything matching looks at (keys, roles, folded names, sites). What
    was worked out from who wrote what, such as the threads I joined that the poll keeps,
    holds only while this stays the same: a new alias can make an old comment mine."""
    import hashlib
    import json

    shape = [
        [i.name, str(i.role), sorted(i.names), [[s.host, s.path] for s in i.sites]] for i in ids.all
    ]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


def live_threads(
    joined: Mapping[str, datetime], *, now: datetime, quiet_days: int = 30
) -> set[str]:
    """The threads of `joined` (post link -> its latest comment) not quiet for
    `quiet_days`."""
    cutoff = now - timedelta(days=quiet_days)
    return {link for link, last in joined.items() if last > cutoff}


def joined_threads(watchlist: Watchlist, comments: Sequence[Comment]) -> dict[str, datetime]:
    """Every thread I commented in, as its post link and the time of its latest comment
    (anyone's). What the poll keeps between cycles, so a cycle where nothing new arrived
    need not read every stored comment to know which threads to follow."""
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
    return {link_of[thread]: last[thread] for thread in joined}


def thread_link(comment: Comment) -> str:
    """The post URL of a comment's thread, as a URL (the permalink without its fragment)."""
    if comment.post_link:
        return comment.post_link
    if comment.link:
        return comment.link.split("#", 1)[0]
    return ""
