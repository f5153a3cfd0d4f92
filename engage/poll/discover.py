"""Feed autodiscovery, platform URL helpers and OPML.

Everything here is pure (bytes or text in, values out) except `resolve`, which does the I/O of
`engage add`: one fetch of what the user typed, then at most a few more to confirm a feed.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from engage.models import FeedKind, ParsedFeed, Watchlist
from engage.poll.parse import parse_feed

if TYPE_CHECKING:
    import httpx

FEED_LINK_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/xml",
        "text/xml",
    }
)
WELL_KNOWN_PATHS = ("/feed", "/rss.xml", "/atom.xml", "/index.xml", "/feed.xml")
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)

_TAG = re.compile(r"<(link|base|meta)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_COMMENTS_TITLE = re.compile(r"comment|komentar|commentaires|kommentare|comentarios", re.I)
_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")
_YT_FEED = re.compile(
    r"https://www\.youtube\.com/feeds/videos\.xml\?channel_id=(UC[A-Za-z0-9_-]{22})"
)
_FEDIVERSE_HANDLE = re.compile(r"^@([A-Za-z0-9_.-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})$")


@dataclass(frozen=True)
class DiscoveredFeed:
    """A feed advertised by a web page with <link rel="alternate">."""

    url: str
    type: str
    title: str | None = None
    is_comments: bool = False


@dataclass(frozen=True)
class PlatformFeed:
    """The feed a platform publishes for a profile, channel or thread, known from the URL."""

    url: str
    kind: FeedKind
    platform: str  # mastodon, bluesky, youtube, discourse


@dataclass(frozen=True)
class Resolution:
    """What `engage add` learned about a URL. `parsed` is the feed body already read, so the
    caller does not fetch it again; `error` says in one line why nothing was found."""

    feed_url: str | None
    kind: FeedKind = FeedKind.BLOG
    title: str | None = None
    site_url: str | None = None
    comments_feed: str | None = None
    parsed: ParsedFeed | None = None
    candidates: tuple[DiscoveredFeed, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class OpmlOutline:
    """One feed of an OPML file; `folder` is the path of enclosing outlines, outermost first."""

    url: str
    title: str | None = None
    html_url: str | None = None
    folder: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# Pages


def _attrs(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTR.finditer(text):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        if value is None:
            value = match.group(4) or ""
        found.setdefault(match.group(1).lower(), html.unescape(value))
    return found


def _head_tags(page: bytes | str) -> list[tuple[str, dict[str, str]]]:
    # Not only <head>: YouTube channel pages put their feed link inside <body>.
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    return [(m.group(1).lower(), _attrs(m.group(2))) for m in _TAG.finditer(text)]


def discover_feed_links(page: bytes | str, base_url: str) -> list[DiscoveredFeed]:
    """Feeds a page advertises, absolute (against <base href> or the page URL), in page order."""
    tags = _head_tags(page)
    base = base_url
    for name, attrs in tags:
        if name == "base" and attrs.get("href"):
            base = urljoin(base_url, attrs["href"])
            break
    found: list[DiscoveredFeed] = []
    seen: set[str] = set()
    for name, attrs in tags:
        if name != "link" or "alternate" not in attrs.get("rel", "").lower().split():
            continue
        kind = attrs.get("type", "").split(";")[0].strip().lower()
        href = attrs.get("href", "").strip()
        if not href or not _is_feed_type(kind, href, attrs.get("title")):
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = " ".join(attrs.get("title", "").split()) or None
        found.append(
            DiscoveredFeed(
                url=url,
                type=kind,
                title=title,
                is_comments=bool(title and _COMMENTS_TITLE.search(title)),
            )
        )
    return found


def _is_feed_type(kind: str, href: str, title: str | None) -> bool:
    if kind in FEED_LINK_TYPES:
        return True
    # Some sites label JSON Feed as plain application/json; WordPress uses that type for its
    # REST API (/wp-json/...), which is no feed, so only a .json file or a "feed" title counts.
    if kind == "application/json":
        path = urlsplit(href).path
        return path.endswith(".json") or bool(title and "feed" in title.lower())
    return False


def page_generator(page: bytes | str) -> str | None:
    """<meta name="generator">: tells WordPress and Blogger sites apart for comment feeds."""
    for name, attrs in _head_tags(page):
        if name == "meta" and attrs.get("name", "").lower() == "generator":
            return attrs.get("content") or None
    return None


def youtube_feed_from_page(page: bytes | str) -> str | None:
    """A YouTube channel page (@handle URLs need the page): its channel feed."""
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    direct = _YT_FEED.search(text)
    if direct:
        return direct.group(0)
    for pattern in (
        r'<meta itemprop="(?:channelId|identifier)" content="(UC[A-Za-z0-9_-]{22})"',
        r'<link rel="canonical" href="https://www\.youtube\.com/channel/(UC[A-Za-z0-9_-]{22})"',
        r'"(?:channelId|externalId)":"(UC[A-Za-z0-9_-]{22})"',
    ):
        match = re.search(pattern, text)
        if match:
            return youtube_channel_feed(match.group(1))
    return None


def youtube_channel_feed(channel_id: str) -> str:
    return f"https://www.youtube.com/feeds/videos.xml?channel_id={channel_id}"


def well_known_feed_paths(site_url: str) -> list[str]:
    """Where feeds usually live when a page advertises none."""
    root = _site_root(site_url)
    return [root + path for path in WELL_KNOWN_PATHS]


def site_comment_feed_candidates(site_url: str, generator_hint: str | None) -> list[str]:
    """Site-wide comment feeds by platform. Only WordPress and Blogger publish one at a known
    path; with no hint both are worth one try, with another platform's hint none is."""
    parts = urlsplit(site_url if "://" in site_url else "https://" + site_url)
    home = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))
    wordpress = home + "comments/feed/"  # WordPress may live in a subfolder: keep the path
    blogger = _site_root(site_url) + "/feeds/comments/default"
    hint = (generator_hint or "").lower()
    host = parts.netloc.lower()
    if "wordpress" in hint or host.endswith(".wordpress.com"):
        return [wordpress]
    if "blogger" in hint or host.endswith(".blogspot.com"):
        return [blogger]
    return [wordpress, blogger] if not hint else []


def _site_root(url: str) -> str:
    parts = urlsplit(url if "://" in url else "https://" + url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def platform_feed(text: str) -> PlatformFeed | None:
    """The feed a known platform publishes for this URL or handle, without any I/O."""
    value = text.strip()
    handle = _FEDIVERSE_HANDLE.match(value)
    if handle:
        user, host = handle.groups()
        return PlatformFeed(f"https://{host.lower()}/@{user}.rss", FeedKind.SOCIAL, "mastodon")
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.lower()
    segments = [s for s in parts.path.split("/") if s]

    if host in ("bsky.app", "www.bsky.app") and len(segments) >= 2 and segments[0] == "profile":
        return PlatformFeed(
            f"https://bsky.app/profile/{segments[1]}/rss", FeedKind.SOCIAL, "bluesky"
        )
    if host in ("youtube.com", "www.youtube.com", "m.youtube.com"):
        if len(segments) >= 2 and segments[0] == "channel" and _CHANNEL_ID.fullmatch(segments[1]):
            return PlatformFeed(youtube_channel_feed(segments[1]), FeedKind.VIDEO, "youtube")
        if parts.path == "/feeds/videos.xml":
            return PlatformFeed(value, FeedKind.VIDEO, "youtube")
        return None  # @handle and /c/ pages: only the page knows the channel id
    if host in ("medium.com", "www.medium.com") and segments and segments[0].startswith("@"):
        return PlatformFeed(f"https://medium.com/feed/{segments[0]}", FeedKind.BLOG, "medium")
    if len(segments) == 1 and segments[0].startswith("@") and len(segments[0]) > 1:
        # https://host/@user is Mastodon's profile URL (and its .rss the profile feed).
        user = segments[0][1:].removesuffix(".rss")
        return PlatformFeed(f"{parts.scheme}://{host}/@{user}.rss", FeedKind.SOCIAL, "mastodon")
    if len(segments) >= 3 and segments[0] == "t" and segments[2].isdigit():
        # Discourse topic /t/slug/123[/post]: the topic's .rss lists its posts (comments).
        path = "/t/" + "/".join(segments[1:3]) + ".rss"
        return PlatformFeed(f"{parts.scheme}://{host}{path}", FeedKind.FORUM, "discourse")
    if len(segments) >= 2 and segments[0] in ("u", "users") and segments[1]:
        # Discourse's user feed route is /u/:username/activity.rss (posts#user_posts_feed).
        user = quote(segments[1].removesuffix(".rss"), safe="._-")
        return PlatformFeed(
            f"{parts.scheme}://{host}/u/{user}/activity.rss", FeedKind.FORUM, "discourse"
        )
    return None


# ---------------------------------------------------------------------------
# Resolving what the user typed (I/O)


async def _fetch(
    client: httpx.AsyncClient, url: str, max_bytes: int
) -> tuple[str, bytes, str | None] | str:
    """(final URL, body, content type), or a one-line error."""
    import httpx

    try:
        async with client.stream(
            "GET", url, follow_redirects=True, headers={"Accept": ACCEPT}
        ) as response:
            if response.status_code >= 400:
                return f"{url}: HTTP {response.status_code}"
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    return f"{url}: the response is larger than {max_bytes} bytes"
                chunks.append(chunk)
            return str(response.url), b"".join(chunks), response.headers.get("content-type")
    except httpx.InvalidURL:
        return f"{url}: not a valid URL"
    except httpx.TimeoutException:
        return f"{url}: timed out"
    except httpx.HTTPError as exc:
        # The same one-line reasons `engage poll` gives ("connection refused (host:port)").
        from engage.poll.fetch import classify_transport_error

        return f"{url}: {classify_transport_error(exc, httpx.URL(url))[1]}"[:300]


async def _try_feed(
    client: httpx.AsyncClient, url: str, max_bytes: int
) -> tuple[str, ParsedFeed] | str:
    fetched = await _fetch(client, url, max_bytes)
    if isinstance(fetched, str):
        return fetched
    final, body, ctype = fetched
    parsed = parse_feed(body, url=final, content_type=ctype)
    if parsed.error or parsed.is_html:
        return f"{url}: {parsed.error}"
    return final, parsed


def guess_kind(parsed: ParsedFeed, url: str) -> FeedKind:
    host = urlsplit(url).netloc.lower()
    if host.endswith("youtube.com"):
        return FeedKind.VIDEO
    with_audio = sum(
        1
        for entry in parsed.entries
        if entry.enclosure and (entry.enclosure.type or "").startswith(("audio/", "video/"))
    )
    if parsed.entries and with_audio * 2 >= len(parsed.entries):
        return FeedKind.PODCAST
    return FeedKind.BLOG


async def resolve(url: str, *, client: httpx.AsyncClient, max_bytes: int) -> Resolution:
    """Find the feed behind what the user typed: a feed URL, a page, or a platform handle."""
    platform = platform_feed(url)
    first_error: str | None = None
    if platform is not None:
        tried = await _try_feed(client, platform.url, max_bytes)
        if not isinstance(tried, str):
            final, parsed = tried
            return Resolution(
                feed_url=final, kind=platform.kind, title=parsed.title, site_url=parsed.link,
                parsed=parsed,
            )  # fmt: skip
        first_error = tried
        if "://" not in url:
            return Resolution(feed_url=None, error=f"no {platform.platform} feed: {tried}")

    page_url = url.strip() if "://" in url else "https://" + url.strip()
    fetched = await _fetch(client, page_url, max_bytes)
    if isinstance(fetched, str):
        return Resolution(feed_url=None, error=first_error or fetched)
    final, body, ctype = fetched
    parsed = parse_feed(body, url=final, content_type=ctype)
    if not parsed.is_html and parsed.error is None:
        return Resolution(
            feed_url=final, kind=guess_kind(parsed, final), title=parsed.title,
            site_url=parsed.link, parsed=parsed,
        )  # fmt: skip
    if not parsed.is_html:
        return Resolution(feed_url=None, error=f"{page_url}: {parsed.error}")

    candidates = tuple(discover_feed_links(body, final))
    comments = next((c.url for c in candidates if c.is_comments), None)
    errors: list[str] = []
    for candidate in [c for c in candidates if not c.is_comments]:
        tried = await _try_feed(client, candidate.url, max_bytes)
        if isinstance(tried, str):
            errors.append(tried)
            continue
        feed_url, feed = tried
        return Resolution(
            feed_url=feed_url, kind=guess_kind(feed, feed_url), title=feed.title or candidate.title,
            site_url=final, comments_feed=comments, parsed=feed, candidates=candidates,
        )  # fmt: skip

    youtube = youtube_feed_from_page(body) if "youtube.com" in urlsplit(final).netloc else None
    if youtube:
        tried = await _try_feed(client, youtube, max_bytes)
        if not isinstance(tried, str):
            return Resolution(
                feed_url=tried[0], kind=FeedKind.VIDEO, title=tried[1].title, site_url=final,
                parsed=tried[1], candidates=candidates,
            )  # fmt: skip
        errors.append(tried)

    for guess in well_known_feed_paths(final):
        tried = await _try_feed(client, guess, max_bytes)
        if isinstance(tried, str):
            continue
        feed_url, feed = tried
        if comments is None:
            # The feed's own <link> says where a subfolder blog lives, but only trust it on
            # the host the user gave: a mirror or export may point anywhere.
            same_host = feed.link and urlsplit(feed.link).netloc == urlsplit(final).netloc
            home = feed.link if feed.link and same_host else _site_root(final)
            hint = page_generator(body) or feed.generator
            comments = await _site_comments_feed(client, home, hint, max_bytes)
        return Resolution(
            feed_url=feed_url, kind=guess_kind(feed, feed_url), title=feed.title,
            site_url=final, comments_feed=comments, parsed=feed, candidates=candidates,
        )  # fmt: skip

    tried_paths = ", ".join(WELL_KNOWN_PATHS)
    detail = f" ({errors[0]})" if errors else ""
    return Resolution(
        feed_url=None,
        candidates=candidates,
        error=(
            f"no feed found at {page_url}: the page advertises no working feed link and none of "
            f"{tried_paths} answered with a feed{detail}"
        ),
    )


async def _site_comments_feed(
    client: httpx.AsyncClient, site_url: str, generator: str | None, max_bytes: int
) -> str | None:
    if not generator:
        return None  # only guess comment feeds for platforms known to publish them
    for candidate in site_comment_feed_candidates(site_url, generator):
        tried = await _try_feed(client, candidate, max_bytes)
        if not isinstance(tried, str):
            return tried[0]
    return None


# ---------------------------------------------------------------------------
# OPML

_DTD_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.DOTALL | re.IGNORECASE)


def read_opml(data: bytes) -> list[OpmlOutline]:
    """Feed outlines (those with an xmlUrl) with their folder path; others are folders."""
    from engage.errors import EngageError

    if b"<!ENTITY" in data:
        data = _DTD_SUBSET.sub(b"", data, count=1)
    try:
        root = ET.fromstring(data.lstrip())
    except ET.ParseError as exc:
        # Hand-edited exports break XML (a bare &, an HTML entity); their outlines are still
        # readable one tag at a time.
        loose = _read_loose(data)
        if loose:
            return loose
        raise EngageError(f"not a readable OPML file: {exc}") from exc
    body = next((child for child in root if _local(child.tag) == "body"), root)
    found: list[OpmlOutline] = []
    _walk(body, (), found)
    return found


_OUTLINE_TAG = re.compile(r"<(/?)outline\b([^>]*?)(/?)>", re.IGNORECASE)


def _read_loose(data: bytes) -> list[OpmlOutline]:
    text = data.decode("utf-8", errors="replace")
    found: list[OpmlOutline] = []
    folders: list[str | None] = []
    for match in _OUTLINE_TAG.finditer(text):
        closing, raw_attrs, self_closing = match.groups()
        if closing:
            if folders:
                folders.pop()
            continue
        attrs = _attrs(raw_attrs)
        label = (attrs.get("title") or attrs.get("text") or "").strip()
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            folder = tuple(f for f in folders if f)
            found.append(OpmlOutline(url, label or None, attrs.get("htmlurl") or None, folder))
        if not self_closing:
            folders.append(None if url else label or None)
    return found


def _walk(node: ET.Element, folder: tuple[str, ...], found: list[OpmlOutline]) -> None:
    for child in node:
        if _local(child.tag) != "outline":
            continue
        attrs = {key.lower(): value for key, value in child.attrib.items()}
        label = (attrs.get("title") or attrs.get("text") or "").strip()
        url = (attrs.get("xmlurl") or "").strip()
        if url:
            found.append(
                OpmlOutline(
                    url=url,
                    title=label or None,
                    html_url=(attrs.get("htmlurl") or "").strip() or None,
                    folder=folder,
                )
            )
        _walk(child, (*folder, label) if not url and label else folder, found)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def write_opml(watchlist: Watchlist) -> str:
    """One folder per person with feeds (me first), each feed an outline; valid, escaped XML."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = "engage watchlist"
    body = ET.SubElement(opml, "body")
    for person in watchlist.everyone():
        if not person.feeds:
            continue
        folder = ET.SubElement(body, "outline", text=person.name, title=person.name)
        site = person.sites[0] if person.sites else None
        for feed in person.feeds:
            label = feed.title or person.name
            attrs = {"type": "rss", "text": label, "title": label, "xmlUrl": feed.url}
            if site:
                attrs["htmlUrl"] = site
            ET.SubElement(folder, "outline", attrs)
    ET.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"
