"""Feed autodiscovery for `engage add`: one fetch of what the user typed, then at most a few
more to confirm a feed. What a page or platform URL says is read by the pure
`engage.poll.pages`; this module does the I/O around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from engage.models import FeedKind, ParsedFeed
from engage.poll.pages import (
    WELL_KNOWN_PATHS,
    DiscoveredFeed,
    discover_feed_links,
    page_generator,
    platform_feed,
    site_comment_feed_candidates,
    well_known_feed_paths,
    youtube_feed_from_page,
)
from engage.poll.parse import parse_feed
from engage.urls import site_root

if TYPE_CHECKING:
    import httpx


ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


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
            home = feed.link if feed.link and same_host else site_root(final)
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
