"""Shared test fixtures: where the shared test data lives."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from feedserver import Server
from hypothesis import settings

# Property tests run the same examples on every run (a failure is reproducible, and a
# pass means the same thing everywhere), keep no example database in the checkout, and
# have no per-example deadline: a deadline is a speed assertion on a shared, noisy machine.
settings.register_profile("engage", derandomize=True, database=None, deadline=None)
settings.load_profile("engage")

T = TypeVar("T")
HANG_SECONDS = 120


def finishes(work: Callable[[], T], timeout: float = HANG_SECONDS) -> T:
    """What `work()` returns, or a failure if it has not returned after `timeout` seconds: a
    guard against a hang, never a measure of speed (keep the limit generous)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"still running after {timeout:g} s: a hang")
    if errors:
        raise errors[0]
    return result[0]

REPO = Path(__file__).resolve().parents[1]
# CI lays shared/ beside the clone; ENGAGE_SHARED may point elsewhere.
SHARED = Path(os.environ.get("ENGAGE_SHARED", REPO.parent / "shared"))
FEEDS = SHARED / "feeds"
ROBUSTNESS = SHARED / "robustness"


@pytest.fixture(scope="session")
def shared_feeds() -> Path:
    assert FEEDS.is_dir(), f"test data missing: {FEEDS} (shared/ must sit beside the repo)"
    return FEEDS


@pytest.fixture(scope="session")
def robustness_dir() -> Path:
    assert ROBUSTNESS.is_dir(), f"test data missing: {ROBUSTNESS}"
    return ROBUSTNESS


# Browser tests: the live server, the system Chromium, and what a page's scripts did.
pytest_plugins = ["browser"]


@pytest.fixture
def serve() -> Iterator[Callable[[str], Server]]:
    servers: list[Server] = []

    def start(host: str = "127.0.0.1") -> Server:
        try:
            server = Server(host)
        except OSError as exc:  # 127.0.0.2+ is loopback on Linux, which this suite needs
            pytest.fail(f"cannot listen on {host}: {exc}")
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stopping.set()
        server.shutdown()
        server.server_close()
