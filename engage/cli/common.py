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
    """The validated watchlist, from the watchlist cache when the file is unchanged."""
    path = resolve_config_path(explicit)
    if not path.exists():
        raise EngageError(
            f"{path}: no watchlist here (pass --config PATH, set ENGAGE_CONFIG, "
            "or copy the example feeds.yaml)"
        )
    key = _watchlist_key(path)
    cached = cached_watchlist(path, key) if key is not None else None
    if cached is not None:
        return cached
    from engage.config import load

    watchlist = load(path)  # a broken file raises here and is never cached
    if key is not None and _watchlist_key(path) == key:  # not edited while we read it
        _remember_watchlist(path, key, watchlist)
    return watchlist


# ---------------------------------------------------------------------------
# The watchlist cache
#
# Loading feeds.yaml means importing ruamel.yaml and pydantic (~0.25 s) and a round-trip
# parse plus validation (~0.2 s for 200 people): measured 0.45 s of the 1.6 s that
# `engage status` took on the 200-person benchmark (bench/bench_status.py). The file
# rarely changes between commands, so the validated Watchlist is kept as JSON (through
# engage.codec, never pickle: nothing from the cache folder is executed) and reused while
# the file's bytes are the same. A hit costs a stat, a read and a hash of the file, and
# decoding the JSON: a few milliseconds, and neither ruamel nor pydantic is imported.
#
# The key holds everything the result depends on: the path as given (it is the label in
# messages and Watchlist.path), the file's size, mtime and a hash of its bytes (so an
# edit within one mtime tick still counts), and this engage's version plus the mtimes of
# the code that validates and shapes it (an editable install changes without a version
# bump). A broken file is never cached, so its errors are reported on every run. Any
# problem with the cache itself (missing, unreadable, stale, damaged) is a miss.

_CACHE_FORMAT = 1


def cache_dir() -> Path:
    """$ENGAGE_CACHE, else the user cache folder (platformdirs)."""
    env = os.environ.get("ENGAGE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("engage"))


def _watchlist_key(path: Path) -> dict[str, Any] | None:
    import hashlib

    from engage import __version__

    try:
        stat = path.stat()
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        code = [Path(__file__).parents[1].joinpath(name).stat().st_mtime_ns for name in _CODE]
    except OSError:
        return None
    return {
        "format": _CACHE_FORMAT,
        "version": __version__,
        "code": code,
        "label": str(path),
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "blake2b": digest,
    }


# The modules whose code decides what a watchlist file becomes.
_CODE = ("config.py", "models.py", "codec.py")


def _cache_file(path: Path) -> Path:
    import hashlib

    name = hashlib.blake2b(str(path.resolve()).encode("utf-8"), digest_size=10).hexdigest()
    return cache_dir() / f"watchlist-{name}.json"


def cached_watchlist(path: Path, key: dict[str, Any] | None = None) -> Watchlist | None:
    """The cached Watchlist for `path` when the cache holds this very file; else None.
    `key` is the file's key when the caller has it already (it costs a read and a hash)."""
    import json

    try:
        raw = _cache_file(path).read_bytes()
    except OSError:
        return None
    key = key if key is not None else _watchlist_key(path)
    if key is None:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        from engage.codec import from_json
        from engage.models import Watchlist

        return from_json(Watchlist, data["watchlist"])
    except (ValueError, KeyError, TypeError):  # damaged or from another shape: a miss
        return None


def _remember_watchlist(path: Path, key: dict[str, Any], watchlist: Watchlist) -> None:
    import json
    import tempfile

    from engage.codec import to_json

    target = _cache_file(path)
    data = json.dumps({"key": key, "watchlist": to_json(watchlist)}, ensure_ascii=False)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
            os.replace(tmp, target)  # readers see the old cache or the new one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a cache that cannot be written only costs speed


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

    folder = resolve_data_dir(data_dir, watchlist)
    if not (folder / "engage.json").exists():
        # A mistyped --data or $ENGAGE_DATA would otherwise show an empty world as if it
        # were the truth ("everyone is cold"); say where the new, empty store is.
        click.echo(f"engage: starting a new, empty data folder at {folder}", err=True)
    return Store(folder)
