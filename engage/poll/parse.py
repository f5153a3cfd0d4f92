"""Feed bytes -> ParsedFeed. feedparser's dictionaries stop here.

`parse_feed` never raises: the poll cycle runs it in a process pool over untrusted bodies, and
one bad feed must end as an error on that feed, never as an exception crossing the batch.

feedparser is called with its own sanitizer and relative-URI pass switched off: together they
cost more than half its time (0.72 -> 0.31 ms per entry, measured), and we sanitize with nh3
anyway, so the HTML work is done once, here, on the (already capped) summary only.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import nh3

from engage.models import Enclosure, Entry, ParsedFeed

SUMMARY_TEXT_CHARS = 1000  # a digest snippet, not an archive of their writing (DESIGN §6);
# 3,000 made the cache 55 MB for 1,000 feeds and a no-change poll read all of it (measured)
TITLE_CHARS = 80  # derived titles (Mastodon, Bluesky, Scripting News items have none)
PINGBACK_MAX_CHARS = 1200  # WordPress pingback excerpts are a sentence or two
BLUESKY_PLACEHOLDER = "[contains quote post or other embedded content]"

SUMMARY_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "em", "i", "li", "ol", "p",
    "pre", "q", "s", "small", "strong", "sub", "sup", "u", "ul",
}  # fmt: skip
SUMMARY_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"

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

# An internal DTD subset that declares entities: the "billion laughs" shape. A 127 KiB feed
# with nested entities took 36 s and 2.9 GB in feedparser's loose fallback (measured), so the
# subset is cut out before parsing; references to the removed entities stay as plain text.
_DTD_OPEN = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)
_HTML_START = re.compile(
    rb"^(?:\s|<!--.*?-->|<\?xml[^>]*>)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_FEED_START = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)\b")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z/!?]")
_ORIGIN = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_ABSOLUTE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# WordPress threaded replies start with "In reply to <a href="…#comment-N">Name</a>." in the
# site's language; the structure (a link to #comment-N first thing in the body) is the signal.
_WP_REPLY = re.compile(
    r"""^\s*(?:<p>)?[^<]{0,60}<a\s[^>]*?href\s*=\s*["']([^"']*#comment-\d+)["'][^>]*>[^<]*</a>""",
    re.IGNORECASE,
)
_COMMENT_FRAGMENT = re.compile(r"^(?:comment-\d+|c\d+|comments?)$")
# "[…] excerpt […]": WordPress builds pingback and trackback bodies this way, in any language.
_PINGBACK_TEXT = re.compile(r"^\s*\[(?:…|\.\.\.)\].*\[(?:…|\.\.\.)\]\s*$", re.DOTALL)
_PINGBACK_PREFIX = re.compile(r"^\s*(?:pingback|trackback)\s*:", re.IGNORECASE)
# Bluesky's native RSS: "14 Jan 2026 16:33 +0000" (no weekday, no seconds).
_LOOSE_DATE = re.compile(
    r"^\s*(?:[^\W\d_]{2,4}\.?,?\s+)?(\d{1,2})\.?\s+([^\W\d_]{3})[^\W\d_]*\.?\s+(\d{2,4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|GMT|UT|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip
# Localized feeds (UOL: "Seg, 24 Set 2018") write month names in their language.
_MONTHS.update({
    "fev": 2, "abr": 4, "mai": 5, "ago": 8, "set": 9, "out": 10, "dez": 12,  # pt
    "ene": 1, "dic": 12,  # es
    "mrz": 3, "mär": 3, "okt": 10,  # de
    "fév": 2, "avr": 4, "jui": 6, "aoû": 8, "déc": 12,  # fr
})  # fmt: skip


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
    if b"<!ENTITY" in body:
        stripped = _DTD_SUBSET.sub(b"", body, count=1)
        if stripped != body:
            body = stripped
            warning = "entity declarations were removed before parsing"
        elif _DTD_OPEN.search(body[:65536]):
            # A subset the pattern could not cut out (unterminated): never hand it to a parser.
            return ParsedFeed(error="the feed declares XML entities; refused (entity expansion)")
        # Otherwise "<!ENTITY" is only text, e.g. in a post about XML.

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

    link = _http_url(feed.get("link"), url)
    base = link or url
    entries = _entries(raw_entries, feed_url=url, feed_link=link, base=base)
    if data.get("bozo") and warning is None:
        warning = f"feed is not well-formed, read loosely ({data.get('bozo_exception')})"[:300]
    return ParsedFeed(
        title=_plain(feed.get("title"), feed.get("title_detail")),
        link=link,
        entries=entries,
        ttl_minutes=_positive_int(feed.get("ttl")),
        update_minutes=_sy_minutes(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")),
        generator=_plain(feed.get("generator"), None) or None,
        warning=warning,
    )


def _looks_like_html(head: bytes, ctype: str) -> bool:
    if _HTML_START.match(head):
        return True
    return ctype in ("text/html", "application/xhtml+xml") and not _FEED_START.search(head)


def html_page(body: bytes, url: str) -> ParsedFeed:
    """A web page where a feed was expected: say which feeds it advertises."""
    from engage.poll.discover import discover_feed_links

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
    link = _http_url(raw.get("link"), entry_base)
    title = _plain(raw.get("title"), raw.get("title_detail"))
    published = _date(raw, "published") or _date(raw, "created")
    updated = _date(raw, "updated")
    if published is None and updated is not None:
        published = updated

    content = _content_html(raw)
    summary_src = raw.get("summary") or content
    # Plain text is only needed to derive a title or to test for a pingback ("[…] … […]");
    # stripping every body cost a third of our per-entry time (measured), so only then.
    needs_text = not title or "[" in (summary_src or "")[:24]
    text = _lead_text(summary_src) if needs_text else ""
    if not title:
        title = _derive_title(text)

    author_detail = raw.get("author_detail") or {}
    author = _plain(author_detail.get("name") or raw.get("author"), None)
    author_url = _http_url(author_detail.get("href"), entry_base)

    guid = str(raw.get("id") or "").strip()
    entry_id = guid or link or _hash_id(link, raw.get("published") or raw.get("updated"), title)

    thread_url, in_reply_to, thr_ref = _thread(raw, link, content or summary_src, entry_base)
    entry = Entry(
        id=entry_id,
        link=link,
        title=title or None,
        published=published,
        updated=updated,
        author=author or None,
        author_url=author_url,
        summary=_summary(summary_src, entry_base) if summary_src else "",
        links=_links((content, raw.get("summary")), entry_base),
        enclosure=_enclosure(raw, entry_base),
        comment_feeds=_comment_feeds(raw, entry_base),
        comment_count=_positive_int(raw.get("slash_comments") or raw.get("thr_total"), zero=True),
        thread_url=thread_url or feed_link,
        in_reply_to=in_reply_to,
        is_pingback=_is_pingback(text, title, author),
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
        if candidate and candidate != feed_url and _ABSOLUTE.match(candidate):
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
        href = _http_url(thr.get("href"), base)
        ref = str(thr.get("ref") or "") or None
        if href and _is_comment_url(href):
            in_reply_to = href
            thread_url = _strip_comment_marks(href)
        elif href:
            thread_url = _strip_comment_marks(href)
    if body:
        match = _WP_REPLY.match(body)
        if match:
            # "#comment-N" alone (Disqus) is relative to the comment's page, not the feed.
            target = html.unescape(match.group(1))
            in_reply_to = _http_url(target, link or base) or in_reply_to
    if thread_url is None and link and _is_comment_url(link):
        thread_url = _strip_comment_marks(link)
    return thread_url, in_reply_to, ref


def _is_comment_url(url: str) -> bool:
    parts = urlsplit(url)
    return bool(_COMMENT_FRAGMENT.match(parts.fragment)) or "showComment=" in parts.query


def _strip_comment_marks(url: str) -> str:
    """The post a comment URL belongs to: drop #comment-N and Blogger's ?showComment=…"""
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("showComment="))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _is_pingback(text: str, title: str | None, author: str | None) -> bool:
    if _PINGBACK_TEXT.match(text):
        return True
    return any(value and _PINGBACK_PREFIX.match(value) for value in (title, author, text))


# ---------------------------------------------------------------------------
# Text, HTML and links


def _plain(value: object, detail: Mapping[str, Any] | None) -> str:
    """Titles and names as plain text: HTML stripped, entities unescaped, spaces collapsed."""
    if not value:
        return ""
    text = str(value)
    is_html = bool(detail and "html" in str(detail.get("type") or ""))
    if is_html or _TAG.search(text):
        text = nh3.clean(text, tags=set())
    if "&" in text:
        # Twice: CDATA authors like "Song Book &#124; Blog" arrive with the entity literal.
        text = html.unescape(html.unescape(text))
    return _SPACE.sub(" ", text).strip()


def _text(fragment: str) -> str:
    return _plain(fragment, {"type": "text/html"})


def _lead_text(fragment: str | None) -> str:
    """Plain text of a short body, or of the start of a long one: enough for a derived title
    and the pingback test (pingback bodies are short), without stripping a whole article."""
    if not fragment:
        return ""
    if len(fragment) <= PINGBACK_MAX_CHARS:
        return _text(fragment)
    return _text(fragment[:PINGBACK_MAX_CHARS])[: TITLE_CHARS * 4] + " …"


def _derive_title(text: str) -> str:
    text = text.replace(BLUESKY_PLACEHOLDER, " ").strip()
    text = _SPACE.sub(" ", text)
    if not text:
        return ""
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[:TITLE_CHARS]
    space = cut.rfind(" ")
    if space > TITLE_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _summary(fragment: str, base: str) -> str:
    """Sanitized, capped HTML. Cut first (on a tag boundary), then clean: cleaning closes any
    element the cut left open, so the result is valid HTML whatever the length."""
    if len(fragment) > SUMMARY_TEXT_CHARS:
        cut = fragment[:SUMMARY_TEXT_CHARS]
        open_tag = cut.rfind("<")
        if open_tag > cut.rfind(">"):
            cut = cut[:open_tag]
        fragment = cut + "…"
    relative: Any = (
        ("rewrite_with_base", base) if urlsplit(base).scheme in ("http", "https") else "deny"
    )
    return nh3.clean(
        fragment,
        tags=SUMMARY_TAGS,
        clean_content_tags={"script", "style"},
        attributes=SUMMARY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        url_relative=relative,
    ).strip()


def _links(fragments: Iterable[str | None], base: str) -> tuple[str, ...]:
    """Absolute http(s) hrefs, in order, deduplicated: "their post links to my site".

    Most hrefs are already absolute; urljoin is only paid for the others (it was half of
    the per-entry cost on podcast show notes full of links, measured)."""
    found: dict[str, None] = {}
    raw_seen: set[str] = set()
    origin = _origin(base)
    for fragment in fragments:
        if not fragment or "href" not in fragment:
            continue
        for match in _HREF.finditer(fragment):
            href = (match.group(1) or match.group(2) or "").strip()
            if href in raw_seen or not href or href[0] == "#":
                continue
            raw_seen.add(href)
            if "&" in href:
                href = html.unescape(href)
            if _ABSOLUTE.match(href):
                found.setdefault(href, None)
                continue
            if origin and href[0] == "/" and not href.startswith("//") and "/." not in href:
                found.setdefault(origin + href, None)  # the common "/path": no urljoin needed
                continue
            absolute = _http_url(href, base)
            if absolute:
                found.setdefault(absolute, None)
    return tuple(found)


def _origin(base: str) -> str | None:
    match = _ORIGIN.match(base)
    return match.group(0) if match else None


def _http_url(value: object, base: str | None) -> str | None:
    """An absolute http(s) URL, or None: javascript:, data: and friends never leave here."""
    if not value:
        return None
    text = str(value).strip()
    if _ABSOLUTE.match(text):
        return text
    try:
        absolute = urljoin(base, text) if base else text
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _hash_id(link: str | None, date: object, title: str | None) -> str:
    key = "\n".join((link or "", str(date or ""), title or ""))
    return "sha1:" + hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()


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


def parse_date(value: str) -> datetime | None:
    """Fallback for dates feedparser could not read; always timezone-aware (UTC if none)."""
    try:
        result = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        result = None
    if result is None:
        result = _loose_date(value)
    if result is None:
        try:
            result = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def _loose_date(value: str) -> datetime | None:
    match = _LOOSE_DATE.match(value)
    if not match:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name[:3].lower())
    if month is None:
        return None
    year_number = int(year)
    if year_number < 100:
        year_number += 2000 if year_number < 70 else 1900
    tz = UTC
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(offset if zone[0] == "+" else -offset)
    try:
        return datetime(
            year_number, month, int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
        )
    except ValueError:
        return None


def _positive_int(value: object, *, zero: bool = False) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 or (zero and number == 0) else None


def _sy_minutes(period: object, frequency: object) -> int | None:
    if not period:
        return None
    minutes = _SY_PERIOD_MINUTES.get(str(period).strip().lower())
    if minutes is None:
        return None
    times = _positive_int(frequency) or 1  # updateFrequency: times per period, default 1
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
        url = _http_url(enclosure.get("href") or enclosure.get("url"), base)
        if not url:
            continue
        return Enclosure(
            url=url,
            type=(str(enclosure.get("type") or "").strip() or None),
            length=_positive_int(enclosure.get("length")),
            duration_seconds=duration_seconds(raw.get("itunes_duration")),
        )
    return None


def _comment_feeds(raw: Mapping[str, Any], base: str) -> tuple[str, ...]:
    found: dict[str, None] = {}
    wfw = _http_url(raw.get("wfw_commentrss"), base)
    if wfw:
        found[wfw] = None
    for link in raw.get("links") or ():
        if link.get("rel") != "replies":
            continue
        # Blogger gives two replies links: text/html (the comment form) and the Atom feed.
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        if kind in FEED_TYPES:
            url = _http_url(link.get("href"), base)
            if url:
                found.setdefault(url, None)
    return tuple(found)
