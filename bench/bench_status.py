"""`engage status --json` and `engage explain` over 200 people and 50,000 events (one busy
year), next to `engage --version` measured in the same run: what any command pays before
it does anything.

Target: each at most 4x `engage --version`. All are timed as real subprocesses (Python
start-up and imports included, as a user would see them), best of 3, run in turn. The
store-load-only, watchlist and meter rows say where the rest of the time goes.

    python -m bench status
    python bench/bench_status.py
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PEOPLE = 200
CONTACTS = 10
EVENTS = 50_000
RUNS = 3
NOW = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)
TARGET_RATIO = 4.0

# A busy year: mostly my comments and their replies, some likes, a few meetings and asks.
KIND_WEIGHTS = {
    "my_comment": 30,
    "their_reply": 18,
    "their_like": 15,
    "my_share": 8,
    "their_comment_on_mine": 8,
    "their_mention": 4,
    "my_email_or_dm": 5,
    "their_email_or_dm": 5,
    "my_favour": 2,
    "their_share": 2,
    "met_in_person": 1,
    "call": 1,
    "my_ask": 0.5,
    "ask_accepted": 0.2,
    "ask_declined": 0.2,
}


def person_name(i: int) -> str:
    return f"Person {i:03d}"


def write_watchlist(folder: Path) -> Path:
    lines = ["me:", "  name: Bench Me", "  sites: [https://me.example/]", "people:"]
    for i in range(PEOPLE):
        lines += [f"  - name: {person_name(i)}", f"    sites: [https://p{i}.example/]"]
    lines.append("contacts:")
    for c in range(CONTACTS):
        known = ", ".join(person_name((c * 20 + k) % PEOPLE) for k in range(5))
        lines += [f"  - name: Contact {c:02d}", f"    knows: [{known}]"]
    path = folder / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_store(folder: Path, seed: int = 5) -> None:
    from engage.models import DIRECTION, Event, EventKind, EventSource
    from engage.store import Store

    rng = random.Random(seed)
    kinds = [EventKind(k) for k in KIND_WEIGHTS]
    weights = list(KIND_WEIGHTS.values())
    # Some people are busy, most are quiet: a Zipf-like share of the events.
    person_weights = [1.0 / (i + 1) ** 0.8 for i in range(PEOPLE)]
    people = rng.choices(range(PEOPLE), weights=person_weights, k=EVENTS)
    chosen = rng.choices(kinds, weights=weights, k=EVENTS)
    events = []
    for n, (p, kind) in enumerate(zip(people, chosen, strict=True)):
        when = NOW - timedelta(seconds=rng.randrange(365 * 86400))
        events.append(
            Event(
                id=f"bench:{n}",
                person=person_name(p),
                kind=kind,
                when=when,
                direction=DIRECTION[kind],
                source=EventSource.AUTO,
                url=f"https://p{p}.example/post/{n % 997}#comment-{n}",
                evidence="a short sanitized snippet of the comment, as detection keeps it",
            )
        )
    store = Store(folder)
    with store.transaction(now=NOW) as tx:
        tx.add_events(events)


def best_of(*commands: list[str], env: dict[str, str] | None = None) -> list[float]:
    """Best of RUNS for each command, run in turn (a, b, a, b, ...) so that a slow spell
    on a shared machine hits both sides of a ratio alike."""
    best = [float("inf")] * len(commands)
    for _ in range(RUNS):
        for i, argv in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _meter_only(config: Path, data: Path) -> float:
    """The meter's own share: every reading, without start-up or loading."""
    from engage.config import load
    from engage.meter import read_meter
    from engage.models import Event
    from engage.store import Store

    watchlist = load(config)
    events = Store(data).load_precious_only().events
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        by_person: dict[str, list[Event]] = {}
        for event in events:
            by_person.setdefault(event.person.casefold(), []).append(event)
        for person in watchlist.people:
            group = by_person.get(person.name.casefold(), [])
            read_meter(person.name, group, NOW, watchlist.settings.meter, history_days=0)
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="engage-bench-status-") as tmp:
        folder = Path(tmp)
        config = write_watchlist(folder)
        data = folder / "data"
        write_store(data)
        py = sys.executable
        # The watchlist cache lives in the run's own folder: the first status run fills
        # it (a miss, as after any edit of feeds.yaml), the best of the others is a hit.
        env = {**os.environ, "ENGAGE_CACHE": str(folder / "cache")}
        load_only = f"from engage.store import Store; Store({str(data)!r}).load_precious_only()"
        at = ["--at", NOW.isoformat(), "--config", str(config), "--data", str(data)]
        startup, baseline, status, explain = best_of(
            [py, "-m", "engage", "--version"],
            [py, "-c", load_only],
            [py, "-m", "engage", "status", "--json", *at],
            [py, "-m", "engage", "explain", person_name(0), *at],
            env=env,
        )
        watchlist, cached = best_of(
            [
                py,
                "-c",
                "import pathlib; from engage.config import load; "
                f"load(pathlib.Path({str(config)!r}))",
            ],
            [
                py,
                "-c",
                "import pathlib; from engage.watchlist_cache import load_watchlist; "
                f"load_watchlist(pathlib.Path({str(config)!r}))",
            ],
            env=env,
        )
        meter = _meter_only(config, data)
        start = time.perf_counter()
        subprocess.run([py, "-c", "pass"], check=True)
        python_alone = time.perf_counter() - start
    return [
        {"what": "python -c pass (start-up only)", "seconds": round(python_alone, 3)},
        {"what": "engage --version (baseline)", "seconds": round(startup, 3)},
        {"what": "store load only (for reference)", "seconds": round(baseline, 3)},
        {"what": "watchlist load only, parsed (for reference)", "seconds": round(watchlist, 3)},
        {"what": "watchlist load only, cached (as the CLI does)", "seconds": round(cached, 3)},
        {"what": "meter only, in-process (200 readings)", "seconds": round(meter, 3)},
        _verdict(f"engage status --json ({PEOPLE} people, {EVENTS:,} events)", status, startup),
        _verdict(f"engage explain '{person_name(0)}' (the busiest)", explain, startup),
    ]


def _verdict(what: str, seconds: float, startup: float) -> dict[str, object]:
    ratio = seconds / startup
    return {
        "what": what,
        "seconds": round(seconds, 3),
        "ratio": round(ratio, 2),
        "target": f"<= {TARGET_RATIO:.0f}x engage --version",
        "ok": ratio <= TARGET_RATIO,
    }


def report(rows: list[dict[str, object]]) -> str:
    out = [f"{'':<58} {'best of 3':>10} {'x --version':>11}  target"]
    for row in rows:
        ratio = row.get("ratio")
        target = row.get("target", "")
        verdict = "" if "ok" not in row else ("  ok" if row["ok"] else "  MISSED")
        out.append(
            f"{row['what']:<58} {row['seconds']:>9.3f}s "
            f"{(f'{ratio:.2f}' if isinstance(ratio, float) else ''):>11}  {target}{verdict}"
        )
    return "\n".join(out)


if __name__ == "__main__":
    print(report(run()))
