"""Where engage's files are: the watchlist, the data folder and the cache folder.

Each is found the same way by every command, the daemon and the web report: an explicit
option first, then an environment variable, then the watchlist's own setting (for the data
folder), then the user's folder for that kind of file (platformdirs).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

APP = "engage"


def config_path(explicit: Path | None) -> Path:
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

    return Path(platformdirs.user_config_dir(APP)) / "feeds.yaml"


def data_dir(explicit: Path | None, setting: str | None, watchlist_path: str | None) -> Path:
    """--data, then $ENGAGE_DATA, then settings.data_dir (relative to the watchlist), then
    the user data folder."""
    if explicit is not None:
        return explicit
    env = os.environ.get("ENGAGE_DATA")
    if env:
        return Path(env)
    if setting:
        folder = Path(setting).expanduser()
        if not folder.is_absolute() and watchlist_path:
            folder = Path(watchlist_path).parent / folder
        return folder
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    """$ENGAGE_CACHE, else the user cache folder: what engage can always rebuild."""
    env = os.environ.get("ENGAGE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def cached_file_for(path: Path, kind: str, suffix: str) -> Path:
    """A file in the cache folder that belongs to `path` (the watchlist's cache, the lock
    that serializes its edits), named by a hash of its absolute path so that two
    watchlists never share one."""
    name = hashlib.blake2b(str(path.resolve()).encode("utf-8"), digest_size=10).hexdigest()
    return cache_dir() / f"{kind}-{name}{suffix}"
