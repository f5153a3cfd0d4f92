"""Feed bytes -> ParsedFeed. feedparser's dictionaries stop here.

`parse_feed` never raises: the poll cycle runs it in a process pool over untrusted bodies, and
one bad feed must end as an error on that feed, never as an exception crossing the batch.

feedparser is called with its own sanitizer and relative-URI pass switched off: together they
cost more than half its time (0.72 -> 0.31 ms per entry, measured), and we sanitize with nh3
anyway, so the HTML work is done once, here, on the (already capped) summary only.
"""

from __future__ import annotations

import calendar
import html
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from engage.clean import NAME_CHARS, clean_line
from engage.comment_marks import is_comment_url, is_pingback, reply_link
from engage.models import Enclosure, Entry, ParsedFeed
from engage.poll.fields import (
    CATEGORY_CHARS,
    MAX_CATEGORIES,
    absolute_links,
    clean_summary,
    derive_title,
    hash_id,
    http_url,
    is_absolute_http,
    lead_text,
    parse_date,
    plain_text,
    positive_int,
)
from engage.poll.pages import discover_feed_links
from engage.poll.xmlsafe import EntityDeclarations, without_entity_declarations
from engage.urls import strip_comment_marks

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
    }
)

_SY_PERIOD_MINUTES = {
    "hourly": 60,
    "daily": 60 * 24,
    "weekly": 60 * 24 * 7,
    "monthly": 60 * 24 * 30,
    "yearly": 60 * 24 * 365,
}

_HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_FEED_START = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)\b")


log = logging.getLogger(__name__)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse one fetched body. Never raises: a failure becomes ParsedFeed(error=...)."""
    try:
        return _parse(body, url, content_type)
    except Exception as exc:  # untrusted input: any bug or odd byte ends as this feed's error
        # ...but a bug of ours must still be findable: the traceback goes to the log.
        log.exception("parsing %s failed", url)
        return ParsedFeed(error=f"could not read this feed ({type(exc).__name__}: {exc})"[:300])


def _parse(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    if not body or not body.strip():
        return ParsedFeed(error="the response was empty")
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if "json" in ctype or head.startswith(b"{"):
        from engage.poll.jsonfeed import parse_json_feed

        return parse_json_feed(body, url=url)
    if _looks_like_html(head, ctype):
        return html_page(body, url)

    warning = None
    try:
        body, removed = without_entity_declarations(body)
    except EntityDeclarations as exc:
        return ParsedFeed(error=str(exc))
    if removed:
        warning = "entity declarations were removed before parsing"

    # Without a content type feedparser flags every body as bozo; application/xml lets the
    # XML declaration name the encoding, as RFC 3023 says for a type without charset.
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    data = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    feed = data.get("feed", {})
    raw_entries = data.get("entries", [])
    if not data.get("version") and not raw_entries:
        if b"<html" in body[:4096].lower():
            return html_page(body, url)
        reason = data.get("bozo_exception")
        detail = f" ({reason})" if reason else ""
        return ParsedFeed(error=f"not a feed: no RSS, Atom or JSON Feed found{detail}"[:300])

    link = http_url(feed.get("link"), url)
    base = link or url
    entries = _entries(raw_entries, feed_url=url, feed_link=link, base=base)
    if data.get("bozo") and warning is None:
        warning = f"feed is not well-formed, read loosely ({data.get('bozo_exception')})"[:300]
    return ParsedFeed(
        title=plain_text(feed.get("title"), feed.get("title_detail")),
        link=link,
        entries=entries,
        ttl_minutes=positive_int(feed.get("ttl")),
        update_minutes=_sy_minutes(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        generator=plain_text(feed.get("generator"), None) or None,
        warning=warning,
    )


def _looks_like_html(head: bytes, ctype: str) -> bool:
    if _HTML_START.match(head):
        return True
    return ctype in ("text/html", "application/xhtml+xml") and not _FEED_START.search(head)


def html_page(body: bytes, url: str) -> ParsedFeed:
    """A web page where a feed was expected: say which feeds it advertises."""
    found = tuple(link.url for link in discover_feed_links(body, url))
    if found:
        error = f"this is a web page, not a feed; did you mean {found[0]}?"
    else:
        error = "this is a web page with no feed link"
    return ParsedFeed(is_html=True, discovered=found, error=error)


# ---------------------------------------------------------------------------
# Entries


def _entries(
    raw_entries: Iterable[Mapping[str, Any]], *, feed_url: str, feed_link: str | None, base: str
) -> tuple[Entry, ...]:
    entries: list[tuple[Entry, tuple[str, ...]]] = []
    seen: set[str] = set()
    links_by_key: dict[str, str] = {}
    for fp_entry in raw_entries:
        # A plain dict: FeedParserDict.get maps keys in Python on every call and was a third
        # of our per-entry cost (measured); the canonical keys are what we read anyway.
        raw = dict(fp_entry)
        entry, refs = _entry(raw, feed_url=feed_url, feed_link=feed_link, base=base)
        if entry.id in seen:
            continue  # the first of duplicate ids wins
        seen.add(entry.id)
        entries.append((entry, refs))
        if entry.link:
            links_by_key[entry.id] = entry.link
            for link in raw.get("links") or ():
                if link.get("rel") == "self" and link.get("href"):
                    links_by_key[str(link["href"])] = entry.link
    # A comment that names another entry of this same feed answers that comment, not the
    # post: thr:in-reply-to ref (an id), or Blogger's rel="related" (the parent's self URL).
    answered: list[Entry] = []
    for entry, refs in entries:
        if entry.in_reply_to is None:
            for ref in refs:
                # feedparser resolves a relative <id> against the feed URL, but not thr's ref.
                target = links_by_key.get(ref) or links_by_key.get(urljoin(feed_url, ref))
                if target and target != entry.link:
                    entry = replace(entry, in_reply_to=target)
                    break
        answered.append(entry)
    return tuple(answered)


def _entry(
    raw: Mapping[str, Any], *, feed_url: str, feed_link: str | None, base: str
) -> tuple[Entry, tuple[str, ...]]:
    entry_base = _base_of(raw, feed_url, base)
    link = http_url(raw.get("link"), entry_base)
    title = plain_text(raw.get("title"), raw.get("title_detail"))
    published = _date(raw, "published") or _date(raw, "created")
    updated = _date(raw, "updated")
    if published is None and updated is not None:
        published = updated

    content = _content_html(raw)
    summary_src = raw.get("summary") or content
    # Plain text is only needed to derive a title or to test for a pingback ("[…] … […]");
    # stripping every body cost a third of our per-entry time (measured), so only then.
    needs_text = not title or "[" in (summary_src or "")[:24]
    text = lead_text(summary_src) if needs_text else ""
    if not title:
        title = derive_title(text)

    author_detail = raw.get("author_detail") or {}
    author = plain_text(author_detail.get("name") or raw.get("author"), None, limit=NAME_CHARS)
    author_url = http_url(author_detail.get("href"), entry_base)

    guid = str(raw.get("id") or "").strip()
    entry_id = guid or link or hash_id(link, raw.get("published") or raw.get("updated"), title)

    thread_url, in_reply_to, thr_ref = _thread(raw, link, content or summary_src, entry_base)
    entry = Entry(
        id=entry_id,
        link=link,
        title=title or None,
        published=published,
        updated=updated,
        author=author or None,
        author_url=author_url,
        summary=clean_summary(summary_src, entry_base) if summary_src else "",
        links=absolute_links((content, raw.get("summary")), entry_base),
        enclosure=_enclosure(raw, entry_base),
        comment_feeds=_comment_feeds(raw, entry_base),
        comment_count=positive_int(raw.get("slash_comments") or raw.get("thr_total"), zero=True),
        categories=_categories(raw.get("tags")),
        thread_url=thread_url or feed_link,
        in_reply_to=in_reply_to,
        is_pingback=is_pingback(text, title, author),
    )
    related = [
        str(link["href"])
        for link in raw.get("links") or ()
        if link.get("rel") == "related" and link.get("href")
    ]
    return entry, (*((thr_ref,) if thr_ref else ()), *related)


def _base_of(raw: Mapping[str, Any], feed_url: str, fallback: str) -> str:
    """An explicit xml:base (feedparser tracks it per element), else the feed's home page,
    else the feed URL: a FeedBurner copy's relative links belong to the site, not FeedBurner."""
    for key in ("summary_detail", "title_detail"):
        detail = raw.get(key)
        candidate = detail.get("base") if detail else None
        if candidate and candidate != feed_url and is_absolute_http(candidate):
            return str(candidate)
    return fallback


def _content_html(raw: Mapping[str, Any]) -> str:
    content = raw.get("content")
    if content:
        return "".join(str(part.get("value") or "") for part in content)
    return ""


def _thread(
    raw: Mapping[str, Any], link: str | None, body: str | None, base: str
) -> tuple[str | None, str | None, str | None]:
    """(thread_url, in_reply_to, thr ref) for comment entries; harmless on posts."""
    thread_url: str | None = None
    in_reply_to: str | None = None
    ref: str | None = None
    thr = raw.get("thr_in-reply-to")
    if isinstance(thr, Mapping):
        href = http_url(thr.get("href"), base)
        ref = str(thr.get("ref") or "") or None
        if href and is_comment_url(href):
            in_reply_to = href
            thread_url = strip_comment_marks(href)
        elif href:
            thread_url = strip_comment_marks(href)
    if body:
        answered = reply_link(body)
        if answered:
            # "#comment-N" alone (Disqus) is relative to the comment's page, not the feed.
            target = html.unescape(answered)
            in_reply_to = http_url(target, link or base) or in_reply_to
    if thread_url is None and link and is_comment_url(link):
        thread_url = strip_comment_marks(link)
    return thread_url, in_reply_to, ref


# ---------------------------------------------------------------------------
# Dates, numbers, enclosures, comment links


def _date(raw: Mapping[str, Any], name: str) -> datetime | None:
    parsed = raw.get(f"{name}_parsed")
    if parsed:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        except (OverflowError, ValueError, OSError, TypeError):
            pass
    value = raw.get(name)
    return parse_date(str(value)) if value else None


def _sy_minutes(period: object, frequency: object) -> int | None:
    if not period:
        return None
    minutes = _SY_PERIOD_MINUTES.get(str(period).strip().lower())
    if minutes is None:
        return None
    times = positive_int(frequency) or 1  # updateFrequency: times per period, default 1
    return max(1, minutes // times)


def duration_seconds(value: object) -> int | None:
    """itunes:duration: "HH:MM:SS", "MM:SS" or plain seconds."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        parts = [float(p) if p else 0.0 for p in text.split(":")]
    except ValueError:
        return None
    if len(parts) > 3 or any(p < 0 for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return int(seconds)


def _enclosure(raw: Mapping[str, Any], base: str) -> Enclosure | None:
    # feedparser derives `enclosures` from links with rel="enclosure" on access; read them.
    for enclosure in raw.get("links") or ():
        if enclosure.get("rel") != "enclosure":
            continue
        url = http_url(enclosure.get("href") or enclosure.get("url"), base)
        if not url:
            continue
        return Enclosure(
            url=url,
            type=clean_line(str(enclosure.get("type") or "")) or None,
            length=positive_int(enclosure.get("length")),
            duration_seconds=duration_seconds(raw.get("itunes_duration")),
        )
    return None


def _categories(tags: object) -> tuple[str, ...]:
    """RSS <category> and Atom category terms: what the digest matches my interests with."""
    if not isinstance(tags, list):
        return ()
    found: dict[str, None] = {}
    for tag in tags:
        if isinstance(tag, Mapping):
            text = plain_text(tag.get("term") or tag.get("label"), None)
            if text:
                found.setdefault(text[:CATEGORY_CHARS], None)
    return tuple(found)[:MAX_CATEGORIES]


def _comment_feeds(raw: Mapping[str, Any], base: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    wfw = http_url(raw.get("wfw_commentrss"), base)
    if wfw:
        found[wfw] = None
    for link in raw.get("links") or ():
        if link.get("rel") != "replies":
            continue
        # Blogger gives two replies links: text/html (the comment form) and the Atom feed.
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        if kind in FEED_TYPES:
            url = http_url(link.get("href"), base)
            if url:
                found.setdefault(url, None)
    return tuple(found)
