"""Ctrl-C and SIGTERM during `engage poll`: one line, exit 128 + the signal, no traceback
from any process, and what finished before the signal is stored.

A real `engage poll --all` in its own process group (as a terminal runs it: Ctrl-C reaches
every process of the group, parse workers included) against a local threaded server where
nine feeds answer at once and the tenth never does. `per_host: 1` makes the order certain:
the hanging feed is requested only once the nine before it on the same host are fetched,
so the test signals the moment that request arrives, with no sleep and no guess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engage.models import EventKind, FeedStatus
from engage.store import Store

FAST = 9  # with the hanging one, 10 feeds: enough for the parse process pool (8)


class _Site(BaseHTTPRequestHandler):
    hang_arrived: threading.Event
    release: threading.Event

    def do_GET(self) -> None:
        if self.path == "/hang":
            self.hang_arrived.set()
            self.release.wait(120)  # until the test is over
            return
        n = int(self.path.rsplit("/", 1)[-1])
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel>'
            f"<title>Blog {n}</title><link>http://127.0.0.1/{n}/</link>"
            f"<item><title>Post {n}</title><link>http://127.0.0.1/{n}/post</link>"
            f"<guid>post-{n}</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>"
            # A link to my site: detection turns it into an interaction (their_mention).
            f'<description>&lt;a href="https://me.example/notes"&gt;a note&lt;/a&gt;'
            "</description></item></channel></rss>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def site() -> Iterator[tuple[str, threading.Event]]:
    arrived, release = threading.Event(), threading.Event()
    handler = type("Site", (_Site,), {"hang_arrived": arrived, "release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrived
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def watchlist(base: str) -> str:
    people = "".join(
        f"  - name: Person {n}\n    feeds: [{base}/feed/{n}]\n" for n in range(1, FAST + 1)
    )
    return (
        "me:\n  name: Sam Example\n  sites: [https://me.example/]\n"
        f"people:\n{people}  - name: Slow Sal\n    feeds: [{base}/hang]\n"
        "settings:\n  per_host: 1\n  timeout_seconds: 600\n"
    )


@pytest.mark.parametrize(
    ("sig", "code", "words"),
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Stopped by SIGTERM")],
    ids=["Ctrl-C", "SIGTERM"],
)
def test_a_stopped_poll_says_one_line_and_keeps_what_finished(
    tmp_path: Path, site: tuple[str, threading.Event], sig: int, code: int, words: str
) -> None:
    base, hang_arrived = site
    (tmp_path / "feeds.yaml").write_text(watchlist(base))
    data = tmp_path / "data"
    Store(data)  # not a new folder: its notice would be a second line
    env = {k: v for k, v in os.environ.items() if k not in ("ENGAGE_CONFIG", "ENGAGE_DATA")}
    env["ENGAGE_CACHE"] = str(tmp_path / "cache")
    poll = subprocess.Popen(
        [sys.executable, "-m", "engage", "poll", "--all", "--data", str(data)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        assert hang_arrived.wait(60), "the poll never reached the hanging feed"
        os.killpg(poll.pid, sig)  # the whole group: the poller and its parse workers
        stdout, stderr = poll.communicate(timeout=60)
    finally:
        if poll.poll() is None:
            os.killpg(poll.pid, signal.SIGKILL)
            poll.wait()

    assert poll.returncode == code, stderr
    assert "Traceback" not in stderr + stdout
    assert stderr.splitlines() == [
        f"{words}: kept {FAST} feeds that finished ({FAST} new posts, 0 new comments, "
        f"{FAST} new interactions); 1 not finished, polled again next time."
    ]
    store = Store(data)
    assert sorted(p.title for p in store.posts()) == sorted(f"Post {n}" for n in range(1, FAST + 1))
    states = {s.url: s for s in store.feeds()}
    assert sorted(states) == sorted(f"{base}/feed/{n}" for n in range(1, FAST + 1))
    assert all(s.status == FeedStatus.OK and s.last_success for s in states.values())
    mentions = [e for e in store.events() if e.kind == EventKind.THEIR_MENTION]
    assert sorted(e.person for e in mentions) == sorted(f"Person {n}" for n in range(1, FAST + 1))
