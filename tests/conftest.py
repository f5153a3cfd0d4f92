"""Shared test fixtures: where the shared test data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests run the same examples on every run (a failure is reproducible, and a
# pass means the same thing everywhere), keep no example database in the checkout, and
# have no per-example deadline: a deadline is a speed assertion on a shared, noisy machine.
settings.register_profile("engage", derandomize=True, database=None, deadline=None)
settings.load_profile("engage")

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
