"""`engage check`, `engage add-person` and `engage add-feed`, run as a user runs them:
a real process, real files, exit codes and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "feeds.yaml"

SMALL = """\
# Comments stay.
me:
  name: Robin Quill
  feeds:
    - https://robin.example.net/feed/

people:
  - name: Dana Vell   # met at a meetup
    feeds:
      - https://dana.example.org/feed/
"""


def engage(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ENGAGE_CONFIG"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "from engage.cli import main; main()", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_on_the_example_prints_the_summary(tmp_path: Path) -> None:
    result = engage("check", "--config", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"{EXAMPLE}: OK\n")
    assert "  me:       Robin Quillfeather (2 feeds, 3 aliases)\n" in out
    assert "  people:   5\n" in out
    assert "  contacts: 2\n" in out
    assert "  feeds:    13 (5 blog, 1 comments, 1 forum, 2 podcast, 3 social, 1 video)\n" in out
    assert "  polling:  every 60 min, 8 at a time, 2 per host\n" in out
    assert "  digest:   daily at 07:30, e-mailed to robin@robin.example.net" in out
    assert "  meter:    my_favour 4 points, recency_days 45\n" in out
    assert result.stderr == ""


def test_check_on_a_broken_file_lists_every_problem_on_stderr_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "me:\n"
        "  name: Robin\n"
        "  nmae: Rob\n"
        "people:\n"
        "  - name: Dana\n"
        "    feeds: [ftp://dana.example.org/feed]\n"
        "    knows: [Dnaa]\n"
        "settings:\n"
        "  poll_interval: 5\n",
        encoding="utf-8",
    )
    # No --config: ./feeds.yaml is found, and messages use the path as found.
    result = engage("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "feeds.yaml:3:3: unknown key 'nmae' in me (did you mean 'name'?)",
        "feeds.yaml:6:13: people[0].feeds[0].url: 'ftp://dana.example.org/feed' is not an "
        "http(s) URL (write it in full, like https://example.org/feed/)",
        "feeds.yaml:7:13: knows 'Dnaa', who is nobody in this file (did you mean 'Dana'?)",
        "feeds.yaml:9:18: poll_interval is 5 minutes, below the floor of 15 (polling faster "
        "is impolite to the feeds' hosts; use 15 or more)",
    ]


def test_check_on_a_yaml_syntax_error_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "watch.yaml").write_text("me:\n  name: [Robin\n", encoding="utf-8")
    result = engage("check", "--config", "watch.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("watch.yaml:3:1: YAML syntax error: ")


def test_check_finds_the_watchlist_through_engage_config(tmp_path: Path) -> None:
    watchlist = tmp_path / "elsewhere.yaml"
    watchlist.write_text(SMALL, encoding="utf-8")
    result = engage("check", cwd=tmp_path, env={"ENGAGE_CONFIG": str(watchlist)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{watchlist}: OK\n")
    assert "  people:   1\n" in result.stdout


def test_check_without_a_watchlist_says_where_it_looked(tmp_path: Path) -> None:
    result = engage("check", "--config", "missing.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("missing.yaml: no watchlist here (pass --config PATH")


def test_add_person_and_add_feed_edit_the_file_in_place(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL, encoding="utf-8")
    result = engage(
        "add-person", "Ola Brisk",
        "--site", "https://ola.example.org/",
        "--feed", "https://ola.example.org/rss",
        "--alias", "ola_b",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Added Ola Brisk with 1 feed to feeds.yaml.\n"
    result = engage(
        "add-feed", "dana vell", "https://pod.example.org/dana.xml",
        "--kind", "podcast", "--title", "Dana Talks",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == SMALL.replace(
        "      - https://dana.example.org/feed/\n",
        "      - https://dana.example.org/feed/\n"
        "      - url: https://pod.example.org/dana.xml\n"
        "        kind: podcast\n"
        "        title: Dana Talks\n",
    ) + (
        "  - name: Ola Brisk\n"
        "    aliases:\n"
        "      - ola_b\n"
        "    sites:\n"
        "      - https://ola.example.org/\n"
        "    feeds:\n"
        "      - https://ola.example.org/rss\n"
    )
    assert engage("check", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("add-feed", "Ola", "https://dana.example.org/feed/"),
            "Dana Vell already has feed https://dana.example.org/feed/",
            id="a feed already listed",
        ),
        pytest.param(
            ("add-person", "DANA VELL"),
            "DANA VELL is already in feeds.yaml",
            id="a person already listed",
        ),
        pytest.param(
            ("add-feed", "Dana Vel", "https://x.example.org/feed"),
            "nobody called 'Dana Vel' in feeds.yaml (did you mean 'Dana Vell'?)",
            id="a misspelt person",
        ),
    ],
)
def test_duplicates_and_strangers_are_refused_with_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(SMALL + "  - name: Ola\n", encoding="utf-8")
    result = engage(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert path.read_text(encoding="utf-8") == SMALL + "  - name: Ola\n"


@pytest.mark.parametrize("command", ["check", "add-person", "add-feed"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    from click.testing import CliRunner

    from engage.cli import cli

    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"engage {command}" in result.output
