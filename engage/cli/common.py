"""What every command shares: finding the watchlist and the data folder, opening the
store, and turning user mistakes into one clear message with exit code 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engage.errors import EngageError

if TYPE_CHECKING:
    from engage.models import Watchlist
    from engage.store import Store

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


def resolve_config_path(explicit: Path | None) -> Path:
    """--config, then $ENGAGE_CONFIG, then ./feeds.yaml, then the user config folder."""
    if explicit is not None:
        return explicit
    env = os.environ.get("ENGAGE_CONFIG")
    if env:
        return Path(env)
    local = Path("feeds.yaml")
    if local.exists():
        return local
    import platformdirs

    return Path(platformdirs.user_config_dir("engage")) / "feeds.yaml"


def load_watchlist(explicit: Path | None) -> Watchlist:
    from engage.config import load

    path = resolve_config_path(explicit)
    if not path.exists():
        raise EngageError(
            f"{path}: no watchlist here (pass --config PATH, set ENGAGE_CONFIG, "
            "or copy the example feeds.yaml)"
        )
    return load(path)


def resolve_data_dir(explicit: Path | None, watchlist: Watchlist | None = None) -> Path:
    """--data, then $ENGAGE_DATA, then settings.data_dir (relative to the watchlist),
    then the user data folder."""
    if explicit is not None:
        return explicit
    env = os.environ.get("ENGAGE_DATA")
    if env:
        return Path(env)
    if watchlist is not None and watchlist.settings.data_dir:
        data = Path(watchlist.settings.data_dir).expanduser()
        if not data.is_absolute() and watchlist.path:
            data = Path(watchlist.path).parent / data
        return data
    import platformdirs

    return Path(platformdirs.user_data_dir("engage"))


def open_store(data_dir: Path | None, watchlist: Watchlist | None = None) -> Store:
    from engage.store import Store

    return Store(resolve_data_dir(data_dir, watchlist))
