"""What every command shares: the --config and --data options, opening the application,
and turning user mistakes into one clear message with exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engage.errors import EngageError

if TYPE_CHECKING:
    from engage.app import Engage

F = TypeVar("F", bound=Callable[..., Any])


def run_main(group: click.Group, argv: list[str]) -> Any:
    """Run the CLI; an EngageError becomes its message on stderr and exit code 2."""
    try:
        return group.main(args=argv, prog_name="engage", standalone_mode=False)
    except EngageError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The watchlist (default: $ENGAGE_CONFIG, ./feeds.yaml, then the user config folder).",
    )(func)


def data_option(func: F) -> F:
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The data folder (default: $ENGAGE_DATA, settings.data_dir, the user data folder).",
    )(func)


def open_app(config_path: Path | None, data_dir: Path | None = None) -> Engage:
    """The application for these options; its notices go to stderr."""
    from engage.app import Engage

    return Engage(config_path, data_dir, notify=lambda line: click.echo(line, err=True))


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
