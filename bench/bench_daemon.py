"""The daemon's memory between ticks, after a whole 1,000-feed cycle.

`engage run` stays up for weeks; what it holds while it waits for the next tick is what a
user's machine pays all day. The poll and the digest run in child processes that exit
when their work is done, so the daemon itself should hold little more than its imports,
the scheduler and, with `--serve`, the web app. Target: at most 100 MB resident.

    python -m bench daemon
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.feedserver import FeedServer
from bench.poll_bench import write_watchlist

FEEDS = 1000
TARGET_MB = 100.0
CYCLE_TIMEOUT = 900.0  # a generous guard against a hung cycle, not a speed limit
SETTLE_SECONDS = 3.0


def resident_mb(pid: int) -> float:
    """VmRSS of one process: what the daemon keeps, children (there are none between
    ticks) aside."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def idle_after_cycle(folder: Path, config: Path, serve: bool) -> tuple[float, float]:
    """Start the daemon, wait for its first cycle to be logged, let it settle, and read
    its resident memory. Returns (seconds to the first cycle, resident MB)."""
    data = folder / ("data-serve" if serve else "data")
    argv = [sys.executable, "-m", "engage", "run", "--config", str(config), "--data", str(data)]
    if serve:
        argv += ["--serve", "--port", "0"]
    env = {**os.environ, "ENGAGE_CACHE": str(folder / "cache")}
    started = time.perf_counter()
    # Its stderr goes to a file: a pipe nobody reads while waiting would block the daemon
    # once it filled.
    errors = folder / f"{data.name}.stderr"
    with errors.open("wb") as err_file:
        daemon = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
    log = data / "engage-run.log"
    try:
        while "cycle:" not in (log.read_text() if log.exists() else ""):
            if daemon.poll() is not None:
                err = errors.read_text(errors="replace")
                raise RuntimeError(f"engage run exited ({daemon.returncode}):\n{err[-2000:]}")
            if time.perf_counter() - started > CYCLE_TIMEOUT:
                raise RuntimeError(f"no cycle logged in {CYCLE_TIMEOUT:.0f} s:\n{log}")
            time.sleep(0.2)
        cycle = time.perf_counter() - started
        time.sleep(SETTLE_SECONDS)
        return cycle, resident_mb(daemon.pid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def run(n: int = FEEDS) -> list[dict[str, object]]:
    server = FeedServer(n)
    try:
        with tempfile.TemporaryDirectory(prefix="engage-bench-daemon-") as tmp:
            folder = Path(tmp)
            config = write_watchlist(folder, server)
            rows: list[dict[str, object]] = []
            for serve in (False, True):
                cycle, mb = idle_after_cycle(folder, config, serve)
                rows.append(
                    {
                        "what": f"engage run{' --serve' if serve else ''}, {n} feeds",
                        "cycle_s": round(cycle, 1),
                        "resident_mb": round(mb, 1),
                        "ok": mb <= TARGET_MB,
                    }
                )
            return rows
    finally:
        server.stop()


def report(rows: list[dict[str, object]]) -> str:
    out = [f"{'':<32} {'first cycle':>12} {'idle resident':>14}  target"]
    for row in rows:
        verdict = "ok" if row["ok"] else "MISSED"
        out.append(
            f"{row['what']:<32} {row['cycle_s']:>11}s {row['resident_mb']:>11} MB  "
            f"<= {TARGET_MB:.0f} MB  {verdict}"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(report(run()))
