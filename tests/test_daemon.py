"""The daemon in a real process (tests/daemon_child.py): ticks, one digest a day across
restarts, signals mid-cycle, a single instance per data folder, --once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engage.daemon import LOG_FILE, answering, apart, local_now
from engage.errors import EngageError
from engage.store import Store

CHILD = Path(__file__).with_name("daemon_child.py")
MONDAY_9 = "2026-03-02T09:00:00+01:00"  # after the 07:30 digest time
HANG_GUARD = 60.0  # seconds; only ever reached when something hangs


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


class Daemon:
    def __init__(self, folder: Path, **options: Any) -> None:
        self.folder = folder
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), str(folder), json.dumps(options)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + HANG_GUARD
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the daemon exited before {what}: {self.process.stderr.read()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"hang guard: still waiting for {what}")
            time.sleep(0.02)

    def polls_ended(self) -> int:
        return sum(line.startswith("end ") for line in lines(self.folder / "polls"))

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=HANG_GUARD)

    def log(self) -> list[str]:
        # Drop the time stamp and level: "2026-…T…+0000 INFO cycle: …" -> "cycle: …"
        return [line.split(" ", 2)[2] for line in lines(self.folder / LOG_FILE)]


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:  # a failed test leaves nothing running
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait(timeout=HANG_GUARD)


def once(folder: Path, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHILD), str(folder), json.dumps({"once": True, **options})],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )


def sent_days(folder: Path) -> list[date]:
    return [datetime.fromisoformat(line).date() for line in lines(folder / "sent")]


def test_ticks_poll_and_each_cycle_is_one_log_line(tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon = Daemon(tmp_path, start=MONDAY_9, interval=0.1)
    daemons.append(daemon)
    daemon.wait_for("five polls", lambda: daemon.polls_ended() >= 5)
    assert daemon.stop() == 0
    polls = lines(tmp_path / "polls")
    count = daemon.polls_ended()
    assert polls == [f"{edge} {n}" for n in range(1, count + 1) for edge in ("start", "end")]
    log = daemon.log()
    cycles = [line for line in log if line.startswith("cycle: ")]
    assert cycles[0].startswith("cycle: poll 1; digest for 2026-03-02 sent (")
    # The last cycle may have been running when the signal came: it finished, digest skipped.
    bare = [c.split(" (")[0].removesuffix("; digest skipped: stopping") for c in cycles[1:]]
    assert bare == [f"cycle: poll {n}" for n in range(2, count + 1)]
    assert log[0].startswith("started: a tick every 0.1 s, process ")
    assert log[-2:] == ["SIGTERM: stopping", "stopped"]
    assert sent_days(tmp_path) == [date(2026, 3, 2)]


def test_one_digest_a_day_at_its_time_over_several_days(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    # An invented clock that runs 12 hours a second, from 06:00 on Monday: a tick every
    # 0.05 s is 36 invented minutes.
    daemon = Daemon(tmp_path, start="2026-03-02T06:00:00+01:00", speed=12 * 3600, interval=0.05)
    daemons.append(daemon)
    daemon.wait_for("three digests", lambda: len(lines(tmp_path / "sent")) >= 3)
    assert daemon.stop() == 0
    sent = [datetime.fromisoformat(line) for line in lines(tmp_path / "sent")]
    days = [moment.date() for moment in sent]
    assert days[:3] == [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
    assert days == sorted(set(days)), "two digests on one day"
    assert all(moment.time() >= datetime(2026, 3, 2, 7, 30).time() for moment in sent)
    assert daemon.polls_ended() > len(sent)  # ticks without a digest still polled
    assert Store(tmp_path).get_meta("last_digest") == days[-1].isoformat()


def test_started_after_the_time_it_sends_at_once_and_never_again_after_a_restart(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    first = Daemon(tmp_path, start=MONDAY_9, interval=0.1)
    daemons.append(first)
    first.wait_for("the digest", lambda: len(lines(tmp_path / "sent")) == 1)
    first.wait_for("two more polls", lambda: first.polls_ended() >= 3)
    assert first.stop() == 0

    polls_before = first.polls_ended()
    second = Daemon(tmp_path, start="2026-03-02T09:05:00+01:00", interval=0.1)
    daemons.append(second)
    second.wait_for("three polls", lambda: second.polls_ended() >= polls_before + 3)
    assert second.stop() == 0
    assert sent_days(tmp_path) == [date(2026, 3, 2)]

    tuesday = Daemon(tmp_path, start="2026-03-03T08:00:00+01:00", interval=0.1)
    daemons.append(tuesday)
    tuesday.wait_for("Tuesday's digest", lambda: len(lines(tmp_path / "sent")) == 2)
    assert tuesday.stop() == 0
    assert sent_days(tmp_path) == [date(2026, 3, 2), date(2026, 3, 3)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_cycle_lets_a_short_cycle_finish_its_store_write(
    tmp_path: Path, daemons: list[Daemon], signum: int
) -> None:
    daemon = Daemon(tmp_path, start=MONDAY_9, poll="held", grace=HANG_GUARD)
    daemons.append(daemon)
    daemon.wait_for("the poll to start", lambda: lines(tmp_path / "polls") == ["start 1"])
    daemon.process.send_signal(signum)
    name = signal.Signals(signum).name
    daemon.wait_for("the signal", lambda: f"{name}: stopping" in daemon.log())
    (tmp_path / "release").touch()  # the poll goes on, mid-cycle, after the signal
    assert daemon.process.wait(timeout=HANG_GUARD) == 0
    assert lines(tmp_path / "polls") == ["start 1", "end 1"]
    assert Store(tmp_path).get_meta("poll_done") == 1
    log = daemon.log()
    assert log[-3] == f"{name}: stopping"
    # The digest was due, but nothing new starts once a stop was asked for.
    assert log[-2].startswith("cycle: poll 1; digest skipped: stopping (")
    assert log[-1] == "stopped"
    assert lines(tmp_path / "sent") == []


def test_sigterm_mid_cycle_abandons_a_long_one_and_the_store_stays_whole(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon = Daemon(tmp_path, start=MONDAY_9, poll="endless", grace=0.5)
    daemons.append(daemon)

    def writing() -> bool:
        return (Store(tmp_path).get_meta("poll_progress") or 0) >= 20

    daemon.wait_for("the poll to write the store", writing)
    assert daemon.stop() == 0
    log = daemon.log()
    assert log[-2] == "SIGTERM: stopping"
    assert log[-1].startswith("stopped mid-cycle: abandoned the running cycle after 0.5 s")
    progress = Store(tmp_path).get_meta("poll_progress")  # loads: no half-written file
    assert isinstance(progress, int) and progress >= 20
    assert lines(tmp_path / "polls") == ["start 1"]
    # The lock went with the process: the next run starts and works.
    result = once(tmp_path, start=MONDAY_9)
    assert (result.returncode, result.stderr) == (0, "")
    assert sent_days(tmp_path) == [date(2026, 3, 2)]


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def test_a_step_that_ignores_the_stop_goes_with_the_daemon(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    # The step's child left the terminal's process group: if the daemon left it running,
    # it would go on polling and writing after `engage run` had stopped.
    daemon = Daemon(tmp_path, start=MONDAY_9, poll="stubborn", grace=0.3)
    daemons.append(daemon)
    daemon.wait_for("the step's child", lambda: (tmp_path / "child_pid").exists())
    pid = int((tmp_path / "child_pid").read_text(encoding="utf-8"))
    assert daemon.stop() == 0
    assert daemon.log()[-1].startswith("stopped mid-cycle: abandoned the running cycle")
    deadline = time.monotonic() + HANG_GUARD
    while alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the step's child outlived the daemon")
        time.sleep(0.02)


def test_a_second_daemon_on_the_same_data_folder_is_refused(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    first = Daemon(tmp_path, start=MONDAY_9, interval=0.1)
    daemons.append(first)
    first.wait_for("a poll", lambda: first.polls_ended() >= 1)
    for options in ({}, {"once": True}):
        second = subprocess.run(
            [sys.executable, str(CHILD), str(tmp_path), json.dumps({"start": MONDAY_9, **options})],
            capture_output=True,
            text=True,
            timeout=HANG_GUARD,
        )
        assert second.returncode == 2
        assert second.stderr == (
            f"engage run is already running on {tmp_path} (process {first.process.pid}); "
            "stop it first, or give this one another data folder\n"
        )
    assert first.process.poll() is None  # the first one is untouched
    assert first.stop() == 0
    assert once(tmp_path, start=MONDAY_9).returncode == 0  # and free again once it stopped


def test_once_does_one_tick_and_exits(tmp_path: Path) -> None:
    result = once(tmp_path, start=MONDAY_9)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert lines(tmp_path / "polls") == ["start 1", "end 1"]
    assert sent_days(tmp_path) == [date(2026, 3, 2)]
    [cycle] = (tmp_path / LOG_FILE).read_text(encoding="utf-8").splitlines()
    assert "INFO cycle: poll 1; digest for 2026-03-02 sent (" in cycle

    # A cron job a minute later: it polls again, and sends nothing more today.
    later = datetime.fromisoformat(MONDAY_9) + timedelta(minutes=1)
    assert once(tmp_path, start=later.isoformat()).returncode == 0
    assert lines(tmp_path / "polls") == ["start 1", "end 1", "start 1", "end 1"]
    assert sent_days(tmp_path) == [date(2026, 3, 2)]


def test_once_with_a_failing_poll_logs_one_line_still_sends_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    result = once(tmp_path, start=MONDAY_9, poll="fail")
    assert (result.returncode, result.stderr) == (1, "")
    log = [line.split(" ", 2)[2] for line in lines(tmp_path / LOG_FILE)]
    assert log[0] == "poll failed: feeds.yaml:3:5: a made-up mistake (with a second line)"
    assert log[1].startswith("cycle: poll failed; digest for 2026-03-02 sent (")
    assert len(log) == 2
    assert sent_days(tmp_path) == [date(2026, 3, 2)]


def test_local_time_knows_the_zone_s_dst_rules_when_the_system_names_the_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    now = local_now()
    assert now.tzinfo == ZoneInfo("Europe/Berlin")  # not a fixed +01:00 that misses DST
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # a POSIX rule: no zone name
    assert local_now().utcoffset() is not None


# ---------------------------------------------------------------------------
# Each step of a tick in a child process of its own (engage.daemon.apart)


def answers_with_its_pid(first: Path, _second: Path, answer: Connection) -> None:
    answering(lambda: f"{first.name} in process {os.getpid()}", answer)


def refuses(_first: Path, _second: Path, answer: Connection) -> None:
    def work() -> str:
        raise EngageError("feeds.yaml:3:5: not a list")

    answering(work, answer)


def breaks(_first: Path, _second: Path, answer: Connection) -> None:
    def work() -> str:
        raise KeyError("a bug of ours")

    answering(work, answer)


def dies(_first: Path, _second: Path, _answer: Connection) -> None:
    os._exit(9)  # the OOM killer, a kill -9: no answer at all


def test_a_step_runs_in_a_child_and_its_summary_comes_back(tmp_path: Path) -> None:
    said = apart("poll", answers_with_its_pid, tmp_path / "feeds.yaml", tmp_path)
    name, pid = said.split(" in process ")
    assert name == "feeds.yaml"
    assert int(pid) != os.getpid()


def test_a_step_s_error_is_the_same_clear_error_here(tmp_path: Path) -> None:
    with pytest.raises(EngageError, match=r"^feeds.yaml:3:5: not a list$"):
        apart("poll", refuses, tmp_path, tmp_path)


def test_a_bug_in_a_step_comes_back_with_its_traceback(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)the poll failed:.*KeyError: 'a bug of ours'"):
        apart("poll", breaks, tmp_path, tmp_path)


def test_a_step_that_dies_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    with pytest.raises(EngageError, match=r"the poll stopped without finishing \(exit code 9\)"):
        apart("poll", dies, tmp_path, tmp_path)
