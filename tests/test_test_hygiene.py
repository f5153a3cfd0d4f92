"""The suite's own rules, checked: no test asserts a speed (a speed belongs in
`make bench`, measured as ratios; a hang is caught by a timeout argument, a deadline in a
waiting loop, or conftest.finishes), and no test is skipped."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
STOPWATCHES = {"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time",
               "process_time_ns", "time", "time_ns"}  # fmt: skip
SKIPS = re.compile(r"pytest\.(?:skip|importorskip)\(|mark\.skip(?:if)?\b")


def _reads_a_stopwatch(node: ast.AST, timed: set[str]) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            func = inner.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value if isinstance(func, ast.Attribute) else None
            if name in STOPWATCHES and (name != "time" or getattr(owner, "id", "") == "time"):
                return True
        if isinstance(inner, ast.Name) and inner.id in timed:
            return True
    return False


def speed_asserts(path: Path) -> list[str]:
    """Every assert that compares a clock reading, or a name computed from one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    timed: set[str] = set()
    for node in ast.walk(tree):  # names that hold a clock reading or a difference of them
        if isinstance(node, ast.Assign) and _reads_a_stopwatch(node.value, timed):
            timed.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return [
        f"{path.name}:{node.lineno}: {ast.unparse(node.test)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert) and _reads_a_stopwatch(node.test, timed)
    ]


def sources() -> list[Path]:
    return sorted(p for p in TESTS.glob("*.py") if p.name != Path(__file__).name)


def test_no_test_asserts_a_speed() -> None:
    assert [found for path in sources() for found in speed_asserts(path)] == []


def test_the_rule_finds_a_speed_assert(tmp_path: Path) -> None:
    sneaky = tmp_path / "test_sneaky.py"
    sneaky.write_text(
        "import time\nfrom time import perf_counter\n"
        "def test_a():\n    started = time.monotonic()\n    took = time.monotonic() - started\n"
        "    assert took < 2\n"
        "def test_b():\n    t = perf_counter()\n    assert perf_counter() - t < 1\n"
        "def test_c():\n    deadline = time.monotonic() + 60\n"
        "    while time.monotonic() < deadline:\n        break\n",
        encoding="utf-8",
    )
    assert speed_asserts(sneaky) == [
        "test_sneaky.py:6: took < 2",
        "test_sneaky.py:9: perf_counter() - t < 1",
    ]


def test_no_test_is_skipped() -> None:
    found = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sources()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SKIPS.search(line)
    ]
    assert found == []
