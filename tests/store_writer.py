"""Separate processes writing events through the store, for tests/test_store_processes.py.

    python store_writer.py burst FOLDER PREFIX COUNT
        COUNT transactions, one event each. Prints "ready" once the store is open and waits
        for a line on stdin, so the test can release several writers at the same moment.

    python store_writer.py forkserver FOLDER
        Reads commands on stdin. "run PREFIX ACKS CLEAN POINT" forks a child that commits
        CLEAN transactions of one event each, appending each event id to the file ACKS once
        its transaction has committed (the acknowledgement; one write() call per id, so a
        kill cannot leave half of one); the parent prints "started PID". The child's next
        transaction stops inside the write of engage.json at POINT (one of PAUSE_POINTS),
        prints "paused PID POINT" and waits there for the test's kill -9, so every kill
        lands where the test asked, on every run. "reap PID" waits for that child and
        prints "reaped PID".

The fork server pays for Python's start-up and imports once instead of once per kill, so
many kill -9 runs take seconds instead of a minute; each child is still a real process with
its own file descriptors and lock, killed by a real SIGKILL.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from engage.models import DIRECTION, Event, EventKind
from engage.store import PRECIOUS, Store

START = datetime(2026, 1, 1, tzinfo=UTC)
# Where a write of engage.json can be stopped: its temp file written but not yet on disk,
# on disk but not yet renamed over engage.json, renamed but the folder not yet synced.
PAUSE_POINTS = ("before-fsync", "before-rename", "after-rename")


def event(event_id: str, n: int) -> Event:
    return Event(
        id=event_id,
        person=f"Person {n % 7}",
        kind=EventKind.MY_COMMENT,
        when=START + timedelta(minutes=n),
        direction=DIRECTION[EventKind.MY_COMMENT],
        url=f"https://blog.example/{n}",
    )


def write(store: Store, prefix: str, numbers: range | count[int], acks: int | None) -> None:
    for n in numbers:
        event_id = f"{prefix}-{n}"
        with store.transaction() as tx:
            tx.add_events([event(event_id, n)])
        if acks is not None:
            os.write(acks, f"{event_id}\n".encode())


def pause_inside_the_next_write(point: str) -> None:
    """From now on, the first write of engage.json stops at `point`: it says so on stdout
    and waits for a signal. Only this child process is changed: it wraps the two system
    calls every atomic write makes (fsync of the temp file, rename over the target)."""
    if point not in PAUSE_POINTS:
        raise SystemExit(f"unknown pause point {point!r}")
    real_fsync, real_replace = os.fsync, os.replace

    def stop() -> None:
        os.write(1, f"paused {os.getpid()} {point}\n".encode())
        while True:
            signal.pause()

    def fsync(fd: int) -> None:
        if point == "before-fsync" and stat.S_ISREG(os.fstat(fd).st_mode):
            stop()
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        ours = Path(dst).name == PRECIOUS
        if ours and point == "before-rename":
            stop()
        real_replace(src, dst)
        if ours and point == "after-rename":
            stop()

    os.fsync = fsync
    os.replace = replace  # type: ignore[assignment]


def burst(folder: Path, prefix: str, how_many: int) -> None:
    store = Store(folder)
    print("ready", flush=True)
    sys.stdin.readline()
    write(store, prefix, range(how_many), acks=None)


def forkserver(folder: Path) -> None:
    for line in sys.stdin:
        command, *args = line.split()
        if command == "run":
            sys.stdout.flush()  # nothing buffered may be printed twice by the child
            pid = os.fork()
            if pid == 0:
                try:
                    prefix, clean, point = args[0], int(args[2]), args[3]
                    acks = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    store = Store(folder)
                    write(store, prefix, range(clean), acks=acks)
                    pause_inside_the_next_write(point)
                    write(store, prefix, count(clean), acks=acks)
                finally:
                    os._exit(1)  # only reached if the child fails
            print(f"started {pid}", flush=True)
        elif command == "reap":
            os.waitpid(int(args[0]), 0)
            print(f"reaped {args[0]}", flush=True)


def main(argv: list[str]) -> int:
    mode, folder = argv[0], Path(argv[1])
    if mode == "burst":
        burst(folder, argv[2], int(argv[3]))
    elif mode == "forkserver":
        forkserver(folder)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
