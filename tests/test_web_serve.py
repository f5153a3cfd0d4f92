"""`engage serve` and `engage run --serve`, the real commands in their own processes: the
report answers on the printed URL (and nowhere but 127.0.0.1), stops cleanly, says so in
one line when the port is taken; the daemon serves it from its own event loop, and its
pages show what the daemon's polls store meanwhile."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from reportworld import write_world

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD = 60.0  # seconds: generous, for a loaded machine
URL = re.compile(r"(http://127\.0\.0\.1:\d+/)")

FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Dana's blog</title><link>{base}/</link>
<item><title>A post the daemon found</title><link>https://dana.example.org/found/</link>
<guid>p1</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>
<description>Polled while the report was open.</description></item>
</channel></rss>"""


class Process:
    """A command whose stderr is read line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engage", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def url(self) -> str:
        deadline = time.monotonic() + HANG_GUARD
        while time.monotonic() < deadline:
            for line in self.lines:
                found = URL.search(line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(f"exited before serving: {self.lines}")
            time.sleep(0.05)
        pytest.fail("hang guard: no URL printed")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=HANG_GUARD)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=HANG_GUARD)


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[Process]:
    process = Process(args, env)
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TZ": "UTC", "ENGAGE_CACHE": str(tmp_path / "cache")}


def test_engage_serve_answers_on_the_printed_url_and_stops_on_ctrl_c(
    tmp_path: Path, env: dict[str, str]
) -> None:
    config, data = write_world(tmp_path)
    args = ["serve", "--port", "0", "--config", str(config), "--data", str(data)]
    with running(args, env) as served:
        url = served.url()
        with httpx.Client(timeout=HANG_GUARD) as client:
            people = client.get(url)
            person = client.get(url + "people/ada-lanternfield")
            rebound = client.get(url, headers={"host": "evil.example"})
        code = served.stop(signal.SIGINT)
    assert people.status_code == 200 and "Ada Lanternfield" in people.text
    assert person.status_code == 200 and "svg" in person.text
    assert rebound.status_code == 400
    assert code == 0
    assert served.lines[-1] == "engage: the report has stopped"
    assert not any("Traceback" in line for line in served.lines)


def test_a_port_in_use_is_one_line_and_exit_code_2(tmp_path: Path, env: dict[str, str]) -> None:
    config, data = write_world(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "engage", "serve", "--port", str(port),
             "--config", str(config), "--data", str(data)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_GUARD,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"cannot listen on 127.0.0.1:{port}: Address already in use; choose another --port"
    ]


def test_engage_run_serve_shows_what_its_polls_store(
    tmp_path: Path, env: dict[str, str], httpserver: HTTPServer
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed").respond_with_data(
        FEED.format(base=base), content_type="application/rss+xml"
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"me:\n  name: Robin Quill\npeople:\n  - name: Dana Vell\n    feeds: ['{base}/feed']\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    args = ["run", "--serve", "--port", "0", "--interval", "0.3",
            "--config", str(config), "--data", str(data)]  # fmt: skip
    with running(args, env) as daemon:
        url = daemon.url()
        deadline = time.monotonic() + HANG_GUARD
        with httpx.Client(timeout=HANG_GUARD) as client:
            while "A post the daemon found" not in (
                page := client.get(url + "people/dana-vell")
            ).text:
                if time.monotonic() > deadline:  # a hang guard
                    pytest.fail("the poll never showed on the page")
                time.sleep(0.2)
            feeds = client.get(url + "api/feeds").json()
        code = daemon.stop(signal.SIGTERM)
    assert page.status_code == 200
    assert [f["status"] for f in feeds] == ["ok"]
    assert code == 0
    log = (data / "engage-run.log").read_text(encoding="utf-8")
    assert "cycle: " in log and log.rstrip().endswith("stopped")


def test_run_serve_cannot_be_once(tmp_path: Path, env: dict[str, str]) -> None:
    config, data = write_world(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "engage", "run", "--once", "--serve",
         "--config", str(config), "--data", str(data)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_GUARD,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--serve keeps serving; it cannot be used with --once" in done.stderr
