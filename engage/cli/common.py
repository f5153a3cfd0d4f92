"""What every CLI command shares: turning user mistakes into one clear message with exit
code 2, and quoting names back the way a shell wants them. The --config and --data options
and opening the application are in engage.launch, shared with the daemon's command."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import click

from engage.cli.output import echo
from engage.errors import EngageError, Interrupted


def run_main(group: click.Group, argv: list[str]) -> Any:
    """Run the CLI; an EngageError becomes its message on stderr and exit code 2."""
    try:
        return group.main(args=argv, prog_name="engage", standalone_mode=False)
    except EngageError as exc:
        for line in exc.lines:
            echo(line, err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        echo("Stopped at once (signal sent twice): nothing more was saved.", err=True)
        sys.exit(exc.exit_code)


def quote(name: str) -> str:
    """A name as the user would type it in a shell command."""
    import shlex

    return shlex.quote(name)


# How records of the store are counted in a sentence: (one, many).
RECORD_WORDS: dict[str, tuple[str, str]] = {
    "events": ("event", "events"),
    "feeds": ("feed", "feeds"),
    "posts": ("post", "posts"),
    "comments": ("comment", "comments"),
    "intro_evidence": ("piece of intro evidence", "pieces of intro evidence"),
    "linkedin_contacts": ("LinkedIn contact", "LinkedIn contacts"),
    "tombstones": ("undo marker", "undo markers"),
    "confirmations": ("confirmed detection", "confirmed detections"),
    "trusted_names": ("trusted name", "trusted names"),
    "social_accounts": ("social account", "social accounts"),
    "social_posts": ("social status", "social statuses"),
}


def records(counts: Mapping[str, int], *, zeros: bool = False) -> str:
    """'5 events, 2 feeds and 40 posts' from counts by store table (with `zeros`, the
    tables with none too)."""
    parts = [
        f"{counts.get(name, 0)} {one if counts.get(name, 0) == 1 else many}"
        for name, (one, many) in RECORD_WORDS.items()
        if zeros or counts.get(name, 0)
    ]
    if not parts:
        return "no stored records"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
