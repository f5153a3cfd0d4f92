"""`engage forget` with a misspelt name removes nothing and names who was meant."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from engage.models import DIRECTION, Event, EventKind, EventSource
from engage.store import Store


def test_forget_a_misspelt_person_suggests_the_stored_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "d")
    kind = EventKind.MY_COMMENT
    with store.transaction() as tx:
        tx.add_events([
            Event(id="e1", person="Ada Lanternfield", kind=kind, direction=DIRECTION[kind],
                  when=datetime(2026, 11, 1, tzinfo=UTC), source=EventSource.MANUAL)
        ])  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "engage", "forget", "Ada Lanternfeld", "--yes",
         "--data", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "nothing removed" in done.stdout
    assert "did you mean 'Ada Lanternfield'?" in done.stdout
    assert [e.id for e in Store(tmp_path / "d").events()] == ["e1"]
