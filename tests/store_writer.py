"""Separate processes writing events through the store, for tests/test_store_processes.py.

    python store_writer.py burst FOLDER PREFIX COUNT
        COUNT transactions, one event each. Prints "ready" once the store is open and waits
        for a line on stdin, so the test can release several writers at the same moment.

    python store_writer.py forkserver FOLDER
        Reads commands on stdin. "run PREFIX ACKS" forks a child that writes events in a
        loop forever and appends each event id to the file ACKS once its transaction has
        committed (the acknowledgement; one write() call per id, so a kill cannot leave
        half of one), and the parent prints "started PID". "reap PID" waits for that child
        (killed by the test) and prints "reaped PID". Keeping the acknowledgements out of
        the command pipe means the test never has to untangle two writers' lines.

The fork server pays for Python's start-up and imports once instead of once per kill, so
100 kill -9 runs take seconds instead of a minute; each child is still a real process with
its own file descriptors and lock, killed by a real SIGKILL.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

from engage.models import DIRECTION, Event, EventKind
from engage.store import Store

START = datetime(2026, 1, 1, tzinfo=UTC)


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
                    acks = os.open(args[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                    write(Store(folder), args[0], count(), acks=acks)
                finally:
                    os._exit(1)  # only reached if the loop fails
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
