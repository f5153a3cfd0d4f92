"""What a web page or a known platform URL says about feeds: autodiscovery links, the
generator, YouTube channel ids, and the feed a platform publishes for a profile, channel or
thread. Pure: text in, values out, no I/O (`engage add` does the fetching in discover).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from engage.clean import clean_title, clean_url
from engage.models import FeedKind
from engage.urls import site_root

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


def tag_attributes(text: str) -> dict[str, str]:
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
    return [(m.group(1).lower(), tag_attributes(m.group(2))) for m in _TAG.finditer(text)]


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
        url = clean_url(urljoin(base, href))
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = clean_title(attrs.get("title", "")) or None
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
    root = site_root(site_url)
    return [root + path for path in WELL_KNOWN_PATHS]


def site_comment_feed_candidates(site_url: str, generator_hint: str | None) -> list[str]:
    """Site-wide comment feeds by platform. Only WordPress and Blogger publish one at a known
    path; with no hint both are worth one try, with another platform's hint none is."""
    parts = urlsplit(site_url if "://" in site_url else "https://" + site_url)
    home = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))
    wordpress = home + "comments/feed/"  # WordPress may live in a subfolder: keep the path
    blogger = site_root(site_url) + "/feeds/comments/default"
    hint = (generator_hint or "").lower()
    host = parts.netloc.lower()
    if "wordpress" in hint or host.endswith(".wordpress.com"):
        return [wordpress]
    if "blogger" in hint or host.endswith(".blogspot.com"):
        return [blogger]
    return [wordpress, blogger] if not hint else []


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
