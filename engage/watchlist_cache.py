"""Loading the watchlist fast: the validated Watchlist is kept in the cache folder and
reused while feeds.yaml's bytes are the same.

Loading feeds.yaml means importing ruamel.yaml and pydantic (~0.25 s) and a round-trip
parse plus validation (~0.2 s for 200 people): measured 0.45 s of the 1.6 s that
`engage status` took on the 200-person benchmark (bench/bench_status.py). The file rarely
changes between commands, so the validated Watchlist is kept as JSON (through
engage.codec, never pickle: nothing from the cache folder is executed). A hit costs a
stat, a read and a hash of the file, and decoding the JSON: a few milliseconds, and
neither ruamel nor pydantic is imported.

The key holds everything the result depends on: the path as given (it is the label in
messages and Watchlist.path), the file's size, mtime and a hash of its bytes (so an edit
within one mtime tick still counts), and this engage's version plus the mtimes of the
code that validates and shapes it (an editable install changes without a version bump).
A broken file is never cached, so its errors are reported on every run. Any problem with
the cache itself (missing, unreadable, stale, damaged) is a miss.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from engage import __version__
from engage.errors import EngageError
from engage.files import atomic_write
from engage.models import MAX_WATCHLIST_BYTES, Watchlist
from engage.places import cached_file_for

_CACHE_FORMAT = 1
# The modules whose code decides what a watchlist file becomes.
_CODE = ("config.py", "models.py", "codec.py", "clean.py")


def load_watchlist(path: Path) -> Watchlist:
    """The validated watchlist at `path`, from the cache when the file is unchanged."""
    if not path.exists():
        raise EngageError(
            f"{path}: no watchlist here (pass --config PATH, set ENGAGE_CONFIG, "
            "or copy the example feeds.yaml)"
        )
    key = _key(path)
    cached = cached_watchlist(path, key) if key is not None else None
    if cached is not None:
        return cached
    from engage.config import load

    watchlist = load(path)  # a broken file raises here and is never cached
    if key is not None and _key(path) == key:  # not edited while we read it
        _remember(path, key, watchlist)
    return watchlist


def _key(path: Path) -> dict[str, Any] | None:
    try:
        stat = path.stat()
        if stat.st_size > MAX_WATCHLIST_BYTES:
            return None  # not read here: loading it says it is too big
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        code = [Path(__file__).parent.joinpath(name).stat().st_mtime_ns for name in _CODE]
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


def _cache_file(path: Path) -> Path:
    return cached_file_for(path, "watchlist", ".json")


def cached_watchlist(path: Path, key: dict[str, Any] | None = None) -> Watchlist | None:
    """The cached Watchlist for `path` when the cache holds this very file; else None.
    `key` is the file's key when the caller has it already (it costs a read and a hash)."""
    try:
        raw = _cache_file(path).read_bytes()
    except OSError:
        return None
    key = key if key is not None else _key(path)
    if key is None:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        from engage.codec import from_json

        return from_json(Watchlist, data["watchlist"])
    except (ValueError, KeyError, TypeError):  # damaged or from another shape: a miss
        return None


def _remember(path: Path, key: dict[str, Any], watchlist: Watchlist) -> None:
    from engage.codec import to_json

    target = _cache_file(path)
    data = json.dumps({"key": key, "watchlist": to_json(watchlist)}, ensure_ascii=False)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data.encode("utf-8"))  # readers see the old cache or the new
    except OSError:
        pass  # a cache that cannot be written only costs speed
