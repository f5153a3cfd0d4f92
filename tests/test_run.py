"""`engage run`, the real command in its own process, against a local feed server and a
real SMTP server: it polls, delivers the digest exactly once when its time has passed (also
when started after that time, and never twice across a restart), and a SIGTERM in the
middle of a cycle loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from feedserver import Handler, Server
from pytest_httpserver import HTTPServer
from test_digest_mail import Mailbox, smtp_server
from werkzeug import Request, Response

from engage.store import Store

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 60.0  # seconds: generous, for a loaded machine; a healthy run needs a few

FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Dana's blog</title><link>{base}/</link>
<item><title>Feeds as a promise</title><link>{base}/feeds-as-a-promise</link>
<guid>p1</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>
<description>On keeping a feed alive.</description></item>
</channel></rss>"""


def watchlist(base: str, smtp_port: int) -> str:
    return f"""\
me:
  name: Robin Quill
  interests: [feeds]
people:
  - name: Dana Vell
    feeds: ['{base}/feed']
settings:
  digest:
    time: "00:00"
    to: robin@robin.example.net
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
"""


class Daemon:
    def __init__(self, tmp_path: Path) -> None:
        self.config = tmp_path / "feeds.yaml"
        self.data = tmp_path / "data"
        self.env = {**os.environ, "TZ": "UTC", "ENGAGE_CACHE": str(tmp_path / "cache")}
        self.process: subprocess.Popen[str] | None = None

    def start(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engage", "run", "--interval", "0.3", *extra,
             "--config", str(self.config), "--data", str(self.data)],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def log(self) -> str:
        path = self.data / "engage-run.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def cycles(self) -> int:
        return self.log().count("cycle: ")

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + HANG_GUARD
        while not ready():
            assert self.process is not None and self.process.poll() is None, (
                f"engage run ended while waiting for {what}: {self.process.communicate()}"
            )
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} within {HANG_GUARD:g} s; log:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout=HANG_GUARD)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=HANG_GUARD)


@contextmanager
def running(tmp_path: Path) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path)
    try:
        yield daemon
    finally:
        daemon.kill()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as served:
        yield served


def test_it_polls_and_delivers_the_digest_once_also_across_a_restart(
    tmp_path: Path, httpserver: HTTPServer, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed").respond_with_data(
        FEED.format(base=base), content_type="application/rss+xml"
    )
    with running(tmp_path) as daemon:
        daemon.config.write_text(watchlist(base, smtp_port), encoding="utf-8")
        # Started long after 00:00: today's digest is due at once.
        daemon.start()
        daemon.wait_for("four cycles", lambda: daemon.cycles() >= 4)
        assert daemon.stop() == 0
        assert len(box.messages) == 1
        assert box.messages[0]["Subject"].startswith("engage · ")
        assert [p.title for p in Store(daemon.data).posts()] == ["Feeds as a promise"]
        assert "e-mailed to robin@robin.example.net" in daemon.log()
        # A restart the same day sends nothing more.
        before = daemon.cycles()
        daemon.start()
        daemon.wait_for("three more cycles", lambda: daemon.cycles() >= before + 3)
        assert daemon.stop() == 0
    assert len(box.messages) == 1
    digests = sorted(p.name for p in (daemon.data / "digests").glob("*.html"))
    assert len(digests) == 2 and "latest.html" in digests


def test_a_second_run_on_the_same_data_folder_is_refused(
    tmp_path: Path, httpserver: HTTPServer, mailbox: tuple[Mailbox, int]
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed").respond_with_data(
        FEED.format(base=base), content_type="application/rss+xml"
    )
    with running(tmp_path) as first:
        first.config.write_text(watchlist(base, mailbox[1]), encoding="utf-8")
        first.start()
        first.wait_for("a cycle", lambda: first.cycles() >= 1)
        second = subprocess.run(
            [sys.executable, "-m", "engage", "run", "--once", "--config", str(first.config),
             "--data", str(first.data)],
            cwd=ROOT, env=first.env, capture_output=True, text=True, timeout=HANG_GUARD,
        )  # fmt: skip
        assert second.returncode == 2
        assert second.stderr.strip().startswith("engage run is already running on")
        assert first.stop() == 0


def test_sigterm_in_the_middle_of_a_poll_loses_nothing(
    tmp_path: Path, httpserver: HTTPServer, mailbox: tuple[Mailbox, int]
) -> None:
    base = httpserver.url_for("").rstrip("/")
    asked = threading.Event()

    def slow_feed(_request: Request) -> Response:
        asked.set()
        time.sleep(1.5)  # the cycle is mid-fetch when the signal comes
        return Response(FEED.format(base=base), content_type="application/rss+xml")

    httpserver.expect_request("/feed").respond_with_handler(slow_feed)
    with running(tmp_path) as daemon:
        daemon.config.write_text(watchlist(base, mailbox[1]), encoding="utf-8")
        daemon.start()
        assert asked.wait(HANG_GUARD)
        assert daemon.stop() == 0
        log = daemon.log()
    assert "SIGTERM: stopping" in log
    assert "stopped" in log
    # The cycle that was running finished within the grace period and stored its work.
    assert [p.title for p in Store(daemon.data).posts()] == ["Feeds as a promise"]
    assert [s.status.value for s in Store(daemon.data).feeds()] == ["ok"]


def test_a_poll_that_outlasts_the_grace_stores_what_finished(
    tmp_path: Path,
    httpserver: HTTPServer,
    serve: Callable[[str], Server],
    mailbox: tuple[Mailbox, int],
) -> None:
    """SIGTERM while one feed hangs: the poll gets its grace, then is told to stop, and the
    feeds that had answered are stored; the hanging one is polled again next time."""
    base = httpserver.url_for("").rstrip("/")
    asked = threading.Event()
    release = threading.Event()

    def hanging_feed(handler: Handler) -> None:
        asked.set()
        release.wait(HANG_GUARD)
        handler.respond(503, b"")

    httpserver.expect_request("/feed").respond_with_data(
        FEED.format(base=base), content_type="application/rss+xml"
    )
    hangs = serve("127.0.0.2")  # a server of its own: the one above answers one at a time
    hangs.routes["/hangs"] = hanging_feed
    config = watchlist(base, mailbox[1]).replace(
        f"    feeds: ['{base}/feed']", f"    feeds: ['{base}/feed', '{hangs.url('/hangs')}']"
    )
    with running(tmp_path) as daemon:
        daemon.config.write_text(config, encoding="utf-8")
        daemon.start()
        assert asked.wait(HANG_GUARD)
        try:
            assert daemon.stop() == 0
        finally:
            release.set()
        log = daemon.log()
    assert "SIGTERM: stopping" in log
    assert [p.title for p in Store(daemon.data).posts()] == ["Feeds as a promise"], log
    states = {s.url.rsplit("/", 1)[1]: s for s in Store(daemon.data).feeds()}
    assert states["feed"].status.value == "ok"
    assert states.get("hangs") is None or states["hangs"].last_poll is None
