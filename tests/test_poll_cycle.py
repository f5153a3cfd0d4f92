"""The poll cycle end to end: real HTTP from a local server, the real store, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FEEDS, ROBUSTNESS
from feedserver import StaticServer
from pytest_httpserver import HTTPServer

from engage.config import load
from engage.models import EventKind, FeedStatus
from engage.poll.cycle import run_cycle
from engage.store import Store


def engage(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engage", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


def kind_of(path: Path) -> str:
    folder = path.parent.name
    return {"comments": "comments", "podcasts": "podcast", "social": "social"}.get(folder, "blog")


def write_watchlist(folder: Path, feeds: list[tuple[str, str]], people: int = 1) -> Path:
    """A watchlist whose feeds are spread over `people` people (round robin)."""
    lines = ["me:", "  name: Test Me", "  sites: [https://me.example.net/]", "people:"]
    per_person: list[list[tuple[str, str]]] = [[] for _ in range(people)]
    for i, feed in enumerate(feeds):
        per_person[i % people].append(feed)
    for n, chunk in enumerate(per_person):
        lines += [f"  - name: Person {n:04d}", "    feeds:"]
        lines += [f"      - {{url: '{url}', kind: {kind}}}" for url, kind in chunk]
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_real_feed_polls_without_an_exception(tmp_path: Path) -> None:
    files = sorted(p for p in FEEDS.rglob("*") if p.is_file() and p.suffix not in {".tsv", ".md"})
    assert len(files) >= 60
    with StaticServer(FEEDS) as server:
        feeds = [(server.url(p.relative_to(FEEDS).as_posix()), kind_of(p)) for p in files]
        config = write_watchlist(tmp_path, feeds, people=8)
        done = engage("poll", "--all", "--config", str(config), "--data", str(tmp_path / "d"))
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        assert f"{len(files)} feeds polled" in done.stdout
        listed = json.loads(
            engage("feeds", "--json", "--config", str(config), "--data", str(tmp_path / "d")).stdout
        )
    by_path = {f["url"].split("/", 3)[3]: f for f in listed}
    for path, feed in by_path.items():
        assert feed["status"] in {"ok", "error"}, (path, feed)
        if feed["status"] == "error":
            assert feed["last_error"], path
    # Real feeds parse; the HTML pages and OPML files are reported, not crashed on.
    for good in (
        "blogs/wp_whizzy_feed.xml",
        "podcasts/atp.rss",
        "social/youtube_lissy93.atom",
        "blogs/daringfireball.json",
        "blogs/jsonfeed_cowboyprogrammer.json",
    ):
        assert by_path[good]["status"] == "ok", by_path[good]
    page = by_path["discovery/daringfireball.html"]
    assert page["status"] == "error"
    assert "web page" in page["last_error"]
    store = Store(tmp_path / "d")
    counts: dict[str, int] = {}
    for post in store.posts():
        counts[post.feed.split("/", 3)[3]] = counts.get(post.feed.split("/", 3)[3], 0) + 1
    # JSON Feed files have their real item counts (MANIFEST notes: 48 and 10).
    assert counts["blogs/daringfireball.json"] == 48
    assert counts["blogs/jsonfeed_cowboyprogrammer.json"] == 10
    assert counts["podcasts/giantbomb_podcast_large.rss"] == 730
    assert counts["blogs/wp_whizzy_feed.xml"] == 50


@pytest.mark.slow
def test_every_robustness_feed_ends_as_posts_or_a_recorded_error(tmp_path: Path) -> None:
    files = sorted(p for p in ROBUSTNESS.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) > 1300
    with StaticServer(ROBUSTNESS) as server:
        feeds = [(server.url(p.relative_to(ROBUSTNESS).as_posix()), "blog") for p in files]
        config = write_watchlist(tmp_path, feeds, people=40)
        done = engage("poll", "--all", "--config", str(config), "--data", str(tmp_path / "d"))
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
    store = Store(tmp_path / "d")
    states = {s.url: s for s in store.feeds()}
    with_posts = {p.feed for p in store.posts()}
    assert len(states) == len(files)
    for url, state in states.items():
        assert state.status in {FeedStatus.OK, FeedStatus.ERROR}, url
        assert url in with_posts or state.status == FeedStatus.ERROR or state.last_success, url
        if state.status == FeedStatus.ERROR:
            assert state.last_error, url
    # A second poll of the same files is all "not modified" or unchanged: nothing is lost.
    before = len(store.posts())
    with StaticServer(ROBUSTNESS, port=server.port) as _:
        again = engage("poll", "--all", "--config", str(config), "--data", str(tmp_path / "d"))
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(Store(tmp_path / "d").posts()) == before


WHIZZY = {
    "/feed/": "blogs/wp_whizzy_feed.xml",
    "/comments/feed/": "comments/wp_whizzy_comments.xml",
    "/2021/01/02/double-helping-of-pi-hole/feed/": "comments/wp_whizzy_post_pihole_comments.xml",
    "/2017/02/23/cisco-7941-asterisk-and-sip/feed/": "comments/wp_whizzy_post_cisco_comments.xml",
}


def serve_whizzy(httpserver: HTTPServer) -> str:
    for path, name in WHIZZY.items():
        httpserver.expect_request(path).respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/rss+xml; charset=UTF-8"
        )
    return httpserver.url_for("/").rstrip("/")


def whizzy_watchlist(folder: Path, site: str) -> Path:
    path = folder / "feeds.yaml"
    path.write_text(
        f"""me:
  name: Marian
  sites: [https://marian.example.net/]
people:
  - name: Will Cooke
    aliases: [will]
    sites: ['{site}/']
    feeds: ['{site}/feed/']
""",
        encoding="utf-8",
    )
    return path


def test_whizzy_thread_is_found_over_http(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Marian commented on "Double helping of Pi Hole" (comment 3920, 26 Jan 2021) and the
    author, as `will`, answered "In reply to Marian" (comment 4016, 29 Jan 2021): read off
    comments/wp_whizzy_post_pihole_comments.xml."""
    site = serve_whizzy(httpserver)
    watchlist = load(whizzy_watchlist(tmp_path, site))
    store = Store(tmp_path / "data")
    now = datetime(2021, 2, 1, 12, 0, tzinfo=UTC)

    summary = run_cycle(watchlist, store, now=now, everything=True)

    polled = {o.url for o in summary.outcomes}
    # The blog, the site-wide comment feed found from the WordPress generator, and the
    # per-post comment feed of the thread Marian took part in (still live on 1 Feb 2021).
    assert polled == {
        f"{site}/feed/",
        f"{site}/comments/feed/",
        f"{site}/2021/01/02/double-helping-of-pi-hole/feed/",
    }
    events = store.events()
    found = sorted((e.kind, e.when, e.url) for e in events)
    pihole = f"{site}/2021/01/02/double-helping-of-pi-hole/"
    my_comment = datetime(2021, 1, 26, 7, 17, 8, tzinfo=UTC)
    their_reply = datetime(2021, 1, 29, 16, 56, 7, tzinfo=UTC)
    assert found == [
        (EventKind.MY_COMMENT, my_comment, pihole + "#comment-3920"),
        (EventKind.THEIR_REPLY, their_reply, pihole + "#comment-4016"),
    ]
    assert all(e.person == "Will Cooke" for e in events)

    # Re-polling finds the same events again and creates no duplicates.
    again = run_cycle(watchlist, store, now=now, everything=True)
    assert again.new_events == 0
    assert len(store.events()) == 2


def test_quiet_threads_are_not_followed(httpserver: HTTPServer, tmp_path: Path) -> None:
    site = serve_whizzy(httpserver)
    watchlist = load(whizzy_watchlist(tmp_path, site))
    store = Store(tmp_path / "data")
    later = datetime(2026, 11, 25, tzinfo=UTC)
    summary = run_cycle(watchlist, store, now=later, everything=True)
    polled = {o.url for o in summary.outcomes}
    assert f"{site}/2021/01/02/double-helping-of-pi-hole/feed/" not in polled
    # The events are still found from the site-wide comment feed.
    assert {e.kind for e in store.events()} == {EventKind.MY_COMMENT, EventKind.THEIR_REPLY}


def test_one_dead_feed_does_not_stop_the_others(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/ok.xml").respond_with_data(
        (FEEDS / "blogs/ghost_drop.xml").read_bytes(), content_type="application/rss+xml"
    )
    httpserver.expect_request("/broken.xml").respond_with_data("oops", status=500)
    config = write_watchlist(
        tmp_path,
        [
            (httpserver.url_for("/ok.xml"), "blog"),
            (httpserver.url_for("/broken.xml"), "blog"),
            ("http://127.0.0.1:9/refused.xml", "blog"),
        ],
    )
    done = engage("poll", "--config", str(config), "--data", str(tmp_path / "d"), "-v")
    assert done.returncode == 0, done.stderr
    assert "3 feeds polled: 1 new posts" in done.stdout
    assert "2 errors" in done.stdout
    listed = {
        f["url"]: f
        for f in json.loads(
            engage("feeds", "--json", "--config", str(config), "--data", str(tmp_path / "d")).stdout
        )
    }
    assert listed[httpserver.url_for("/ok.xml")]["status"] == "ok"
    assert listed[httpserver.url_for("/broken.xml")]["failures"] == 1
    assert "500" in listed[httpserver.url_for("/broken.xml")]["last_error"]
    assert listed["http://127.0.0.1:9/refused.xml"]["last_error_type"] == "connection"
    # Nothing is due again right away: a second poll polls nothing.
    second = engage("poll", "--config", str(config), "--data", str(tmp_path / "d"))
    assert "0 feeds polled" in second.stdout


def test_posts_json_is_the_documented_shape(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        (FEEDS / "podcasts/prx_itunes_feedburner.xml").read_bytes(),
        content_type="application/rss+xml",
    )
    config = write_watchlist(tmp_path, [(httpserver.url_for("/feed.xml"), "podcast")])
    assert engage("poll", "--config", str(config), "--data", str(tmp_path / "d")).returncode == 0
    posts = json.loads(
        engage("posts", "--json", "--config", str(config), "--data", str(tmp_path / "d")).stdout
    )
    assert len(posts) == 3
    for post in posts:
        assert {"person", "feed", "id", "link", "title", "published"} <= post.keys()
        assert post["person"] == "Person 0000"
        assert datetime.fromisoformat(post["published"]).utcoffset() is not None
        assert post["enclosure"]["url"].startswith("http")
