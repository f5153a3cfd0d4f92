"""A daemon in its own process, for tests/test_daemon.py.

    python daemon_child.py DATA_FOLDER '{"interval": 0.1, ...}'

Runs `engage.daemon.run` on DATA_FOLDER with callables that leave a trace in files the
test reads, and with the real store keeping the date of the last digest, as `engage run`
will. Options (JSON): interval and grace (seconds), once, start (the invented local time
of the first tick, ISO 8601), speed (invented seconds per real second), at (HH:MM),
poll ("quick"; "held": waits for a file `release` in DATA_FOLDER, then writes the store
once; "endless": store writes until killed; "fail": an EngageError; "stubborn": in a child
process, as `engage run` polls, that ignores the stop it is sent and writes its pid to
`child_pid`).

Files written in DATA_FOLDER: `polls` (a line "start N" and "end N" per poll), `sent`
(the invented local time of each digest sent, one a line). Errors are printed as the CLI
will print them: one line on stderr, and the error's exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from engage.app import Engage
from engage.daemon import apart, run
from engage.digest.daily import DailyDigest
from engage.errors import EngageError
from engage.store import Store


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")  # one write per line: a kill never leaves half of one


def ignores_the_stop(folder: Path, _data: Path, _answer: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    (folder / "child_pid.tmp").write_text(str(os.getpid()), encoding="utf-8")
    (folder / "child_pid.tmp").replace(folder / "child_pid")
    time.sleep(300)  # longer than the test waits: only a kill ends it in time


def main(folder: Path, options: dict[str, Any]) -> int:
    store = Store(folder)
    started = time.monotonic()
    start = datetime.fromisoformat(options["start"])
    speed = float(options.get("speed", 1.0))
    polls = 0

    def now() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - started) * speed)

    def poll_due() -> str:
        nonlocal polls
        polls += 1
        append(folder / "polls", f"start {polls}")
        kind = options.get("poll", "quick")
        if kind == "fail":
            raise EngageError("feeds.yaml:3:5: a made-up mistake\n(with a second line)")
        if kind == "held":
            deadline = time.monotonic() + 60  # a hang guard, never reached when all is well
            while not (folder / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            with store.transaction() as tx:
                tx.set_meta("poll_done", polls)
        if kind == "stubborn":
            return apart("poll", ignores_the_stop, folder, folder)
        if kind == "endless":
            for n in range(10**9):
                with store.transaction() as tx:
                    tx.set_meta("poll_progress", n)
                time.sleep(0.01)
        append(folder / "polls", f"end {polls}")
        return f"poll {polls}"

    def send(when: datetime) -> str:
        append(folder / "sent", when.isoformat())
        return f"digest for {when.date()} sent"

    def last_sent() -> date | None:
        value = store.get_meta("last_digest")
        return date.fromisoformat(value) if value else None

    def mark_sent(day: date) -> None:
        with store.transaction() as tx:
            tx.set_meta("last_digest", day.isoformat())

    hour, minute = (int(part) for part in options.get("at", "07:30").split(":"))
    digest = DailyDigest(
        time_of_day(hour, minute),
        send=send,
        last_sent=last_sent,
        mark_sent=mark_sent,
    )
    app = Engage(folder / "no-watchlist.yaml", folder)
    return run(
        folder,
        guard=app.single_instance("run"),
        poll_due=poll_due,
        send_digest_if_due=digest,
        once=bool(options.get("once", False)),
        interval=float(options.get("interval", 0.1)),
        grace=float(options.get("grace", 5.0)),
        clock_now=now,
    )


if __name__ == "__main__":
    try:
        sys.exit(main(Path(sys.argv[1]), json.loads(sys.argv[2])))
    except EngageError as exc:
        print(exc, file=sys.stderr)
        sys.exit(exc.exit_code)
