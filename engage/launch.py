"""What every command-line entry point shares, the CLI's commands and the daemon's `run`
alike: the --config and --data options (and the report's --port, for `engage serve` and
`engage run --serve`), and opening the application with its notices on stderr. A leaf for
the surfaces, so none of them imports another for it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engage.clean import clean_text

if TYPE_CHECKING:
    from engage.app import Engage

F = TypeVar("F", bound=Callable[..., Any])

# The web report's port on 127.0.0.1, for `engage serve` and `engage run --serve` alike.
REPORT_PORT = 8723


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
        # Not file_okay=False: the store says in one line what is wrong with the folder.
        type=click.Path(path_type=Path),
        default=None,
        help="The data folder (default: $ENGAGE_DATA, settings.data_dir, the user data folder).",
    )(func)


def port_option(func: F) -> F:
    return click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=REPORT_PORT,
        show_default=True,
        help="The report's port on 127.0.0.1 (0: any free port). It never listens elsewhere.",
    )(func)


def open_app(config_path: Path | None, data_dir: Path | None = None) -> Engage:
    """The application for these options; its notices go to stderr, cleaned like every
    line the CLI prints (engage.cli.output): a notice may quote a feed."""
    from engage.app import Engage

    return Engage(
        config_path, data_dir, notify=lambda line: click.echo(clean_text(line), err=True)
    )
