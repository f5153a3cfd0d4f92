"""The poll cycle end to end: real HTTP from a local server, the real store, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from conftest import FEEDS, ROBUSTNESS
from feedserver import Handler, Route, Server, StaticServer
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from engage.config import load
from engage.models import EventKind, FeedStatus, LatestPost
from engage.poll.cycle import run_cycle
from engage.store import JOINED_THREADS, LATEST_POSTS, Store, latest_posts_of


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
    # Will's newest post (the feed's first item), kept for the next step's wording.
    assert latest_posts_of(store.get_meta(LATEST_POSTS)) == {
        "Will Cooke": LatestPost(
            "Finally moving to a static site",
            f"{site}/2021/07/14/finally-moving-to-a-static-site/",
            datetime(2021, 7, 14, 13, 46, 20, tzinfo=UTC),
        )
    }

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


def serve_whizzy_with_etags(httpserver: HTTPServer) -> str:
    """The whizzy site, answering 304 to a request that sends back the ETag it was given."""

    def route(name: str) -> Callable[[Request], Response]:
        body = (FEEDS / name).read_bytes()

        def respond(request: Request) -> Response:
            if request.headers.get("If-None-Match") == '"v1"':
                return Response(status=304, headers={"ETag": '"v1"'})
            headers = {"ETag": '"v1"', "Content-Type": "application/rss+xml; charset=UTF-8"}
            return Response(body, headers=headers)

        return respond

    for path, name in WHIZZY.items():
        httpserver.expect_request(path).respond_with_handler(route(name))
    return httpserver.url_for("/").rstrip("/")


def test_the_threads_i_joined_are_kept_and_redone_when_identities_change(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """The poll keeps the threads I joined in engage.json, so a poll where every feed says
    304 need not read every stored comment. The list is redone when the identities it was
    worked out with change: here, the watchlist learns that Marian is me, and the very
    next poll, where nothing new arrives, follows the thread Marian joined."""
    site = serve_whizzy_with_etags(httpserver)
    pihole = f"{site}/2021/01/02/double-helping-of-pi-hole/"
    config = whizzy_watchlist(tmp_path, site)
    config.write_text(config.read_text().replace("name: Marian", "name: Someone New"))
    store = Store(tmp_path / "data")
    now = datetime(2021, 2, 1, 12, 0, tzinfo=UTC)

    first = run_cycle(load(config), store, now=now, everything=True)
    assert f"{pihole}feed/" not in {o.url for o in first.outcomes}
    kept = store.get_meta(JOINED_THREADS)
    assert kept["threads"] == {}

    config.write_text(config.read_text().replace("name: Someone New", "name: Marian"))
    second = run_cycle(load(config), store, now=now, everything=True)
    statuses = {o.url: o.status for o in second.outcomes}
    assert statuses[f"{site}/feed/"] == FeedStatus.NOT_MODIFIED
    assert statuses[f"{site}/comments/feed/"] == FeedStatus.NOT_MODIFIED
    assert statuses[f"{pihole}feed/"] == FeedStatus.OK  # followed though nothing arrived
    renewed = store.get_meta(JOINED_THREADS)
    assert renewed["identities"] != kept["identities"]
    # Will's answer of 29 Jan 2021 is the thread's latest comment.
    assert renewed["threads"] == {pihole: "2021-01-29T16:56:07+00:00"}

    # With the list current, an all-304 poll keeps following the thread.
    third = run_cycle(load(config), store, now=now, everything=True)
    assert {o.status for o in third.outcomes} == {FeedStatus.NOT_MODIFIED}
    assert f"{pihole}feed/" in {o.url for o in third.outcomes}
    assert store.get_meta(JOINED_THREADS) == renewed


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


JORGE = {
    "/feeds/posts/default": "blogs/blogger_jorge_posts.atom",
    "/feeds/3425845675518558571/comments/default": "comments/blogger_jorge_post_comments.atom",
}
BLOGGER_POST = "http://jorgeelconstructor.blogspot.com/2012/04/timanfaya.html"
ELO_COMMENT = (
    "http://jorgeelconstructor.blogspot.com/2010/07/bienvendos.html"
    "?showComment=1280163194975#c299669490729056197"
)


def test_blogger_reply_by_thr_in_reply_to_over_http(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Elo commented on "Bienvenidos" (26 Jul 2010 18:53:14 +02:00). In a variant of the
    author's only comment (on "timanfaya", 14 Apr 2012 11:45:22 +02:00), thr:in-reply-to
    is pointed at Elo's comment, the way Blogger marks a threaded reply."""
    for path, name in JORGE.items():
        httpserver.expect_request(path).respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/atom+xml"
        )
    original = (FEEDS / "comments/blogger_jorge_post_author_comment.atom").read_bytes()
    to_post = (
        f"href='{BLOGGER_POST}' "
        "ref='tag:blogger.com,1999:blog-1610088654917055211.post-7165469458931648639'"
    ).encode()
    to_elo = (
        f"href='{ELO_COMMENT}' "
        "ref='tag:blogger.com,1999:blog-1610088654917055211.post-299669490729056197'"
    ).encode()
    assert original.count(to_post) == 1
    httpserver.expect_request("/feeds/7165469458931648639/comments/default").respond_with_data(
        original.replace(to_post, to_elo), content_type="application/atom+xml"
    )
    base = httpserver.url_for("/").rstrip("/")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""me:
  name: Elo
people:
  - name: Jorge el constructor
    sites: ['http://jorgeelconstructor.blogspot.com/']
    feeds:
      - {base}/feeds/posts/default
      - {{url: '{base}/feeds/3425845675518558571/comments/default', kind: comments}}
      - {{url: '{base}/feeds/7165469458931648639/comments/default', kind: comments}}
""",
        encoding="utf-8",
    )
    done = engage("poll", "--config", str(config), "--data", str(tmp_path / "d"))
    assert done.returncode == 0, done.stderr
    assert "2 new interactions" in done.stdout
    events = json.loads(
        engage("events", "--json", "--config", str(config), "--data", str(tmp_path / "d")).stdout
    )
    assert [(e["kind"], e["when"], e["url"], e["source"]) for e in events] == [
        ("my_comment", "2010-07-26T16:53:14+00:00", ELO_COMMENT, "auto"),
        (
            "their_reply",
            "2012-04-14T09:45:22+00:00",
            f"{BLOGGER_POST}?showComment=1334396722645#c31160019627132817",
            "auto",
        ),
    ]


def test_permanent_move_is_proposed_then_applied(httpserver: HTTPServer, tmp_path: Path) -> None:
    body = (FEEDS / "blogs/ghost_drop.xml").read_bytes()
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new.xml")}
    )
    httpserver.expect_request("/new.xml").respond_with_data(
        body, content_type="application/rss+xml"
    )
    old, new = httpserver.url_for("/old.xml"), httpserver.url_for("/new.xml")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"me:\n  name: Test Me\npeople:\n  - name: Dana\n    feeds:\n"
        f"      - {old}   # Dana's blog: keep this comment\n",
        encoding="utf-8",
    )
    args = ("--config", str(config), "--data", str(tmp_path / "d"))
    polled = engage("poll", *args)
    assert polled.returncode == 0, polled.stderr
    assert f"moved: {old} -> {new}" in polled.stdout
    listed = json.loads(engage("feeds", "--json", *args).stdout)
    assert [(f["url"], f["moved_to"]) for f in listed] == [(old, new)]
    assert config.read_text().count(old) == 1  # never rewritten without being asked

    applied = engage("feeds", "--apply-moves", *args)
    assert applied.returncode == 0, applied.stderr
    assert config.read_text(encoding="utf-8").endswith(
        f"      - {new}   # Dana's blog: keep this comment\n"
    )
    listed = json.loads(engage("feeds", "--json", *args).stdout)
    assert [(f["url"], f["moved_to"], f["status"]) for f in listed] == [(new, None, "ok")]


def test_the_progress_bar_counts_every_round(httpserver: HTTPServer, tmp_path: Path) -> None:
    """On a terminal the bar's total grows when comment feeds are found on the way."""
    site = serve_whizzy(httpserver)
    config = whizzy_watchlist(tmp_path, site)
    command = (
        f"{sys.executable} -m engage poll --all --config {config} --data {tmp_path / 'd'}"
    )
    done = subprocess.run(
        ["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 feeds polled" in done.stdout  # blog + discovered site-wide comment feed
    assert "2/2" in done.stdout and "2/1" not in done.stdout
    assert "Traceback" not in done.stdout


def test_entity_bomb_over_http_is_not_expanded(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Nested entities (a billion-laughs shape, ~100 KiB) must not expand: feedparser's
    loose fallback took 36 s and 2.9 GB on such a feed (measured)."""
    levels = "".join(
        f'<!ENTITY e{n} "{("&e" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    )
    items = "".join(
        f"<item><title>t{i} &e9;</title><link>http://x.example.org/{i}</link></item>"
        for i in range(300)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e0 "lol">{levels}]>'
        f'<rss version="2.0"><channel><title>bomb</title>{items}</channel></rss>'
    ).encode()
    httpserver.expect_request("/bomb.xml").respond_with_data(
        body, content_type="application/rss+xml"
    )
    config = write_watchlist(tmp_path, [(httpserver.url_for("/bomb.xml"), "blog")])
    # engage() has a hang guard (a subprocess timeout); the expansion itself is checked below.
    done = engage("poll", "--config", str(config), "--data", str(tmp_path / "d"))
    assert done.returncode == 0, done.stderr
    listed = json.loads(
        engage("feeds", "--json", "--config", str(config), "--data", str(tmp_path / "d")).stdout
    )
    assert listed[0]["status"] in {"ok", "error"}
    for post in Store(tmp_path / "d").posts():
        assert "lol" * 10 not in post.title


# ---------------------------------------------------------------------------
# A poll you can watch: each feed's line as it finishes, the hosts still being waited for

RSS_BODY = (FEEDS / "blogs/ghost_drop.xml").read_bytes()


def held_until(release: threading.Event) -> Route:
    """A feed that answers only once the test says so."""

    def route(handler: Handler) -> None:
        release.wait(120)
        handler.respond(200, RSS_BODY, {"Content-Type": "application/rss+xml"})

    return route


def served(handler: Handler) -> None:
    handler.respond(200, RSS_BODY, {"Content-Type": "application/rss+xml"})


def read_until(stream: IO[str], wanted: str, found: threading.Event) -> list[str]:
    """Read `stream` in a thread; set `found` once `wanted` has been read."""
    seen: list[str] = []

    def reader() -> None:
        for chunk in iter(lambda: stream.read(1), ""):
            seen.append(chunk)
            if not found.is_set() and wanted in "".join(seen[-4000:]):
                found.set()

    threading.Thread(target=reader, daemon=True).start()
    return seen


def fast_and_held(
    serve: Callable[[str], Server], release: threading.Event
) -> tuple[str, str]:
    """A feed that answers at once on 127.0.0.1, one held until `release` on 127.0.0.2."""
    fast_server, slow_server = serve("127.0.0.1"), serve("127.0.0.2")
    fast_server.routes["/fast.xml"] = served
    slow_server.routes["/slow.xml"] = held_until(release)
    return fast_server.url("/fast.xml"), slow_server.url("/slow.xml")


def test_poll_v_prints_each_feed_as_it_finishes(
    serve: Callable[[str], Server], tmp_path: Path
) -> None:
    release = threading.Event()
    fast, slow = fast_and_held(serve, release)
    config = write_watchlist(tmp_path, [(slow, "blog"), (fast, "blog")])
    process = subprocess.Popen(
        [sys.executable, "-m", "engage", "poll", "-v", "--config", str(config),
         "--data", str(tmp_path / "d")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    printed = threading.Event()
    seen = read_until(process.stdout, f"{fast} — ", printed)
    try:
        # The slow feed is still held: its line, and the end of the poll, cannot have come.
        assert printed.wait(60), "no line while a slow feed was still being fetched"
        assert slow not in "".join(seen)
    finally:
        release.set()
        process.wait(timeout=120)
    out = "".join(seen)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    lines = out.splitlines()
    assert lines[0] == f"ok           Person 0000: {fast} — 1 new posts, 0 new comments"
    assert lines[1] == f"ok           Person 0000: {slow} — 1 new posts, 0 new comments"
    assert lines[2].startswith("2 feeds polled: 2 new posts")


def test_the_progress_bar_names_the_hosts_still_being_waited_for(
    serve: Callable[[str], Server], tmp_path: Path
) -> None:
    release = threading.Event()
    fast, slow = fast_and_held(serve, release)
    config = write_watchlist(tmp_path, [(fast, "blog"), (slow, "blog")])
    command = f"{sys.executable} -m engage poll --config {config} --data {tmp_path / 'd'}"
    # `script` gives the poll a terminal, so it shows its bar.
    process = subprocess.Popen(
        ["script", "-qec", command, "/dev/null"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    shown = threading.Event()
    seen = read_until(process.stdout, "waiting for 127.0.0.2", shown)
    try:
        assert shown.wait(60), "".join(seen)
    finally:
        release.set()
        process.wait(timeout=120)
    out = "".join(seen)
    assert "2/2" not in out.split("waiting for 127.0.0.2")[0]
    assert "2 feeds polled" in out and "Traceback" not in out


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_parse_worker_killed_mid_poll_loses_nothing(
    serve: Callable[[str], Server], tmp_path: Path
) -> None:
    """The OOM killer or a stray kill takes the parse workers while feeds are still being
    fetched: the poll goes on, parses the rest itself, and ends without a traceback."""
    release = threading.Event()
    fast_server, slow_server = serve("127.0.0.1"), serve("127.0.0.2")
    feeds = []
    for n in range(10):
        fast_server.routes[f"/fast{n}.xml"] = served
        slow_server.routes[f"/slow{n}.xml"] = held_until(release)
        feeds += [(fast_server.url(f"/fast{n}.xml"), "blog")]
        feeds += [(slow_server.url(f"/slow{n}.xml"), "blog")]
    config = write_watchlist(tmp_path, feeds, people=5)
    process = subprocess.Popen(
        [sys.executable, "-m", "engage", "poll", "-v", "--config", str(config),
         "--data", str(tmp_path / "d")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    printed = threading.Event()
    seen = read_until(process.stdout, "/fast9.xml — ", printed)
    try:
        assert printed.wait(60), "".join(seen)
        # One core: no parse pool, nothing to kill, and the rest must hold all the same.
        workers = children_of(process.pid)
        assert workers or (os.cpu_count() or 1) < 2, "no parse worker to kill"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
    finally:
        release.set()
        process.wait(timeout=120)
    stderr = process.stderr.read() if process.stderr else ""
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "20 feeds polled" in "".join(seen)
    # A feed whose parse was waiting in the dead pool says so; every other one is stored.
    store = Store(tmp_path / "d")
    with_posts = {post.feed for post in store.posts()}
    for state in store.feeds():
        if state.url not in with_posts:
            assert state.last_error == "the parser stopped while reading this feed", state
    assert len(with_posts) >= 10
    # Nothing is lost: the next poll reads those feeds again.
    again = engage("poll", "--all", "--config", str(config), "--data", str(tmp_path / "d"))
    assert again.returncode == 0, again.stderr
    assert {post.feed for post in Store(tmp_path / "d").posts()} == {url for url, _ in feeds}
