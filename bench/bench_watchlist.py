"""Loading feeds.yaml: a realistic 1,000-person watchlist, next to the hostile shapes that
used to take time in the square of their size (a long run of comment lines) or hang (an
alias bomb), all measured in one run.

Reported as CPU seconds of this process (the machines are shared and noisy: wall-clock
time there mostly measures the neighbours) and as ratios to the realistic watchlist's own
load time. What the numbers should show: the realistic
watchlist loads as before; comment lines cost time in proportion to their size; a file
above the size limit and an alias bomb are refused at once.

    python -m bench watchlist
    python bench/bench_watchlist.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

PEOPLE = 1000
RUNS = 3


def realistic(people: int = PEOPLE) -> str:
    """A watchlist the way the example feeds.yaml is written, `people` times over: names,
    aliases, sites, feeds in both forms, handles, knows, notes, and a comment here and there."""
    lines = [
        "# engage watchlist",
        "me:",
        "  name: Bench Me",
        "  aliases: [bench, B. Me]",
        "  sites: [https://me.example/]",
        "  feeds:",
        "    - https://me.example/feed/",
        "people:",
    ]
    for i in range(people):
        lines += [
            f"  - name: Person {i:04d}",
            f"    aliases: [p{i}, P. {i:04d}]",
            f"    sites: [https://p{i}.example.org/]",
            "    feeds:",
            f"      - https://p{i}.example.org/feed/",
            "      # the site-wide comment feed: replies to my comments show up here",
            f"      - url: https://p{i}.example.org/comments/feed/",
            "        kind: comments",
            "    handles:",
            f'      mastodon: "@p{i}@social.example.org"',
            f"    knows: [Person {(i + 1) % people:04d}]",
            "    tags: [indieweb, feeds]",
            "    notes: >",
            f"      Met at a meetup in {2000 + i % 25}; writes about feed readers and the",
            "      small web, answers comments within a day or two.",
            "",
        ]
    lines += ["contacts:", "  - name: A Contact", "    strength: 0.6", "settings:",
              "  poll_interval: 60"]  # fmt: skip
    return "\n".join(lines) + "\n"


def comment_lines(size: int) -> str:
    """A small watchlist followed by `size` bytes of comment lines: the shape whose load time
    grew with the square of its size (ruamel joins the comments after the last value one
    string concatenation at a time)."""
    line = "# an old note, kept as a comment, about someone I no longer follow\n"
    return realistic(1) + line * (size // len(line))


def alias_bomb(levels: int = 9) -> str:
    """Each anchor lists the previous one nine times: 9**levels strings once expanded."""
    lines = ['a0: &a0 ["lol"]']
    for n in range(1, levels + 1):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\nme: {name: x}\n"


def _best(load: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.process_time()
        load()
        times.append(time.process_time() - started)
    return min(times)


def run() -> list[tuple[str, int, float]]:
    from engage.config import MAX_WATCHLIST_BYTES, load_text
    from engage.errors import ConfigError

    def attempt(text: str) -> Callable[[], object]:
        def load() -> object:
            try:
                return load_text(text)
            except ConfigError as exc:
                return exc

        return load

    shapes = [
        (f"realistic, {PEOPLE} people", realistic()),
        ("comment lines, 0.4 MB", comment_lines(400_000)),
        ("comment lines, 0.8 MB", comment_lines(800_000)),
        ("comment lines, at the limit", comment_lines(MAX_WATCHLIST_BYTES - 4096)),
        ("above the size limit", comment_lines(MAX_WATCHLIST_BYTES + 4096)),
        ("alias bomb, 9 levels", alias_bomb()),
    ]
    return [(name, len(text.encode()), _best(attempt(text))) for name, text in shapes]


def report(rows: list[tuple[str, int, float]]) -> str:
    base = rows[0][2]
    out = ["| watchlist | size | load (CPU) | × realistic |", "|---|---|---|---|"]
    for name, size, seconds in rows:
        out.append(f"| {name} | {size / 1e6:.2f} MB | {seconds:.3f} s | {seconds / base:.2f} |")
    return "\n".join(out)


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    main()
