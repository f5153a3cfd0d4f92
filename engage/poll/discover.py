"""Feed autodiscovery for `engage add`: one fetch of what the user typed, then at most a few
more to confirm a feed. What a page or platform URL says is read by the pure
`engage.poll.pages`; this module does the I/O around it, through the same bounded fetch as
a poll (`fetch.page_fetcher`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from engage.models import FeedKind, ParsedFeed, Settings
from engage.poll.fetch import PageFetch, page_fetcher
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


def find_feed(url: str, settings: Settings) -> Resolution:
    """`resolve` through the poll's own fetcher. Each fetch has the poll's deadline; the
    whole search (a page, the feeds it names, a few guessed paths) gets twice that."""
    limit = settings.timeout_seconds * 2

    async def run() -> Resolution:
        async with page_fetcher(settings) as fetch, asyncio.timeout(limit):
            return await resolve(url, fetch=fetch)

    try:
        return asyncio.run(run())
    except TimeoutError:
        return Resolution(feed_url=None, error=f"{url}: gave up after {limit:g} s")


async def _fetch(fetch: PageFetch, url: str) -> tuple[str, bytes, str | None] | str:
    """(final URL, body, content type), or a one-line error worded as `engage poll` words it."""
    result = await fetch(url)
    if result.error is not None:
        return f"{url}: {result.error}"[:300]
    return result.final_url or url, result.body or b"", result.content_type


async def _try_feed(fetch: PageFetch, url: str) -> tuple[str, ParsedFeed] | str:
    fetched = await _fetch(fetch, url)
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


async def resolve(url: str, *, fetch: PageFetch) -> Resolution:
    """Find the feed behind what the user typed: a feed URL, a page, or a platform handle."""
    platform = platform_feed(url)
    first_error: str | None = None
    if platform is not None:
        tried = await _try_feed(fetch, platform.url)
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
    fetched = await _fetch(fetch, page_url)
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
        tried = await _try_feed(fetch, candidate.url)
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
        tried = await _try_feed(fetch, youtube)
        if not isinstance(tried, str):
            return Resolution(
                feed_url=tried[0], kind=FeedKind.VIDEO, title=tried[1].title, site_url=final,
                parsed=tried[1], candidates=candidates,
            )  # fmt: skip
        errors.append(tried)

    for guess in well_known_feed_paths(final):
        tried = await _try_feed(fetch, guess)
        if isinstance(tried, str):
            continue
        feed_url, feed = tried
        if comments is None:
            # The feed's own <link> says where a subfolder blog lives, but only trust it on
            # the host the user gave: a mirror or export may point anywhere.
            same_host = feed.link and urlsplit(feed.link).netloc == urlsplit(final).netloc
            home = feed.link if feed.link and same_host else site_root(final)
            hint = page_generator(body) or feed.generator
            comments = await _site_comments_feed(fetch, home, hint)
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
    fetch: PageFetch, site_url: str, generator: str | None
) -> str | None:
    if not generator:
        return None  # only guess comment feeds for platforms known to publish them
    for candidate in site_comment_feed_candidates(site_url, generator):
        tried = await _try_feed(fetch, candidate)
        if not isinstance(tried, str):
            return tried[0]
    return None
