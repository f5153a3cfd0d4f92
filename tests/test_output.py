"""engage.cli.output, the one door for what the CLI writes: no command writes another way,
data is cleaned and never markup, JSON keeps or cleans as it must, and the feeds table's
pieces (a URL shortened in the middle, widths shared by priority) do what they say."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from engage.clean import unsafe_characters
from engage.cli.output import (
    echo,
    echo_json,
    feed_label,
    fit_columns,
    json_document,
    shorten_middle,
)

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / "engage" / "cli"
NASTY = "\x1b]0;pwned\x07\x1b[31mRED\x9b1m\u202eX"

# Ways to write that bypass the cleaning: only engage/cli/output.py may use them.
FORBIDDEN_CALLS = {
    "click.echo", "click.secho", "click.confirm", "click.prompt", "click.style", "print",
    "sys.stdout.write", "sys.stderr.write", "sys.stdout.buffer.write", "os.write",
}  # fmt: skip
# rich's progress bar draws fixed words; a Console, a Table or markup of a command's own
# would print data without the cleaning and read it as markup.
ALLOWED_RICH = {"rich.progress"}


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def bypasses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and dotted(node.func) in FORBIDDEN_CALLS:
            found.append(f"{path.name}:{node.lineno}: {dotted(node.func)}()")
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        for module in modules:
            if module.split(".")[0] == "rich" and module not in ALLOWED_RICH:
                found.append(f"{path.name}:{node.lineno}: import {module}")
    return found


def test_no_command_writes_past_the_output_module() -> None:
    modules = sorted(p for p in CLI.glob("*.py") if p.name != "output.py")
    assert len(modules) >= 7
    assert [line for path in modules for line in bypasses(path)] == []


def test_the_rule_finds_a_bypass(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "import sys\nimport click\nfrom rich.console import Console\n"
        "def f(x):\n    click.echo(x)\n    print(x)\n    sys.stdout.write(x)\n",
        encoding="utf-8",
    )
    assert bypasses(sneaky) == [
        "sneaky.py:3: import rich.console",
        "sneaky.py:5: click.echo()",
        "sneaky.py:6: print()",
        "sneaky.py:7: sys.stdout.write()",
    ]


def test_echo_and_echo_json_clean_what_they_print(capsys: pytest.CaptureFixture[str]) -> None:
    echo(f"title {NASTY}")
    echo(f"error {NASTY}", err=True)
    echo_json([{"title": NASTY, "n": 1, "none": None, "nested": {"list": [NASTY]}}])
    out, err = capsys.readouterr()
    assert err == "error REDX\n"
    first, rest = out.split("\n", 1)
    assert first == "title REDX"
    cleaned = {"title": "REDX", "n": 1, "none": None, "nested": {"list": ["REDX"]}}
    assert json.loads(rest) == [cleaned]


def test_an_export_keeps_every_character_but_writes_none_raw() -> None:
    document = {"title": NASTY + "\x7f\x85\u2066", "café": "naïve — ok"}
    text = json_document(document)
    assert json.loads(text) == document  # nothing lost: a backup
    assert not list(unsafe_characters(text))
    assert "naïve — ok" in text  # other text stays readable


FEED_LABELS = [
    ("https://dana.example.org/feed/", "dana.example.org/feed/", 16),
    ("http://127.0.0.1:8080/a/b.xml", "127.0.0.1:8080/a/b.xml", 14),
    ("https://www.youtube.com/feeds/videos.xml?channel_id=UC1",
     "www.youtube.com/feeds/videos.xml?channel_id=UC1", 15),
    ("not a url", "not a url", 0),
]  # fmt: skip


@pytest.mark.parametrize(("url", "label", "host"), FEED_LABELS)
def test_a_feed_is_named_by_host_and_path(url: str, label: str, host: int) -> None:
    assert feed_label(url) == (label, host)


SHORTEN = [
    # (situation, text, width, keep, shortened)
    ("what fits is whole", "host.org/feed/", 20, 8, "host.org/feed/"),
    ("the host stays, the end stays, cut at a slash",
     "127.0.0.1:45678/blogs/a-long-folder/another-level/feed/atom.xml", 32, 15,
     "127.0.0.1:45678…/feed/atom.xml"),
    ("a long host keeps two thirds of the room",
     "feeds.example-podcast-host.com/shows/episodes.rss", 25, 30, "feeds.example-po…odes.rss"),
    ("without a host the middle goes", "abcdefghijklmnopqrstuvwxyz", 11, 0, "abcde…vwxyz"),
    ("one column is an ellipsis", "abcdef", 1, 0, "…"),
    ("no column is nothing", "abcdef", 0, 0, ""),
]  # fmt: skip


@pytest.mark.parametrize(("text", "width", "keep", "shortened"), [r[1:] for r in SHORTEN],
                         ids=[r[0] for r in SHORTEN])  # fmt: skip
def test_shorten_middle(text: str, width: int, keep: int, shortened: str) -> None:
    assert shorten_middle(text, width, keep=keep) == shortened
    assert len(shortened) <= max(width, 0)


FIT = [
    # (situation, total, wants, floors, order, widths)
    ("everything fits", 50, [10, 4, 20], [5, 4, 10], [2, 0], [10, 4, 20]),
    ("the first in order gets the room first", 30, [20, 4, 30], [8, 4, 10], [2, 0], [8, 4, 18]),
    ("then the next", 40, [20, 4, 22], [8, 4, 10], [2, 0], [14, 4, 22]),
    ("a column wanting less than its floor gets what it wants", 40, [3, 4, 22], [8, 4, 10],
     [2, 0], [3, 4, 22]),
    ("too narrow: the floors, and rich squeezes the rest", 10, [20, 4, 30], [8, 4, 10], [2, 0],
     [8, 4, 10]),
]  # fmt: skip


@pytest.mark.parametrize(("total", "wants", "floors", "order", "widths"),
                         [r[1:] for r in FIT], ids=[r[0] for r in FIT])  # fmt: skip
def test_fit_columns(
    total: int, wants: list[int], floors: list[int], order: list[int], widths: list[int]
) -> None:
    assert fit_columns(total, wants, floors, order) == widths
