"""The store under real concurrency and real crashes: separate processes, kill -9.

Issue 2 measured stock TinyDB losing or corrupting data in exactly these situations; these
tests are the proof that the store does not.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engage.store import CACHE, PRECIOUS, Store

WRITER = Path(__file__).with_name("store_writer.py")
pytestmark = pytest.mark.slow


def start_writer(mode: str, folder: Path, prefix: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), mode, str(folder), prefix, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "ready\n", f"writer did not start: {line!r}"
    return proc


def go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


@pytest.mark.parametrize("writers", [2, 4], ids=["two processes", "four processes"])
def test_processes_writing_at_once_lose_nothing(tmp_path: Path, writers: int) -> None:
    per_writer = 500
    procs = [start_writer("burst", tmp_path, f"w{i}", str(per_writer)) for i in range(writers)]
    for proc in procs:  # all are loaded and waiting: release them together
        go(proc)
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    ids = {event.id for event in Store(tmp_path).events()}
    expected = {f"w{i}-{n}" for i in range(writers) for n in range(per_writer)}
    assert len(ids) == writers * per_writer
    assert ids == expected


def test_kill_9_at_random_moments_never_breaks_the_file_or_loses_an_acknowledged_write(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("ENGAGE_KILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    Store(tmp_path)  # the file exists from the start, so every run can check it
    server = subprocess.Popen(
        [sys.executable, str(WRITER), "forkserver", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    acks = tmp_path.parent / "acks.txt"
    killed_mid_write = 0

    def command(line: str) -> str:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(line + "\n")
        server.stdin.flush()
        ready, _, _ = select.select([server.stdout], [], [], 30)
        assert ready, f"the fork server did not answer {line!r}"
        return server.stdout.readline().strip()

    try:
        for run in range(100):
            answer = command(f"run run{run} {acks}")
            assert answer.startswith("started "), answer
            pid = int(answer.split()[1])
            time.sleep(rng.uniform(0.0, 0.15))
            os.kill(pid, signal.SIGKILL)
            assert command(f"reap {pid}") == f"reaped {pid}"
            killed_mid_write += bool(list(tmp_path.glob(f".{PRECIOUS}*.tmp")))

            acknowledged = set(acks.read_text().split()) if acks.exists() else set()
            data = json.loads((tmp_path / PRECIOUS).read_bytes())  # whole JSON, not half
            assert isinstance(data["events"], dict), f"seed {seed}, run {run}"
            stored = {event.id for event in Store(tmp_path).events()}
            missing = acknowledged - stored
            assert not missing, f"seed {seed}, run {run}: lost acknowledged writes {missing}"
            assert not list(tmp_path.glob(".*.tmp")), "Store() cleans orphan temp files"
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)

    print(f"kill -9 runs: {len(acknowledged)} acknowledged writes, {killed_mid_write} mid-write")
    assert len(acknowledged) > 100, "the writers hardly wrote: the test proved nothing"
    # Writing (temp file, fsync, rename) is most of each transaction, so many kills land
    # in the middle of one; if none did, the kills missed the moment that matters.
    assert killed_mid_write > 0, f"seed {seed}: no kill landed during a write"
    assert not (tmp_path / CACHE).exists()  # events alone never touch the cache file
