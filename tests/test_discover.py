"""Feed discovery: pages in ../shared/feeds/discovery, platform helpers, resolve() over HTTP."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FEEDS
from feedserver import Handler, Server, drip, peak_memory_during
from pytest_httpserver import HTTPServer

from engage.cli import main
from engage.models import FeedKind, Settings
from engage.poll.discover import Resolution, resolve
from engage.poll.fetch import make_client, page_fetcher, user_agent
from engage.poll.pages import (
    DiscoveredFeed,
    PlatformFeed,
    discover_feed_links,
    platform_feed,
    site_comment_feed_candidates,
    well_known_feed_paths,
    youtube_feed_from_page,
)

RSS = "application/rss+xml"
ATOM = "application/atom+xml"


def page(name: str) -> bytes:
    return (FEEDS / "discovery" / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "page_url", "expected"),
    [
        ("whizzy_home.html", "https://whizzy.org/", [
            DiscoveredFeed("https://whizzy.org/feed/", RSS, "whizzy.org » Feed"),
            DiscoveredFeed("https://whizzy.org/comments/feed/", RSS,
                           "whizzy.org » Comments Feed", is_comments=True),
        ]),
        ("whizzy_post_cisco.html", "https://whizzy.org/2017/02/23/cisco-7941-asterisk-and-sip/", [
            DiscoveredFeed("https://whizzy.org/feed/", RSS, "whizzy.org » Feed"),
            DiscoveredFeed("https://whizzy.org/comments/feed/", RSS,
                           "whizzy.org » Comments Feed", is_comments=True),
            DiscoveredFeed("https://whizzy.org/2017/02/23/cisco-7941-asterisk-and-sip/feed/", RSS,
                           "whizzy.org » Cisco 7941, Asterisk and SIP Comments Feed",
                           is_comments=True),
            # the wp-json (application/json) and oEmbed alternates are not feeds
        ]),
        ("blogger_jorge_home.html", "http://jorgeelconstructor.blogspot.com/", [
            DiscoveredFeed("http://jorgeelconstructor.blogspot.com/feeds/posts/default", ATOM,
                           "Jorge El Constructor - Atom"),
            DiscoveredFeed("http://jorgeelconstructor.blogspot.com/feeds/posts/default%3Falt=rss",
                           RSS, "Jorge El Constructor - RSS"),
        ]),
        ("daringfireball.html", "https://daringfireball.net/", [
            DiscoveredFeed("https://daringfireball.net/feeds/main", ATOM, None),
        ]),
        ("nixos.html", "https://nixos.org/", [
            DiscoveredFeed("https://nixos.org/news-rss.xml", RSS, "RSS"),
        ]),
        ("youtube_channel_page.html", "https://www.youtube.com/@volvorocks", [
            DiscoveredFeed(
                "https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jcWRY6dhXWMSq9LQ",
                RSS, "RSS"),
        ]),
    ],
    ids=["wordpress-home", "wordpress-post", "blogger-home", "daringfireball", "nixos", "youtube"],
)  # fmt: skip
def test_discovery_pages(name: str, page_url: str, expected: list[DiscoveredFeed]) -> None:
    assert discover_feed_links(page(name), page_url) == expected


def test_base_href_wins_over_the_page_url_and_odd_markup_is_tolerated() -> None:
    html = (
        "<HTML><HEAD><BASE HREF='https://cdn.example/blog/'>"
        "<LINK REL='Alternate feed' TYPE='application/atom+xml; charset=utf-8' HREF=atom.xml>"
        '<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/1">'
        '<link rel="alternate" type="application/feed+json" href="feed.json" title="JSON">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
        '<link rel="stylesheet" type="application/rss+xml" href="not-alternate.xml">'
    )
    found = discover_feed_links(html, "https://www.example/")
    assert [f.url for f in found] == [
        "https://cdn.example/blog/atom.xml",
        "https://cdn.example/blog/feed.json",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice@mastodon.social",
         PlatformFeed("https://mastodon.social/@alice.rss", FeedKind.SOCIAL, "mastodon")),
        ("https://hachyderm.io/@bob",
         PlatformFeed("https://hachyderm.io/@bob.rss", FeedKind.SOCIAL, "mastodon")),
        ("https://bsky.app/profile/carol.bsky.social",
         PlatformFeed("https://bsky.app/profile/carol.bsky.social/rss", FeedKind.SOCIAL,
                      "bluesky")),
        ("https://bsky.app/profile/carol.bsky.social/post/3lf2abc",
         PlatformFeed("https://bsky.app/profile/carol.bsky.social/rss", FeedKind.SOCIAL,
                      "bluesky")),
        ("https://www.youtube.com/channel/UCct7QF2jcWRY6dhXWMSq9LQ",
         PlatformFeed(
             "https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jcWRY6dhXWMSq9LQ",
             FeedKind.VIDEO, "youtube")),
        ("https://www.youtube.com/@volvorocks", None),  # the page is needed for the id
        ("https://forum.example/t/how-to-ask/1234",
         PlatformFeed("https://forum.example/t/how-to-ask/1234.rss", FeedKind.FORUM,
                      "discourse")),
        ("https://forum.example/t/how-to-ask/1234/17?u=x",
         PlatformFeed("https://forum.example/t/how-to-ask/1234.rss", FeedKind.FORUM,
                      "discourse")),
        ("https://forum.example/u/dana/summary",
         PlatformFeed("https://forum.example/u/dana/activity.rss", FeedKind.FORUM, "discourse")),
        ("https://medium.com/@erin",
         PlatformFeed("https://medium.com/feed/@erin", FeedKind.BLOG, "medium")),
        ("erin@example.com", None),  # an e-mail address is not a Mastodon handle
        ("https://blog.example/2024/01/post", None),
        ("not a url", None),
    ],
    ids=["mastodon-handle", "mastodon-profile-url", "bluesky-profile", "bluesky-post",
         "youtube-channel-id", "youtube-handle-needs-page", "discourse-topic",
         "discourse-topic-post", "discourse-user", "medium-profile", "email", "plain-blog",
         "garbage"],
)  # fmt: skip
def test_platform_feed(text: str, expected: PlatformFeed | None) -> None:
    assert platform_feed(text) == expected


def test_youtube_feed_from_the_channel_page_and_from_meta_only() -> None:
    feed = "https://www.youtube.com/feeds/videos.xml?channel_id=UCct7QF2jcWRY6dhXWMSq9LQ"
    assert youtube_feed_from_page(page("youtube_channel_page.html")) == feed
    meta_only = '<meta itemprop="channelId" content="UCct7QF2jcWRY6dhXWMSq9LQ">'
    assert youtube_feed_from_page(meta_only) == feed
    assert youtube_feed_from_page("<html>no channel here</html>") is None


def test_well_known_paths_and_site_comment_feeds() -> None:
    assert well_known_feed_paths("https://blog.example/about/") == [
        "https://blog.example/feed",
        "https://blog.example/rss.xml",
        "https://blog.example/atom.xml",
        "https://blog.example/index.xml",
        "https://blog.example/feed.xml",
    ]
    wp = site_comment_feed_candidates("https://ex.org/blog", "https://wordpress.org/?v=6.4")
    assert wp == ["https://ex.org/blog/comments/feed/"]
    blogger = site_comment_feed_candidates("http://jorge.blogspot.com/", "Blogger")
    assert blogger == ["http://jorge.blogspot.com/feeds/comments/default"]
    assert site_comment_feed_candidates("https://ex.org/", None) == [
        "https://ex.org/comments/feed/",
        "https://ex.org/feeds/comments/default",
    ]
    assert site_comment_feed_candidates("https://ex.org/", "Hugo -- gohugo.io") == []


# ---------------------------------------------------------------------------
# resolve() against a real local HTTP server


SETTINGS = Settings(contact_url="https://example.org/engage-tests", timeout_seconds=5)


def run_resolve(url: str) -> Resolution:
    async def go() -> Resolution:
        async with page_fetcher(SETTINGS) as fetch:
            return await resolve(url, fetch=fetch)

    return asyncio.run(go())


def serve(server: HTTPServer, path: str, relative: str, content_type: str) -> None:
    server.expect_request(path).respond_with_data(
        (FEEDS / relative).read_bytes(), content_type=content_type
    )


def test_resolve_a_feed_url_returns_the_parsed_body(httpserver: HTTPServer) -> None:
    serve(httpserver, "/feed/", "blogs/wp_whizzy_feed.xml", "application/rss+xml")
    result = run_resolve(httpserver.url_for("/feed/"))
    assert result.error is None
    assert result.feed_url == httpserver.url_for("/feed/")
    assert result.kind == FeedKind.BLOG and result.title == "whizzy.org"
    assert result.parsed is not None and len(result.parsed.entries) == 50
    assert len(httpserver.log) == 1  # fetched once


def test_resolve_a_page_picks_the_posts_feed_and_offers_comments(httpserver: HTTPServer) -> None:
    serve(httpserver, "/", "discovery/whizzy_home.html", "text/html; charset=utf-8")
    serve(httpserver, "/feed/", "blogs/wp_whizzy_feed.xml", "application/rss+xml")
    result = run_resolve(httpserver.url_for("/"))
    assert result.error is None
    assert result.feed_url == httpserver.url_for("/feed/")
    assert result.comments_feed == httpserver.url_for("/comments/feed/")
    assert result.parsed is not None and result.parsed.title == "whizzy.org"
    assert [c.url for c in result.candidates] == [
        httpserver.url_for("/feed/"),
        httpserver.url_for("/comments/feed/"),
    ]


def test_resolve_a_podcast_feed_guesses_the_kind(httpserver: HTTPServer) -> None:
    serve(httpserver, "/podcast.rss", "podcasts/prx_itunes_feedburner.xml", "text/xml")
    result = run_resolve(httpserver.url_for("/podcast.rss"))
    assert result.kind == FeedKind.PODCAST and result.title == "Welcome to Night Vale"


def test_resolve_falls_back_to_well_known_paths(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data(
        "<!doctype html><html><head><title>No links</title>"
        '<meta name="generator" content="WordPress 6.5"></head><body></body></html>',
        content_type="text/html",
    )
    httpserver.expect_request("/feed").respond_with_data("missing", status=404)
    serve(httpserver, "/rss.xml", "blogs/hugo_cowboyprogrammer.rss", "application/rss+xml")
    serve(httpserver, "/comments/feed/", "comments/wp_whizzy_comments.xml", "text/xml")
    result = run_resolve(httpserver.url_for("/"))
    assert result.error is None
    assert result.feed_url == httpserver.url_for("/rss.xml")
    assert result.title == "Cowboy Programmer"
    # The page says WordPress: its site-wide comment feed is tried on the same host only.
    assert result.comments_feed == httpserver.url_for("/comments/feed/")
    assert {request.host for request, _ in httpserver.log} == {
        f"{httpserver.host}:{httpserver.port}"
    }


def test_resolve_a_discourse_topic_as_a_forum_feed(httpserver: HTTPServer) -> None:
    serve(httpserver, "/t/welcome/42.rss", "comments/disqus_swcarpentry.rss", "application/rss+xml")
    result = run_resolve(httpserver.url_for("/t/welcome/42/3"))
    assert result.error is None
    assert result.feed_url == httpserver.url_for("/t/welcome/42.rss")
    assert result.kind == FeedKind.FORUM


def test_resolve_a_mastodon_profile_url(httpserver: HTTPServer) -> None:
    serve(httpserver, "/@lissy93.rss", "social/mastodon_lissy93_2024-03.rss", "application/rss+xml")
    result = run_resolve(httpserver.url_for("/@lissy93"))
    assert result.kind == FeedKind.SOCIAL and result.feed_url == httpserver.url_for("/@lissy93.rss")
    assert result.parsed is not None and len(result.parsed.entries) == 4


def test_resolve_nothing_found_is_a_clear_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data(
        "<html><head></head><body>just a page</body></html>", content_type="text/html"
    )
    result = run_resolve(httpserver.url_for("/"))
    assert result.feed_url is None and result.error is not None
    assert result.error.startswith(f"no feed found at {httpserver.url_for('/')}")
    assert "/feed, /rss.xml, /atom.xml, /index.xml, /feed.xml" in result.error


def test_resolve_unreachable_host_is_an_error_value() -> None:
    result = run_resolve("http://127.0.0.1:9/feed")  # the discard port: refused
    assert result.feed_url is None and result.error is not None
    assert "127.0.0.1:9" in result.error
    assert "connection refused (127.0.0.1:9)" in result.error  # as `engage poll` says it


# ---------------------------------------------------------------------------
# `engage add` fetches as a poll does: deadline, decoded-size cap, User-Agent

ADD_WATCHLIST = """\
me:
  name: Sam Rivera
people:
  - name: Dana Reyes
settings:
  timeout_seconds: 2
  max_body_mb: 1
  contact_url: https://sam.example.net/engage
"""
MIB = 1024 * 1024


def engage_add(tmp_path: Path, url: str) -> tuple[int, str]:
    """`engage add URL --person 'Dana Reyes'` in this process; (exit code, stderr)."""
    config = tmp_path / "feeds.yaml"
    if not config.exists():
        config.write_text(ADD_WATCHLIST, encoding="utf-8")
    try:
        main(["add", url, "--person", "Dana Reyes", "--config", str(config)])
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else 1), ""
    return 0, ""


def gzip_bomb(size: int) -> Callable[[Handler], None]:
    body = gzip.compress(bytes(size))

    def route(handler: Handler) -> None:
        handler.respond(200, body, {"Content-Type": "text/html", "Content-Encoding": "gzip"})

    return route


def test_add_stops_a_gzip_bomb_at_the_cap_with_bounded_memory(
    tmp_path: Path, serve: Callable[[str], Server], capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve("127.0.0.1")
    server.routes["/"] = gzip_bomb(100 * MIB)  # 100 KB on the wire
    engage_add(tmp_path, server.url("/"))  # once, so imports are not counted below
    capsys.readouterr()
    (code, _), peak = peak_memory_during(lambda: engage_add(tmp_path, server.url("/")))
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"{server.url('/')}: body larger than 1 MiB"
    # httpx's own decoder inflated one 64 KiB network chunk into 64 MiB in one call.
    assert peak < 8 * MIB, peak
    assert (tmp_path / "feeds.yaml").read_text(encoding="utf-8") == ADD_WATCHLIST  # unchanged


def test_add_gives_up_on_a_drip_at_the_polls_deadline(
    tmp_path: Path, serve: Callable[[str], Server], capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve("127.0.0.1")
    server.routes["/feed"] = drip  # a byte every 0.2 s: never a read timeout
    code, _ = engage_add(tmp_path, server.url("/feed"))
    assert code == 2
    assert capsys.readouterr().err.strip() == f"{server.url('/feed')}: timed out after 2 s"


def test_add_sends_the_polls_headers(tmp_path: Path, serve: Callable[[str], Server]) -> None:
    server = serve("127.0.0.1")
    rss = (FEEDS / "blogs" / "wp_whizzy_feed.xml").read_bytes()
    server.routes["/feed/"] = lambda h: h.respond(200, rss, {"Content-Type": RSS})
    assert engage_add(tmp_path, server.url("/feed/"))[0] == 0
    settings = Settings(contact_url="https://sam.example.net/engage")
    polls = make_client(settings).headers
    (request,) = server.seen
    assert request.headers["User-Agent"] == user_agent(settings) == polls["User-Agent"]
    assert request.headers["Accept-Encoding"] == polls["Accept-Encoding"] == "gzip, deflate"
    assert request.headers["Accept"] == polls["Accept"]
