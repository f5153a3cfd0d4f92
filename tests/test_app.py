"""The application layer: readers never wait behind a poll or a write, and the read model
is read again when the data changes (a long-running web report sees fresh data)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from engage import detect as detect_module
from engage.app import Engage
from engage.models import DIRECTION, Event, EventKind, EventSource
from engage.store import Store

ROOT = Path(__file__).resolve().parents[1]

COMMENTS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Comments on Dana's blog</title>
<link>{base}/</link>
<item><title>By: Robin Quill</title><link>{base}/post/#comment-1</link>
<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Robin Quill</dc:creator>
<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate><guid>c1</guid>
<description>Lovely post.</description></item>
</channel></rss>"""


def watchlist(base: str) -> str:
    return f"""\
me:
  name: Robin Quill
people:
  - name: Dana Vell
    feeds:
      - {{url: {base}/comments/feed/, kind: comments}}
"""


def engage_cli(*args: str, config: Path, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENGAGE_CACHE": str(data.parent / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "engage", *args, "--config", str(config), "--data", str(data)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip


def test_status_answers_while_a_poll_is_held_mid_detection(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/comments/feed/").respond_with_data(
        COMMENTS.format(base=base), content_type="application/rss+xml"
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(watchlist(base), encoding="utf-8")
    data = tmp_path / "data"
    Store(data)  # an existing data folder, as after a first run

    detecting = threading.Event()
    release = threading.Event()
    real_detect = detect_module.detect

    def held_detect(*args: object, **kwargs: object) -> detect_module.Detection:
        detecting.set()
        release.wait(timeout=120)
        return real_detect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(detect_module, "detect", held_detect)
    app = Engage(config, data)
    poll = threading.Thread(target=lambda: app.poll(everything=True))
    poll.start()
    try:
        assert detecting.wait(timeout=60), "the poll never reached detection"
        done = engage_cli("status", config=config, data=data)
        still_held = poll.is_alive()
    finally:
        release.set()
        poll.join(timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Dana Vell" in done.stdout
    assert still_held  # status answered while the poll was still detecting
    # And the poll then stored what it found.
    assert [e.kind for e in Store(data).events()] == [EventKind.MY_COMMENT]


def test_reads_take_no_lock_while_a_write_is_open(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(watchlist("https://dana.example.org"), encoding="utf-8")
    data = tmp_path / "data"
    store = Store(data)
    with store.transaction() as tx:
        tx.add_events(
            [
                Event(
                    id="manual:1",
                    person="Dana Vell",
                    kind=EventKind.MY_COMMENT,
                    when=datetime(2026, 11, 2, tzinfo=UTC),
                    direction=DIRECTION[EventKind.MY_COMMENT],
                    source=EventSource.MANUAL,
                )
            ]
        )
    with store.transaction():  # holds the lock, as a long write would
        done = engage_cli("events", "--json", config=config, data=data)
    assert done.returncode == 0, done.stderr
    assert '"id": "manual:1"' in done.stdout


def test_the_read_model_is_read_again_when_the_data_changes(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(watchlist("https://dana.example.org"), encoding="utf-8")
    app = Engage(config, tmp_path / "data")
    first = app.world()
    assert app.world() is first  # unchanged: the same read
    app.log("Dana Vell", "my_comment", when="2026-11-02")
    second = app.world()
    assert second is not first
    assert [e.kind for e in second.events_of("dana vell")] == [EventKind.MY_COMMENT]
