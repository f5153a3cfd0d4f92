"""Writing files so that nothing is ever half-written, and locking so that two engage
processes never undo each other's writes. One way to do each, for the store, the watchlist,
the watchlist cache, exports and digests alike.

Measured facts behind this (docs/design.md, "Store"): kill -9 during a plain rewrite left
an unreadable file in 5 of 100 kills; a temp file in the same folder, fsynced, renamed over
the old one and followed by an fsync of the folder left none. A rename is atomic only
within one file system, hence the temp file beside the target.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import filelock

from engage.errors import EngageError

# filelock polls a non-blocking flock; its default 50 ms sleep made four processes writing
# at once spend most of their time asleep. A small write takes a few ms.
LOCK_POLL_SECONDS = 0.005


class LockTimeout(Exception):
    """Another process held the lock for longer than the caller was willing to wait."""


def atomic_write(
    path: Path, data: bytes | Callable[[BinaryIO], None], *, mode: int | None = None
) -> None:
    """Replace `path` with `data` so that a crash at any moment leaves the old file or the
    new one. `data` may be a function that writes the new content to the file it is given
    (from its start), so that a big file need not be in memory whole. `mode` defaults to
    the old file's permissions, else 0o600 (the data is personal). A caller that keeps the
    old file (the store's backups) links it first."""
    folder = path.parent
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o600
    tmp = folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                data(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)  # os.open's mode is filtered by the umask
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(folder)


def keep_copy(path: Path, target: Path) -> None:
    """Make `target` a copy of `path`, atomically: a hard link where the file system has
    them (no bytes copied), else a real copy."""
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        try:
            os.link(path, tmp)
        except OSError:  # a file system without hard links
            shutil.copy2(path, tmp)
        os.replace(tmp, target)
        # rename() between two links to one file does nothing and leaves `tmp` behind
        # (POSIX): the case when `target` already is a link to `path`, as after a writer
        # was killed between keeping its backup and its own rename.
        tmp.unlink(missing_ok=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable: without this the rename itself may not survive a
    power cut on ext4/xfs."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open a folder (Windows) make rename durable anyway
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp_of(path: Path, name: str) -> bool:
    """Whether `path` is one of atomic_write's temp files for a file called `name`."""
    return path.name.startswith(f".{name}.") and path.name.endswith(".tmp")


@contextmanager
def exclusive_lock(lock_file: Path, *, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (made if missing) for the block. Raises
    LockTimeout after `timeout` seconds, OSError when the lock file cannot be made."""
    lock = filelock.FileLock(lock_file, timeout=timeout, poll_interval=LOCK_POLL_SECONDS)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise LockTimeout(str(lock_file)) from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def holding(
    lock_file: Path,
    *,
    timeout: float,
    busy: Callable[[], EngageError],
    unavailable: Callable[[OSError], None],
) -> Iterator[None]:
    """Hold `lock_file` for the block, as a command does: after `timeout` seconds the
    error `busy()` (one line: who holds it, what to do); when the lock cannot be made at
    all (a read-only folder), `unavailable` decides: raise, or return to go on unlocked.
    An error inside the block is the block's own, never taken for the lock's."""
    with ExitStack() as stack:
        try:
            stack.enter_context(exclusive_lock(lock_file, timeout=timeout))
        except LockTimeout:
            raise busy() from None
        except OSError as exc:
            unavailable(exc)
        yield
