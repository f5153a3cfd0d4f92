"""The web report over 200 people and 50,000 events (bench_status's synthetic year, plus
twenty posts per person): how fast the People page and a person's page answer a warm
server, next to `engage status --json` on the same data in the same run.

A real `engage serve` process on 127.0.0.1, real HTTP (one keep-alive client, as a
browser tab). "Warm": every page has been asked for once, so the read model is loaded
and the moment's readings are computed. Then the People page and the pages of a sample of
people (the busiest, with about 5,000 events, and quieter ones) are asked for in turn,
and each kind's 50th and 95th percentile and worst time are reported, in milliseconds and
as a fraction of one `engage status --json` (best of 3, start-up included).

The readings are computed once per minute (docs/design.md, "Web report"): the request
that opens a new minute pays for everyone's readings again. It is measured on its own
(the benchmark waits for the next minute), as is the very first request, which also loads
the store; either also shows up in the worst times when the run crosses a minute.

Target: p95 under 100 ms for both pages.

    python -m bench web
"""

from __future__ import annotations

import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

from bench import bench_status

ROUNDS = 12  # People page and each sampled person, this many times each
SAMPLE = 16  # people whose pages are asked for (the busiest first)
POSTS_PER_PERSON = 20
TARGET_MS = 100.0
URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/")
START_TIMEOUT = 120.0  # seconds: a hang guard on a loaded machine, not a claim


def write_posts(folder: Path, seed: int = 7) -> None:
    """Twenty posts per person in cache.json, so a person's page shows posts as it would."""
    from engage.models import Post
    from engage.store import Store

    rng = random.Random(seed)
    posts = []
    for i in range(bench_status.PEOPLE):
        for n in range(POSTS_PER_PERSON):
            when = bench_status.NOW - timedelta(days=rng.randrange(180), hours=rng.randrange(24))
            posts.append(
                Post(
                    person=bench_status.person_name(i),
                    feed=f"https://p{i}.example/feed/",
                    id=f"https://p{i}.example/post/{n}/",
                    link=f"https://p{i}.example/post/{n}/",
                    title=f"Post {n} of person {i}",
                    published=when,
                    summary="<p>A paragraph of a summary, <em>sanitized</em>, a few lines long."
                    " It links <a href='https://example.org/'>somewhere</a>.</p>" * 3,
                    first_seen=when,
                )
            )
    with Store(folder).transaction(now=bench_status.NOW) as tx:
        tx.put_posts(posts)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def _serve(config: Path, data: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engage", "serve", "--port", "0",
         "--config", str(config), "--data", str(data)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = URL_LINE.search(line)
        if found:
            return proc, int(found.group(1))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("engage serve did not start")


def _timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-web-") as tmp:
        folder = Path(tmp)
        config = bench_status.write_watchlist(folder)
        data = folder / "data"
        bench_status.write_store(data)
        write_posts(data)
        env = {**os.environ, "ENGAGE_CACHE": str(folder / "cache")}
        py = sys.executable
        (status,) = bench_status.best_of(
            [py, "-m", "engage", "status", "--json", "--config", str(config),
             "--data", str(data)],
            env=env,
        )  # fmt: skip
        proc, port = _serve(config, data, env)
        try:
            people_times, person_times, first, minute = _measure(port)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    rows: list[dict[str, object]] = [
        {"what": "engage status --json (best of 3, for the ratio)", "ms": status * 1000},
        {"what": "first request (loads the store, everyone's readings)", "ms": first * 1000},
        {"what": "first request of a new minute (everyone's readings)", "ms": minute * 1000},
    ]
    for what, times in (("People page /", people_times), ("a person's page", person_times)):
        p95 = _percentile(times, 0.95)
        rows.append(
            {
                "what": what,
                "ms": statistics.median(times) * 1000,
                "p95": p95 * 1000,
                "max": max(times) * 1000,
                "ratio": p95 / status,
                "ok": p95 * 1000 < TARGET_MS,
            }
        )
    return rows


def _measure(port: int) -> tuple[list[float], list[float], float, float]:
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=120) as client:
        first = _timed(client, "/")
        slugs = [f"/people/person-{i:03d}" for i in range(SAMPLE // 2)]
        slugs += [f"/people/person-{i:03d}" for i in range(100, 100 + SAMPLE - len(slugs))]
        for path in slugs:  # warm: every page once
            _timed(client, path)
        people: list[float] = []
        person: list[float] = []
        for _ in range(ROUNDS):
            for path in slugs:
                people.append(_timed(client, "/"))
                person.append(_timed(client, path))
        time.sleep(61 - time.time() % 60)  # a second into the next minute
        minute = _timed(client, "/")
    return people, person, first, minute


def report(rows: list[dict[str, object]]) -> str:
    head = f"{'':<54} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/status':>11}  target"
    out = [head]
    for row in rows:
        if "p95" not in row:
            out.append(f"{row['what']:<54} {row['ms']:>8.1f}")
            continue
        verdict = "ok" if row["ok"] else "MISSED"
        out.append(
            f"{row['what']:<54} {row['ms']:>8.1f} {row['p95']:>8.1f} {row['max']:>8.1f} "
            f"{row['ratio']:>11.3f}  p95 < {TARGET_MS:.0f} ms {verdict}"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(report(run()))
