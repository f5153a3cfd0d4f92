"""Benchmark `engage poll --all` against the parse floor and the `reader` library.

Everything is measured in the same run on the same local server, and reported as
ratios: the machines are shared and noisy, absolute seconds mean little.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.feedserver import HOSTS, FeedServer, feed_body

# The size of a typical personal watchlist, whose no-change poll is held to a few times
# the CLI's own start-up.
SMALL_WATCHLIST = 100


@dataclass
class Timed:
    seconds: float
    peak_rss_mb: float  # proportional set size summed over the process tree (see below)


def timed_process(args: list[str], env: dict[str, str] | None = None) -> Timed:
    """Wall time of a command and the peak memory (PSS) of it and all its children."""
    import psutil

    started = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or os.environ.copy()
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for p in procs:
                    # PSS, not RSS: pool workers fork from one parent and share most of
                    # their pages; summing RSS would count those pages once per process.
                    try:
                        total += p.memory_full_info().pss
                    except psutil.NoSuchProcess:
                        continue
                peak = max(peak, total)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return Timed(elapsed, peak / 2**20)


def write_watchlist(folder: Path, server: FeedServer) -> Path:
    lines = [
        "me:",
        "  name: Bench Me",
        "  sites: [https://me.example.net/]",
        "people:",
    ]
    for i in range(server.n):
        lines += [f"  - name: Person {i:05d}", "    feeds:", f"      - {server.url(i)}"]
    lines += ["settings:", "  poll_interval: 60", "  concurrency: 16"]
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def parse_floor(n: int) -> float:
    """feedparser 6 with default options over the same bodies from memory, one core."""
    import feedparser

    bodies = [feed_body(i, 0) for i in range(n)]
    started = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    return time.perf_counter() - started


READER_SCRIPT = textwrap.dedent(
    """
    import sys
    from reader import make_reader
    db, workers, n, port, add = sys.argv[1:6]
    workers, n, hosts = int(workers), int(n), int(sys.argv[6])
    r = make_reader(db)
    if add == "1":
        for i in range(n):
            r.add_feed(f"http://127.0.0.{i % hosts + 1}:{port}/feeds/{i}.xml")
    r.update_feeds(scheduled=False, workers=workers)
    r.close()
    """
)


def engage_version() -> Timed:
    """What every engage command pays before it does anything: the yardstick for the
    fixed cost of a small poll."""
    return timed_process([sys.executable, "-m", "engage", "--version"])


def engage_poll(config: Path, data: Path) -> Timed:
    return timed_process(
        [sys.executable, "-m", "engage", "poll", "--all", "--config", str(config),
         "--data", str(data)]
    )


def reader_update(db: Path, workers: int, server: FeedServer, add: bool) -> Timed:
    return timed_process(
        [sys.executable, "-c", READER_SCRIPT, str(db), str(workers), str(server.n),
         str(server.port), "1" if add else "0", str(HOSTS)]
    )


def run(n: int, reader_workers: tuple[int, ...] = (1, 4, 16)) -> dict[str, float]:
    server = FeedServer(n)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = write_watchlist(folder, server)
            floor = parse_floor(n)
            cold = engage_poll(config, folder / "data")
            # A no-change poll and the start-up in turn, best of three each: the small
            # watchlist's target is a ratio of the two.
            same_runs, startups = [], []
            for _ in range(3):
                same_runs.append(engage_poll(config, folder / "data"))
                startups.append(engage_version())
            same = min(same_runs, key=lambda t: t.seconds)
            startup = min(t.seconds for t in startups)
            server.bump(0.1)
            changed = engage_poll(config, folder / "data")

            best: tuple[float, int, Timed] | None = None
            for workers in reader_workers:
                db = folder / f"reader-{workers}.sqlite"
                t = reader_update(db, workers, server, add=True)
                if best is None or t.seconds < best[0]:
                    best = (t.seconds, workers, t)
            assert best is not None
            workers = best[1]
            db = folder / f"reader-{workers}.sqlite"
            r_same = reader_update(db, workers, server, add=False)
            server.bump(0.1)
            r_changed = reader_update(db, workers, server, add=False)
            # engage sees this second bump too, so both pollers are timed on a changed set.
            changed2 = engage_poll(config, folder / "data")
    finally:
        server.stop()
    return {
        "n": n,
        "floor": floor,
        "cold": cold.seconds,
        "same": same.seconds,
        "changed": min(changed.seconds, changed2.seconds),
        "peak_mb": max(cold.peak_rss_mb, same.peak_rss_mb, changed.peak_rss_mb),
        "startup": startup,
        "reader_workers": workers,
        "reader_cold": best[2].seconds,
        "reader_same": r_same.seconds,
        "reader_changed": r_changed.seconds,
        "reader_peak_mb": max(best[2].peak_rss_mb, r_same.peak_rss_mb, r_changed.peak_rss_mb),
    }


def report(rows: list[dict[str, float]]) -> str:
    out = [
        "| N | parse floor | engage cold | reader cold | engage no change | reader no change "
        "| engage 10% changed | reader 10% changed | engage peak memory | reader peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['n']:.0f} | {r['floor']:.2f} s | {r['cold']:.2f} s | "
            f"{r['reader_cold']:.2f} s ({r['reader_workers']:.0f} workers) | "
            f"{r['same']:.2f} s | {r['reader_same']:.2f} s | {r['changed']:.2f} s | "
            f"{r['reader_changed']:.2f} s | {r['peak_mb']:.0f} MB | {r['reader_peak_mb']:.0f} MB |"
        )
    big, small = rows[-1], rows[0]
    out += [
        "",
        f"At N={big['n']:.0f}:",
        f"- cold / parse floor = {big['cold'] / big['floor']:.2f} (target <= 0.40)",
        f"- reader cold / engage cold = {big['reader_cold'] / big['cold']:.2f} (target >= 2.5)",
        f"- reader no change / engage no change = {big['reader_same'] / big['same']:.2f} "
        "(target >= 2)",
        f"- reader 10% changed / engage 10% changed = "
        f"{big['reader_changed'] / big['changed']:.2f} (target >= 2)",
        f"- engage peak memory (PSS), all processes = {big['peak_mb']:.0f} MB (target <= 150)",
    ]
    if len(rows) > 1:
        scale = big["n"] / small["n"]
        out.append(
            f"- growth N={small['n']:.0f} -> {big['n']:.0f} (x{scale:.0f}): cold "
            f"x{big['cold'] / small['cold']:.1f}, no change x{big['same'] / small['same']:.1f}, "
            f"10% changed x{big['changed'] / small['changed']:.1f} (linear: about x{scale:.0f} "
            "once start-up is paid)"
        )
    if small["n"] <= SMALL_WATCHLIST:
        out.append(
            f"At N={small['n']:.0f}: no change / `engage --version` = "
            f"{small['same'] / small['startup']:.1f} ({small['same']:.2f} s / "
            f"{small['startup']:.2f} s; target <= 4)"
        )
    return "\n".join(out)


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        print(f"poll benchmark: N={n} ...", file=sys.stderr, flush=True)
        rows.append(run(n))
    print(report(rows))
