"""The store: what engage remembers between runs, safe for several processes at once.

Two TinyDB JSON files in the data folder, so logging one event never rewrites megabytes of
polled posts:

- `engage.json`, precious: meta (schema version), feeds (their HTTP and schedule state),
  events, tombstones (events removed by undo), confirmations and trusted names (what
  `engage review` decided), intro evidence, LinkedIn contacts, and the identities every
  person's records are filed under (engage.identity);
- `cache.json`, rebuildable by re-polling: posts and comments.

Measured facts shaped it (docs/design.md, "Store"):

- stock TinyDB corrupted the file in 3 of 3 trials with two processes inserting at once,
  and a lock around a long-lived TinyDB instance still lost documents (it caches the next
  document id). So one file lock (`engage.lock`) guards every read-modify-write, and the
  TinyDB instances are opened fresh inside it and dropped before it is released.
- kill -9 during a write left an unreadable file in 5 of 100 kills with stock JSONStorage.
  So every write goes through engage.files.atomic_write: a reader sees the old file or the
  new one, never half of one. That is also why reads take no lock at all: `engage status`
  or a web page never waits behind a poll's write.
- one-by-one inserts into a 5k-document file took 76 s, `insert_multiple` 0.03 s. So a
  transaction loads each file once, keeps its changes in memory and hands TinyDB one batch
  per table and kind of change (remove, update, insert_multiple); each changed file is
  written once, on commit.

A transaction that changes both files writes cache.json first, then engage.json. A kill
between the two leaves new posts without the feed state that fetched them, so the next
poll fetches them again; the other order could store an ETag whose posts were never
kept, and a 304 would then hide them for good. A reader reads engage.json first for the
same reason.

Nothing lost (docs/design.md, "Store"): before each replace of engage.json the version
being replaced is kept as `engage.json.bak` and as the day's generation
`backups/engage-YYYY-MM-DD.json` (hard links, so no copy of a large file; the 7 newest days
are kept), but only when this transaction loaded it as a store: a file that did not load,
or is smaller than an empty store, never replaces a backup. A missing or empty engage.json
in a folder that held data stops every command with the command that restores the newest
good copy, instead of showing an empty world as the truth. A damaged cache.json is only a
loss of what the next poll fetches again: it is set aside, with a warning, and never
blocks a read.
"""

from __future__ import annotations

import errno
import gc
import html
import io
import json
import os
import re
import shlex
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence, Set
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import orjson
from tinydb import Query, TinyDB
from tinydb.storages import Storage

from engage.codec import decoder_for, to_json
from engage.errors import StoreError
from engage.files import (
    LockTimeout,
    atomic_write,
    exclusive_lock,
    fsync_folder,
    holding,
    is_temp_of,
    keep_copy,
)
from engage.identity import KnownIdentity, combined, remember, same_interaction
from engage.models import (
    DIRECTION,
    Comment,
    Event,
    EventKind,
    EventSource,
    FeedState,
    IntroEvidence,
    LatestPost,
    Person,
    Post,
    SocialAccount,
    TrustedName,
    fold_name,
)
from engage.urls import normalize_url

if TYPE_CHECKING:
    from engage.detect import Identity
    from engage.social.accounts import SocialPost

# 2: an `identities` table, and every `person` field holds the person's key
# (docs/design.md, "Identity").
SCHEMA = 2
PRECIOUS = "engage.json"
LATEST_POSTS = "latest_posts"  # meta key: each person's newest post (Transaction.note_latest_posts)
# meta key: the threads I commented in and their latest comment, with the fingerprint of
# the identities they were worked out with (engage.poll.cycle keeps it).
JOINED_THREADS = "joined_threads"
CACHE = "cache.json"
LOCK = "engage.lock"
BACKUP_SUFFIX = ".bak"
BACKUPS = "backups"  # the day generations: backups/engage-YYYY-MM-DD.json
GENERATIONS = 7  # the newest days kept in BACKUPS
DAMAGED_CACHE = CACHE + ".damaged-"  # a damaged cache set aside: cache.json.damaged-<UTC>
# A set-aside waits this long for a writer; a read that cannot wait goes on without it.
SET_ASIDE_WAIT_SECONDS = 5.0
# Transactions hold the lock for a load, some work in memory and one write: well under a
# second even for large stores. A minute of waiting means something is stuck.
LOCK_TIMEOUT_SECONDS = 60.0

T = TypeVar("T")
Doc = dict[str, Any]

_CACHE_TABLES = frozenset({"posts", "comments", "social_posts"})
_KEYS: dict[str, Callable[[Mapping[str, Any]], Hashable]] = {
    "meta": lambda doc: doc["key"],
    "feeds": lambda doc: doc["url"],
    "events": lambda doc: doc["id"],
    "tombstones": lambda doc: doc["id"],
    "confirmations": lambda doc: doc["id"],
    "trusted_names": lambda doc: (doc["site"], doc["name"]),
    "intro_evidence": lambda doc: doc["id"],
    "linkedin_contacts": lambda doc: _linkedin_doc_key(doc),
    "identities": lambda doc: fold_name(doc["key"]),
    "posts": lambda doc: (doc["feed"], doc["id"]),
    "comments": lambda doc: (doc["feed"], doc["id"]),
    "social_accounts": lambda doc: (doc["network"], doc["handle"]),
    "social_posts": lambda doc: (doc["account"], doc["id"]),
}


def _linkedin_doc_key(doc: Mapping[str, Any]) -> str:
    """A stored LinkedIn connection's key: its profile URL, else its name and company
    (engage.linkedin.linkedin_key), so two connections who share a name stay two."""
    from engage.linkedin import linkedin_key

    handles = doc.get("handles") or {}
    url = handles.get("linkedin") if isinstance(handles, Mapping) else None
    return linkedin_key(str(doc["name"]), doc.get("company"), url)


@dataclass(frozen=True)
class Tombstone:
    """An event removed by undo: detection must not add it back."""

    id: str
    person: str | None = None
    removed: datetime | None = None


@dataclass(frozen=True)
class Confirmation:
    """A detection the user confirmed in `engage review`: it stays confirmed when it is
    detected again, `detect --rebuild` included."""

    id: str
    person: str | None = None
    confirmed: datetime | None = None


def _type_of(name: str) -> type:
    """The dataclass a table holds. The social statuses' type is looked up when that table
    is read: importing the social readers costs every command a few hundredths of a
    second, and most never touch the table."""
    if name == "social_posts":
        from engage.social.accounts import SocialPost

        return SocialPost
    return _TYPES[name]


_TYPES: dict[str, type] = {
    "feeds": FeedState,
    "events": Event,
    "intro_evidence": IntroEvidence,
    "trusted_names": TrustedName,
    "linkedin_contacts": Person,
    "posts": Post,
    "comments": Comment,
    "identities": KnownIdentity,
    "tombstones": Tombstone,
    "confirmations": Confirmation,
    "social_accounts": SocialAccount,
}
# Where a person's key is written: what an identity is found in, re-keyed by a merge.
# Events first: their ids hashed the name as they spell it, so that spelling is the key.
_PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "events": ("person",),
    "tombstones": ("person",),
    "intro_evidence": ("contact", "person"),
    "feeds": ("person",),
    "posts": ("person",),
    "comments": ("person",),
    "confirmations": ("person",),
    "trusted_names": ("person",),
    "social_accounts": ("person",),
    "social_posts": ("person",),
}
# Tables whose records are identified by an id that hashes a person's key.
_KEYED_BY_ID = frozenset({"events", "tombstones", "confirmations", "intro_evidence"})
_MIN_TIME = datetime.min.replace(tzinfo=UTC)
Polled = TypeVar("Polled", Post, Comment)


def newest_first(items: Iterable[Polled]) -> list[Polled]:
    """Posts or comments newest first by published, those without a date last: the order
    every reader of the cache sees (detection keeps the first of two copies of one item)."""
    return sorted(items, key=lambda i: (i.published is not None, i.published or _MIN_TIME),
                  reverse=True)  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    """Everything in the store, read in one go under the lock, so the parts agree."""

    feeds: tuple[FeedState, ...] = ()
    posts: tuple[Post, ...] = ()  # newest first; empty when read by load_precious_only
    comments: tuple[Comment, ...] = ()  # newest first; likewise
    events: tuple[Event, ...] = ()  # oldest first
    tombstones: frozenset[str] = frozenset()
    confirmations: tuple[Confirmation, ...] = ()  # detections the user confirmed
    trusted_names: tuple[TrustedName, ...] = ()
    intro_evidence: tuple[IntroEvidence, ...] = ()
    linkedin_contacts: tuple[Person, ...] = ()
    identities: tuple[KnownIdentity, ...] = ()  # stored, and implied by stored records
    undone: tuple[Tombstone, ...] = ()  # the tombstones in full, by id
    meta: Mapping[str, Any] = field(default_factory=dict)  # without the schema version
    schema: int = SCHEMA
    with_cache: bool = True  # False: posts and comments were not read
    social_accounts: tuple[SocialAccount, ...] = ()
    social_posts: tuple[SocialPost, ...] = ()  # empty when read by load_precious_only


# ---------------------------------------------------------------------------
# Files


def _orphans(folder: Path) -> Iterator[Path]:
    """Temp files of atomic_write and keep_copy whose writer died before its rename."""
    for name in (PRECIOUS, CACHE, PRECIOUS + BACKUP_SUFFIX):
        yield from (o for o in folder.glob(f".{name}.*.tmp") if is_temp_of(o, name))
    # keep_copy's temp files for the day generations (the folder is engage's own).
    yield from (folder / BACKUPS).glob(".engage-*.json.*.tmp")


def cache_absent(folder: Path) -> bool:
    try:
        return (folder / CACHE).stat().st_size == 0
    except FileNotFoundError:
        return True


def clean_orphans(folder: Path) -> list[Path]:
    """Remove temp files left by a writer that died before its rename. Called with the lock
    held, when no write can be in progress, so every temp file found is an orphan."""
    removed = []
    for orphan in list(_orphans(folder)):
        orphan.unlink(missing_ok=True)
        removed.append(orphan)
    return removed


def _meta_first(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The tables with `meta` first, so _peek_schema finds the version in the first bytes."""
    if "meta" in data:
        return {"meta": data["meta"], **{k: v for k, v in data.items() if k != "meta"}}
    return data


def _stdlib_dumps(data: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a feed's "\ud800"): UTF-8 cannot hold
        # it, so the whole file is written in ASCII with escapes, and reads back the same.
        return json.dumps(data, separators=(",", ":")).encode("ascii")


def _write_tables(data: Mapping[str, Any], out: BinaryIO) -> None:
    """Write a store file to `out`, a document at a time: the bytes orjson would write for
    the whole, with a final newline, or the stdlib's when orjson refuses something.

    orjson writes the same bytes as json.dumps(ensure_ascii=False, compact) for what engage
    stores, 13x faster: 0.016 s instead of 0.21 s for the 15 MB benchmark file (50,000
    events), which `engage log` rewrites to add one event. The final newline marks a file
    that orjson may read back (see _loads). A document at a time, because encoded whole a
    16 MB cache.json of 20,000 posts took 24 MB more beside its documents at the peak of a
    poll (orjson's buffer grows as it writes, and the file is one more copy)."""
    data = _meta_first(data)
    try:
        out.write(b"{")
        for t, (name, table) in enumerate(data.items()):
            out.write(b"," if t else b"")
            out.write(_json_key(name))
            if not isinstance(table, dict):
                out.write(orjson.dumps(table))
                continue
            out.write(b"{")
            for d, (key, doc) in enumerate(table.items()):
                out.write(b"," if d else b"")
                out.write(_json_key(key))
                out.write(orjson.dumps(doc))
            out.write(b"}")
        out.write(b"}" + _ORJSON_MARK)
    except TypeError:  # what orjson refuses (an int beyond 64 bits, ...): the stdlib's way
        out.seek(0)
        out.truncate()
        out.write(_stdlib_dumps(data))


def _json_key(key: object) -> bytes:
    """`"key":` as orjson writes a key of an object; orjson refuses a key that is not a
    string (TypeError, so _write_tables falls back to the stdlib, which converts it)."""
    if not isinstance(key, str):
        raise TypeError(f"a key that is not a string: {key!r}")
    return orjson.dumps(key) + b":"


# orjson reads an integer of 2**64 or more as a float, silently (the stdlib keeps it
# exact), and such a number can come from a feed (an enclosure's length). orjson never
# writes one (it raises, and _write_tables falls back to the stdlib), so a file that orjson wrote
# is safe to read with it. Those files end with this newline; older files, and files with
# such numbers, do not, and are read by the stdlib.
_ORJSON_MARK = b"\n"


def _loads(read: _Read, *, precious: bool) -> Any:
    """Parse a store file, taking its bytes from `read` so that they can go early.

    orjson reads the files it wrote: 0.14 s instead of the stdlib's 0.21 s for the 15 MB
    benchmark engage.json of 50,000 events. The stdlib reads the rest, including what
    orjson refuses (NaN, a lone surrogate), and words errors as users and tests know them
    ("Expecting ..."). An ASCII cache.json also goes to the stdlib, as text, its bytes
    let go first: the cache is mostly long strings, which the stdlib reads about as fast,
    while orjson holds the file and a parse tree of it at once (103 MB at the peak for a
    16 MB cache of 20,000 posts, 73 MB this way). Not one with other characters: as text
    it would take up to 4 bytes a character, more than orjson's peak."""
    raw = read.take()
    if raw.endswith(_ORJSON_MARK) and (precious or not raw.isascii()):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # a hand edit, a broken file: the stdlib reads it or says what is wrong
    text = raw.decode("utf-8")  # engage writes UTF-8; no guessing
    del raw
    return json.loads(text)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large file becomes objects.

    Decoding 50,000 events allocates 50,000 tracked objects, which triggers the collector
    about 70 times, and its full passes walk every object alive: 0.19 s of decoding took
    0.155 s without it (bench_status). Nothing made here forms a cycle, so nothing is
    missed; the collector runs again as usual afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_SCHEMA_AT_START = re.compile(rb'\A\{"meta":\{"\d+":\{"key":"schema","value":(\d+)\}')


def _peek_schema(path: Path) -> int | None:
    """The schema version when the file starts with it, as engage writes it; None
    otherwise (no file, an old or hand-made file), and the full load decides.

    Store() runs before every command; reading 200 bytes instead of parsing 15 MB of
    events halves the start-up of `engage status` on a large store.
    """
    try:
        with path.open("rb") as file:
            head = file.read(200)
    except OSError:
        return None
    match = _SCHEMA_AT_START.match(head)
    return int(match.group(1)) if match else None


# The smallest file engage writes for a store: the schema version and nothing else. A
# precious file smaller than this holds nothing worth keeping: it never becomes a backup.
def _encoded(data: Mapping[str, Any]) -> bytes:
    out = io.BytesIO()
    _write_tables(data, out)
    return out.getvalue()


EMPTY_STORE_BYTES = len(_encoded({"meta": {"1": {"key": "schema", "value": SCHEMA}}}))
_GENERATION = re.compile(r"engage-\d{4}-\d{2}-\d{2}\.json")


def _same_file(path: Path, seen: os.stat_result) -> bool:
    """Whether `path` is still the very file that was read (no replace, no edit since)."""
    try:
        now = path.stat()
    except OSError:
        return False
    return (now.st_ino, now.st_size, now.st_mtime_ns) == (
        seen.st_ino,
        seen.st_size,
        seen.st_mtime_ns,
    )


def generations(folder: Path) -> list[Path]:
    """The day generations of engage.json, newest first."""
    try:
        names = os.listdir(folder / BACKUPS)
    except OSError:
        return []
    days = sorted((name for name in names if _GENERATION.fullmatch(name)), reverse=True)
    return [folder / BACKUPS / name for name in days]


def backup_copies(folder: Path) -> list[Path]:
    """Every kept copy of engage.json, newest first: the one before the last write, then
    the last of each day."""
    last = folder / (PRECIOUS + BACKUP_SUFFIX)
    return ([last] if last.is_file() else []) + generations(folder)


def held_data(folder: Path, *, lock: bool = True) -> list[str]:
    """What shows that engage kept data in `folder`: a backup, the cache, a set-aside
    cache, the lock file (`lock=False` when this very process may have just made it).
    Empty for a folder engage never wrote to."""
    found = [name for name in (PRECIOUS + BACKUP_SUFFIX, CACHE) if (folder / name).exists()]
    if generations(folder):
        found.append(BACKUPS + "/")
    if any(folder.glob(DAMAGED_CACHE + "*")):
        found.append(DAMAGED_CACHE + "*")
    if lock and (folder / LOCK).exists():
        found.append(LOCK)
    return found


def _loads_as_store(path: Path) -> bool:
    """Whether a copy of engage.json would work if restored."""
    try:
        read = _read_file(path)
        if read is None or read.size < EMPTY_STORE_BYTES:
            return False
        data = _parse(path, read, precious=True)
        return data is not None and _schema_in(data, path) <= SCHEMA
    except StoreError:
        return False


def newest_good_copy(folder: Path) -> Path | None:
    """The newest backup of engage.json that loads (checked only when one is needed)."""
    return next((copy for copy in backup_copies(folder) if _loads_as_store(copy)), None)


def _named(copy: Path) -> str:
    """'backups/engage-2026-11-30.json, saved 2026-11-30 18:02': what a restore brings back."""
    shown = f"{BACKUPS}/{copy.name}" if copy.parent.name == BACKUPS else copy.name
    try:
        saved = datetime.fromtimestamp(copy.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    except OSError:
        return shown
    return f"{shown}, saved {saved}"


def _keep_copies(path: Path, seen: os.stat_result | None) -> None:
    """Keep the engage.json about to be replaced as engage.json.bak and as its day's
    generation, then drop generations beyond the newest GENERATIONS days.

    Only a file this transaction loaded as a store (`seen`, read and parsed under the lock,
    so this check is a stat) becomes a backup: a missing, empty or unreadable file never
    replaces a good copy. The old file is linked, never the new one: a copy sharing the
    live file's inode would be emptied by `: > engage.json` along with it."""
    if seen is None or seen.st_size < EMPTY_STORE_BYTES:
        return
    if not _same_file(path, seen):
        raise StoreError(
            f"{path} was changed by another program while engage was saving; nothing was "
            "written to it (run the command again)"
        )
    folder = path.parent
    keep_copy(path, folder / (PRECIOUS + BACKUP_SUFFIX))
    # The day the old version was written, in the user's time zone: "Tuesday's" copy.
    day = datetime.fromtimestamp(seen.st_mtime).date()
    (folder / BACKUPS).mkdir(mode=0o700, exist_ok=True)
    keep_copy(path, folder / BACKUPS / f"engage-{day.isoformat()}.json")
    for old in generations(folder)[GENERATIONS:]:
        old.unlink(missing_ok=True)


class _Read:
    """A file's bytes and what the file was when read. The bytes are handed over once
    (`take`), so that whoever parses them holds the only reference and can let them go
    first: the 16 MB of a cache.json kept beside its parse made the peak of a poll."""

    __slots__ = ("_content", "size", "stat")

    def __init__(self, content: bytes, stat: os.stat_result) -> None:
        self._content = content
        self.stat = stat
        self.size = len(content)

    def take(self) -> bytes:
        content, self._content = self._content, b""
        return content

    def blank(self) -> bool:
        """Empty, or only ASCII white space (a file truncated by hand, `: > engage.json`)."""
        return not self._content or self._content.isspace()


def _read_file(path: Path) -> _Read | None:
    """The file as read, None when it does not exist."""
    try:
        with path.open("rb") as file:
            return _Read(file.read(), os.fstat(file.fileno()))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Damaged(f"{path}: cannot read it ({exc.strerror})", exc.strerror or "") from exc


def _parse(path: Path, read: _Read, *, precious: bool) -> dict[str, dict[str, Doc]] | None:
    """The file's tables, None when it is empty (a new store)."""
    if read.blank():
        return None
    try:
        with gc_paused():
            data = _loads(read, precious=precious)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Damaged(_unreadable(path, str(exc), precious=precious), str(exc)) from exc
    except RecursionError:  # the stdlib's parser recurses; no store is nested this deep
        reason = "nested too deeply to be engage's data"
        raise _Damaged(_unreadable(path, reason, precious=precious), reason) from None
    problem = _shape_problem(data)
    if problem:
        raise _Damaged(_unreadable(path, problem, precious=precious), problem)
    return data  # type: ignore[no-any-return]


# The field each table's documents are found by (the key of _KEYS): a document without it
# is damage, found when the file is loaded rather than in the middle of a transaction.
_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "meta": ("key",),
    "feeds": ("url",),
    "events": ("id",),
    "tombstones": ("id",),
    "intro_evidence": ("id",),
    "linkedin_contacts": ("name",),
    "identities": ("key",),
    "posts": ("feed", "id"),
    "comments": ("feed", "id"),
}


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a TinyDB file: the top level is not an object"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"table {name!r} is not an object"
        fields = _KEY_FIELDS.get(name, ())
        for doc_id, doc in table.items():
            if not isinstance(doc, dict) or not doc_id.isdigit():
                return f"table {name!r}: document {doc_id!r} is not a document"
            for key in fields:
                if not isinstance(doc.get(key), str):
                    return f"table {name!r}: document {doc_id} has no {key!r} key"
    return None


def _schema_in(data: Mapping[str, Any], path: Path) -> int:
    """The file's schema version: 0 before files carried one; a newer one is refused."""
    for doc in data.get("meta", {}).values():
        if doc.get("key") == "schema":
            version = doc.get("value")
            if not isinstance(version, int) or isinstance(version, bool):
                raise StoreError(
                    f"{path}: the schema version {version!r} is not a number; "
                    "the file was edited by hand or by another program"
                )
            if version > SCHEMA:
                raise StoreError(
                    f"{path} was written by a newer engage (schema {version}; "
                    f"this one reads up to {SCHEMA}): upgrade engage"
                )
            return version
    return 0


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def _unreadable(path: Path, reason: str, *, precious: bool) -> str:
    if not precious:
        return (
            f"{path}: cannot read it ({reason}). It only holds polled posts and comments, "
            "which the next poll fetches again: delete it and run `engage poll`."
        )
    folder = path.parent
    copy = newest_good_copy(folder)
    if copy is not None:
        return (
            f"{path}: cannot read it ({reason}). Keep the damaged file aside and restore "
            f"the newest good copy ({_named(copy)}) with "
            f"`mv {_q(path)} {_q(path)}.damaged && cp {_q(copy)} {_q(path)}`."
        )
    return (
        f"{path}: cannot read it ({reason}), and there is no backup that loads "
        f"({PRECIOUS + BACKUP_SUFFIX}, {BACKUPS}/). Restore it from your own backups, or "
        f"move the folder aside (`mv {_q(folder)} {_q(folder)}.old`) to start over."
    )


def _lost(path: Path, what: str, traces: Sequence[str]) -> str:
    """A missing or empty engage.json in a folder that held data: one line, with the
    command that brings the newest good copy back."""
    folder = path.parent
    held = f"though this folder held engage data ({', '.join(traces)})"
    copy = newest_good_copy(folder)
    if copy is not None:
        return (
            f"{path} {what}, {held}; engage stops rather than start over empty. Restore "
            f"the newest good copy ({_named(copy)}) with `cp {_q(copy)} {_q(path)}`."
        )
    return (
        f"{path} {what}, {held}, and no backup of it loads: restore it from your own "
        f"backups, or move the folder aside (`mv {_q(folder)} {_q(folder)}.old`) to start over."
    )


def _cannot_save(folder: Path, exc: OSError) -> str:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"{folder}: the data folder is read-only ({exc.strerror}): engage can read it "
            "but cannot save anything there"
        )
    return f"{folder}: cannot save to the data folder ({exc.strerror or exc})"


class _Damaged(StoreError):
    """A file that does not read as a store; `reason` is the short why."""

    def __init__(self, message: str, reason: str, seen: os.stat_result | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.seen = seen


class LostStore(StoreError):
    """engage.json is missing or empty in a folder that held data."""

    def __init__(self, message: str, traces: Sequence[str]) -> None:
        super().__init__(message)
        self.traces = tuple(traces)


_NOT_READ: Any = object()  # AtomicJSONStorage: the file is read on first use


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reads its file once and writes it once.

    TinyDB calls read() and write() around every table operation; here read() returns
    the document loaded on first use and write() only keeps the new state in memory.
    flush() writes it atomically. The owner calls flush() on commit and otherwise drops
    the instance, which is how a failed transaction writes nothing.
    """

    def __init__(
        self,
        path: Path,
        precious: bool = True,
        read: _Read | None = _NOT_READ,
    ) -> None:
        self.path = path
        self.precious = precious
        self.dirty = False
        self._loaded = False
        self._read = read  # the file as read, when the owner read it at a chosen moment
        self._data: dict[str, dict[str, Doc]] | None = None
        self.seen: os.stat_result | None = None  # the file as loaded, when it held a store
        self.absent = "is missing"  # or "is empty": why read() gave None

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            found = _read_file(self.path) if self._read is _NOT_READ else self._read
            self._read = None
            if found is not None:
                try:
                    self._data = _parse(self.path, found, precious=self.precious)
                except _Damaged as exc:
                    exc.seen = found.stat
                    raise
                if self._data is not None:
                    self.seen = found.stat
                else:
                    self.absent = "is empty" if not found.size else "holds only blank space"
            self._loaded = True
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            if self.precious:
                _keep_copies(self.path, self.seen)
            atomic_write(self.path, partial(_write_tables, self._data or {}))
            self.dirty = False


# ---------------------------------------------------------------------------
# Tables and files inside one transaction


class _Table:
    """One table's documents by natural key (url, id, (feed, id)…), with this
    transaction's changes kept apart so commit hands TinyDB one batch per kind."""

    def __init__(self, name: str, raw: Mapping[str, Doc] | None, path: Path) -> None:
        self.name = name
        self.path = path
        self.key: Callable[[Mapping[str, Any]], Hashable] = _KEYS[name]
        self.raw: Mapping[str, Doc] = raw or {}
        self._docs: dict[Hashable, Doc] | None = None
        self.ids: dict[Hashable, int] = {}
        self.inserted: dict[Hashable, Doc] = {}
        self.updated: dict[Hashable, Doc] = {}
        self.removed: set[int] = set()
        self.version = 0

    @property
    def docs(self) -> dict[Hashable, Doc]:
        """The documents by key. Built on first use: a read of every document (status,
        log) goes through values() and never pays for the index."""
        if self._docs is None:
            docs: dict[Hashable, Doc] = {}
            for doc_id, doc in self.raw.items():
                try:
                    key = self.key(doc)
                except (KeyError, TypeError, AttributeError) as exc:
                    reason = f"table {self.name!r}: document {doc_id} has no {exc} key"
                    precious = self.name not in _CACHE_TABLES
                    message = _unreadable(self.path, reason, precious=precious)
                    raise _Damaged(message, reason) from exc
                if key in self.ids:  # a duplicate from a hand edit: the later one wins
                    self.removed.add(self.ids[key])
                docs[key] = doc
                self.ids[key] = int(doc_id)
            self._docs = docs
        return self._docs

    def values(self) -> Iterable[Doc]:
        return self.raw.values() if self._docs is None else self._docs.values()

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.removed)

    def put(self, key: Hashable, doc: Doc) -> bool:
        """Store `doc` under `key`; False when it was already there unchanged."""
        if self.docs.get(key) == doc:
            return False
        if key in self.ids:
            self.updated[key] = doc
        else:
            self.inserted[key] = doc
        self.docs[key] = doc
        self.version += 1
        return True

    def remove(self, key: Hashable) -> Doc | None:
        doc = self.docs.pop(key, None)
        if doc is None:
            return None
        self.inserted.pop(key, None)
        self.updated.pop(key, None)
        if key in self.ids:
            self.removed.add(self.ids.pop(key))
        self.version += 1
        return doc

    def apply(self, data: dict[str, dict[str, Doc]]) -> None:
        """Write this transaction's changes into the file's tables, as TinyDB's remove,
        update and insert_multiple would: the same ids (a new document gets the highest
        id left after removals, plus one) and the same order.

        Done on the loaded dict directly because TinyDB's Table rebuilds the whole table
        twice per call (ids to int and back) and scans it for the next id: adding one
        event to the 50,000 of the benchmark took 0.04–0.07 s that way, 0.01–0.03 s here
        (`engage log`)."""
        raw = data.get(self.name)
        if raw is None:
            raw = data[self.name] = {}
        for doc_id in sorted(self.removed):
            raw.pop(str(doc_id), None)
        for key, doc in self.updated.items():
            raw[str(self.ids[key])] = dict(doc)
        if self.inserted:
            # self.ids holds the id of every document left (built with the index, which
            # put/remove used), so its max is that of the table.
            next_id = max(self.ids.values(), default=0) + 1
            for doc in self.inserted.values():
                raw[str(next_id)] = dict(doc)
                next_id += 1


class _File:
    """One of the two JSON files, opened fresh for one transaction.

    `lock_counts`: whether the lock file shows that engage used the folder before (not
    when this process may have just made it, creating a new store)."""

    def __init__(
        self,
        path: Path,
        *,
        precious: bool,
        read: _Read | None = _NOT_READ,
        lock_counts: bool = True,
    ) -> None:
        self.path = path
        self.db = TinyDB(path, storage=AtomicJSONStorage, precious=precious, read=read)
        storage = self.db.storage
        assert isinstance(storage, AtomicJSONStorage)
        self.storage = storage
        self.tables: dict[str, _Table] = {}
        self.was_new = False
        self.schema = self._read_schema(precious, lock_counts)

    def _read_schema(self, precious: bool, lock_counts: bool) -> int:
        data = self.storage.read()
        if data is not None:
            return _schema_in(data, self.path)
        if precious:
            traces = held_data(self.path.parent, lock=lock_counts)
            if traces:
                raise LostStore(_lost(self.path, self.storage.absent, traces), traces)
        self.was_new = True
        return SCHEMA

    def table(self, name: str) -> _Table:
        table = self.tables.get(name)
        if table is None:
            data = self.storage.read() or {}
            table = _Table(name, data.get(name), self.path)
            self.tables[name] = table
        return table

    def table_if_held(self, name: str) -> _Table | None:
        """The table when this file holds it (a backup from before schema 1 holds posts)."""
        return self.table(name) if name in (self.storage.read() or {}) else None

    def stamp(self) -> None:
        self.table("meta").put("schema", {"key": "schema", "value": SCHEMA})

    def commit(self, *, stamp: bool = True) -> None:
        if not _changed(self):
            return
        if stamp:  # not on a backup copy being rewritten: it keeps the version it has
            self.stamp()
        data = self.storage.read() or {}
        for table in self.tables.values():
            if table.changed:
                table.apply(data)
        self.storage.write(data)
        self.storage.flush()

    def close(self) -> None:
        self.db.close()


# ---------------------------------------------------------------------------
# Migrations: schema N -> N+1, applied in order on load, written by the next commit.


def _v0_to_v1(precious: TinyDB, cache: TinyDB) -> None:
    """Before schema 1 there was one file and no version in it: polled posts and comments
    lived beside the events, and an event's direction was derived from its kind on read.
    Posts and comments move to cache.json (skipping any already there, so a migration cut
    short by a kill can run again) and every event gets its direction."""
    for name in sorted(_CACHE_TABLES):
        if name not in precious.tables():
            continue
        key = _KEYS[name]
        target = cache.table(name)
        have = {key(doc) for doc in target.all()}
        moving = []
        for doc in precious.table(name).all():
            if key(doc) not in have:
                have.add(key(doc))
                moving.append(dict(doc))
        target.insert_multiple(moving)
        precious.drop_table(name)

    kinds = {kind.value: kind for kind in EventKind}

    def add_direction(doc: Any) -> None:
        # A document without a known kind is left as it is: reading it says what is wrong.
        if "direction" not in doc and doc.get("kind") in kinds:
            doc["direction"] = DIRECTION[kinds[doc["kind"]]].value

    if "events" in precious.tables():
        precious.table("events").update(add_direction)
    if "_default" in precious.tables() and len(precious.table("_default")) == 0:
        precious.drop_table("_default")


def _v1_to_v2(precious: TinyDB, cache: TinyDB) -> None:
    """Schema 2 files a person's history under a key that never changes (docs/design.md,
    "Identity"). Every name found in the precious records becomes the key of an identity
    of its own, so every stored record and every id that hashed that name stays valid."""
    table = precious.table("identities")
    have = {fold_name(str(doc.get("key", ""))) for doc in table.all()}
    new = []
    for name in _names_in(
        {t: precious.table(t).all() for t in _PERSON_FIELDS if t in precious.tables()}
    ):
        folded = fold_name(name)
        if folded not in have:
            have.add(folded)
            new.append(to_json(KnownIdentity(name, name, (folded,))))
    table.insert_multiple(new)


def _names_in(tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[str]:
    """Every person key written in these tables, first seen first."""
    names: dict[str, None] = {}
    for name, docs in tables.items():
        fields = _PERSON_FIELDS.get(name, ())
        for doc in docs:
            for f in fields:
                value = doc.get(f)
                if isinstance(value, str) and value.strip():
                    names.setdefault(value)
    return list(names)


MIGRATIONS: dict[int, Callable[[TinyDB, TinyDB], None]] = {0: _v0_to_v1, 1: _v1_to_v2}


def _changed(file: _File) -> bool:
    """Whether this transaction changed anything in `file` yet."""
    return file.storage.dirty or any(table.changed for table in file.tables.values())


# ---------------------------------------------------------------------------
# Transactions


class Transaction:
    """Reads and writes on one fresh load of the store, under its lock.

    Reads see this transaction's own changes. Nothing reaches the disk until the
    `with store.transaction()` block ends normally.
    """

    def __init__(
        self,
        folder: Path,
        now: datetime,
        *,
        preload_cache: bool = False,
        locked: bool = False,
        lock_counts: bool = True,
        store: Store | None = None,
    ) -> None:
        self.now = now
        self._folder = folder
        self._store = store  # where a damaged cache is set aside and the user told
        self._locked = locked  # this process holds the lock (a transaction, not a view)
        self._cache_file: _File | None = None
        self._decoded: dict[str, tuple[int, list[Any]]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self._open = True
        self._precious = _File(folder / PRECIOUS, precious=True, lock_counts=lock_counts)
        self.migrated = self._precious.schema < SCHEMA  # migrated in memory, on load
        # engage.json first, then cache.json: the order writers make them consistent in.
        self._cache_read: _Read | None = _NOT_READ
        if preload_cache:
            try:
                self._cache_read = _read_file(folder / CACHE)
            except _Damaged as exc:
                self._cache_file = self._without_cache(exc)
        if self._precious.schema < SCHEMA:
            self._migrate()

    # -- plumbing

    @property
    def _cache(self) -> _File:
        if self._cache_file is None:
            read, self._cache_read = self._cache_read, _NOT_READ
            # cache.json was born with schema 1: one without a version (a hand-made or
            # stock TinyDB file) holds the same documents and is stamped on its next write.
            try:
                self._cache_file = _File(self._folder / CACHE, precious=False, read=read)
            except _Damaged as exc:
                self._cache_file = self._without_cache(exc)
        return self._cache_file

    def _without_cache(self, exc: _Damaged) -> _File:
        """Set a damaged cache.json aside and go on without it: it only holds what the
        next poll fetches again, so it must never block a read of the precious data."""
        if self._store is not None:
            self._store._set_aside_cache(exc.reason, exc.seen, locked=self._locked)
        for name in _CACHE_TABLES:
            self._decoded.pop(name, None)
        return _File(self._folder / CACHE, precious=False, read=None)

    def keep_cache(self) -> None:
        """Write cache.json on commit when there is none, so that its absence later means
        it was lost (see Store.cache_missing). An existing one is left alone: reading 16 MB
        to rewrite it unchanged was most of a 1,000-feed poll where nothing changed."""
        if self._cache_file is None and cache_absent(self._folder):
            self._cache.stamp()

    def _migrate(self) -> None:
        version = self._precious.schema
        while version < SCHEMA:
            MIGRATIONS[version](self._precious.db, self._cache.db)
            version += 1
        meta = self._precious.db.table("meta")
        meta.upsert({"key": "schema", "value": SCHEMA}, Query().key == "schema")
        self._precious.schema = SCHEMA
        # Migrating rewrites the file and with it the backup, so first make sure every
        # document reads: a damaged file must fail here, before the good backup is replaced.
        for name in (*_TYPES, "social_posts"):
            self._objects(name)

    def _table(self, name: str) -> _Table:
        if not self._open:
            raise RuntimeError("this transaction has ended; open a new one")
        return (self._cache if name in _CACHE_TABLES else self._precious).table(name)

    def _objects(self, name: str) -> list[Any]:
        """Every document of a table as our dataclass, decoded once per change."""
        table = self._table(name)
        cached = self._decoded.get(name)
        if cached is not None and cached[0] == table.version:
            return cached[1]
        decode: Callable[[Any], Any] = decoder_for(_type_of(name))
        try:
            with gc_paused():
                objects = [decode(doc) for doc in table.values()]
        except ValueError as exc:
            cache = self._cache_file
            if name in _CACHE_TABLES and cache is not None and not _changed(cache):
                cache.close()
                damage = _Damaged("", f"table {name!r}: {exc}", cache.storage.seen)
                self._cache_file = self._without_cache(damage)
                return self._objects(name)
            raise self._damaged(name, exc) from exc
        self._decoded[name] = (table.version, objects)
        return objects

    def _file_of(self, name: str) -> Path:
        return self._precious.path.with_name(CACHE if name in _CACHE_TABLES else PRECIOUS)

    def _decode_one(self, name: str, doc: Doc) -> Any:
        try:
            return decoder_for(_type_of(name))(doc)
        except ValueError as exc:
            raise self._damaged(name, exc) from exc

    def _damaged(self, name: str, exc: Exception) -> StoreError:
        reason = f"table {name!r}: {exc}"
        return StoreError(
            _unreadable(self._file_of(name), reason, precious=name not in _CACHE_TABLES)
        )

    def _commit(self) -> None:
        # cache.json first: see the module docstring for why this order.
        if self._cache_file is not None:
            self._cache_file.commit()
        self._precious.commit()

    def close(self) -> None:
        """End a read-only view (Store.view); a transaction is ended by its `with` block."""
        self._close()

    def _close(self) -> None:
        self._open = False
        self._precious.close()
        if self._cache_file is not None:
            self._cache_file.close()

    # -- reads

    def feeds(self) -> list[FeedState]:
        return list(self._objects("feeds"))

    def feed(self, url: str) -> FeedState | None:
        doc = self._table("feeds").docs.get(url)
        return None if doc is None else self._decode_one("feeds", doc)

    def posts(self, person: str | None = None, since: datetime | None = None) -> list[Post]:
        """Newest first by published; posts without a date last."""
        posts: list[Post] = self._objects("posts")
        if person is not None:
            folded = fold_name(person)
            posts = [p for p in posts if fold_name(p.person) == folded]
        if since is not None:
            posts = [p for p in posts if (p.published or p.first_seen or _MIN_TIME) >= since]
        return newest_first(posts)

    def comments(self, person: str | None = None) -> list[Comment]:
        """Newest first by published; comments without a date last. `person` is the owner
        of the blog they were found on."""
        comments: list[Comment] = self._objects("comments")
        if person is not None:
            folded = fold_name(person)
            comments = [c for c in comments if fold_name(c.person) == folded]
        return newest_first(comments)

    def events(self, person: str | None = None) -> list[Event]:
        """Oldest first by `when`."""
        events: list[Event] = self._objects("events")
        if person is not None:
            folded = fold_name(person)
            events = [e for e in events if fold_name(e.person) == folded]
        return sorted(events, key=lambda e: e.when)

    def polled_keys(self, name: str) -> Set[Hashable]:
        """The (feed, id) of every stored post (`name` "posts") or comment ("comments"),
        without decoding them: what a poll compares with to say what is new."""
        if name not in ("posts", "comments"):
            raise ValueError(f"not a table of polled items: {name!r}")
        return self._table(name).docs.keys()

    def tombstones(self) -> set[str]:
        return {str(key) for key in self._table("tombstones").docs}

    def confirmations(self) -> list[Confirmation]:
        return list(self._objects("confirmations"))

    def trusted_names(self) -> list[TrustedName]:
        return list(self._objects("trusted_names"))

    def social_accounts(self) -> list[SocialAccount]:
        """Every Mastodon and Bluesky account's polling state."""
        return list(self._objects("social_accounts"))

    def social_posts(self, account: str | None = None) -> list[SocialPost]:
        """Statuses and posts read from the accounts (all, or one account's), oldest first."""
        posts: list[SocialPost] = self._objects("social_posts")
        if account is not None:
            posts = [p for p in posts if p.account == account]
        return sorted(posts, key=lambda p: (p.when, p.id))

    def intro_evidence(self, person: str | None = None) -> list[IntroEvidence]:
        """Oldest first. With `person`, the evidence that names them as either side."""
        items: list[IntroEvidence] = self._objects("intro_evidence")
        if person is not None:
            folded = fold_name(person)
            items = [i for i in items if folded in (fold_name(i.person), fold_name(i.contact))]
        return sorted(items, key=lambda i: i.when)

    def linkedin_contacts(self) -> list[Person]:
        return list(self._objects("linkedin_contacts"))

    def identities(self) -> list[KnownIdentity]:
        """Every identity the store knows: those registered, and one for each key written in
        a record but not registered (a store from before identities, a hand edit), so no
        stored history is ever without one."""
        known: list[KnownIdentity] = list(self._objects("identities"))
        have = {fold_name(identity.key) for identity in known}
        # When the events are decoded already (the read model), their people come from the
        # objects, several times faster than from 50,000 documents; otherwise from the
        # documents, which is still far cheaper than decoding them.
        decoded = "events" in self._decoded
        stored = {
            name: self._table(name).values()
            for name in _PERSON_FIELDS
            if name not in _CACHE_TABLES and (name != "events" or not decoded)
        }
        events: list[Event] = self._objects("events") if decoded else []
        people = dict.fromkeys(e.person for e in events)
        for name in (*people, *_names_in(stored)):
            folded = fold_name(name)
            if folded not in have:
                have.add(folded)
                known.append(KnownIdentity(name, name, (folded,)))
        return known

    def undone(self) -> list[Tombstone]:
        """The tombstones in full, by id."""
        items: list[Tombstone] = self._objects("tombstones")
        return sorted(items, key=lambda t: t.id)

    def get_meta(self, key: str, default: Any = None) -> Any:
        doc = self._table("meta").docs.get(key)
        return default if doc is None else doc.get("value", default)

    def snapshot(self, *, with_cache: bool = True) -> Snapshot:
        return Snapshot(
            feeds=tuple(self.feeds()),
            posts=tuple(self.posts()) if with_cache else (),
            comments=tuple(self.comments()) if with_cache else (),
            events=tuple(self.events()),
            tombstones=frozenset(self.tombstones()),
            confirmations=tuple(self.confirmations()),
            trusted_names=tuple(self.trusted_names()),
            intro_evidence=tuple(self.intro_evidence()),
            linkedin_contacts=tuple(self.linkedin_contacts()),
            identities=tuple(self.identities()),
            undone=tuple(self.undone()),
            meta={
                str(key): doc.get("value")
                for key, doc in self._table("meta").docs.items()
                if key != "schema"
            },
            schema=SCHEMA,
            with_cache=with_cache,
            social_accounts=tuple(self.social_accounts()),
            social_posts=tuple(self.social_posts()) if with_cache else (),
        )

    # -- writes

    def put_feeds(self, feeds: Iterable[FeedState]) -> None:
        """Insert or replace, by url."""
        table = self._table("feeds")
        for feed in feeds:
            table.put(feed.url, to_json(feed))

    def remove_feed(self, url: str) -> bool:
        return self._table("feeds").remove(url) is not None

    def put_posts(self, posts: Iterable[Post]) -> int:
        """Insert or update by (feed, id); returns how many were new. The first time a post
        was seen is kept from its first storing: pruning and "new since" depend on it."""
        return self._put_polled("posts", posts)

    def put_comments(self, comments: Iterable[Comment]) -> int:
        """Insert or update by (feed, id); returns how many were new."""
        return self._put_polled("comments", comments)

    def _put_polled(self, name: str, items: Iterable[Post | Comment]) -> int:
        keyed = [((item.feed, item.id), item) for item in items]
        # Nothing to put must not open cache.json: a feed that answered 304 brings nothing.
        return self._put_first_seen(name, keyed) if keyed else 0

    def _put_first_seen(self, name: str, items: Iterable[tuple[Hashable, Any]]) -> int:
        """Insert or update (key, item) pairs, each keeping the first time its key was seen
        (`first_seen`: now for a new one that does not say); returns how many were new."""
        table = self._table(name)
        stamp = to_json(self.now)
        new = 0
        for key, item in items:
            old = table.docs.get(key)
            doc = to_json(item)
            if old is None:
                new += 1
                if doc["first_seen"] is None:
                    doc["first_seen"] = stamp
            else:
                doc["first_seen"] = old.get("first_seen") or doc["first_seen"] or stamp
            table.put(key, doc)
        return new

    def put_social_accounts(self, accounts: Iterable[SocialAccount]) -> None:
        """Insert or replace, by network and handle."""
        table = self._table("social_accounts")
        for account in accounts:
            table.put((account.network.value, account.handle), to_json(account))

    def put_social_posts(self, posts: Iterable[SocialPost]) -> int:
        """Insert or update by account and id; returns how many were new. The first time
        one was seen is kept, as for posts: pruning counts from it."""
        return self._put_first_seen("social_posts", [((p.account, p.id), p) for p in posts])

    def same_interaction(self, event: Event) -> Event | None:
        """A stored event of the other source (detected or logged by hand) that is the same
        interaction as `event`: the same person, kind and normalised link."""
        wanted = same_interaction(event.person, event.kind.value, event.url)
        if wanted is None:
            return None
        for doc in self._table("events").docs.values():
            if doc.get("source") == event.source.value:
                continue
            if _interaction(doc) == wanted:
                return self._decode_one("events", doc)  # type: ignore[no-any-return]
        return None

    def _logged_by_hand(self) -> set[tuple[str, str, str]]:
        found = set()
        for doc in self._table("events").docs.values():
            if doc.get("source") == EventSource.MANUAL.value:
                key = _interaction(doc)
                if key is not None:
                    found.add(key)
        return found

    def add_events(self, events: Iterable[Event]) -> list[Event]:
        """Add the events whose id is new: one already stored, or removed by undo (its
        tombstone), is skipped, so re-detection never counts twice or resurrects. A
        detected event the user already logged by hand (the same person, kind and link)
        is skipped too: the hand-logged one counts (docs/design.md, "Duplicates").

        Confirmation only goes up: a detection the user confirmed stays confirmed (also
        after `detect --rebuild`), and a stored unconfirmed one takes detection's word when
        it is now confirmed (a site or a trusted name added since). An auto event stored
        before detections carried a confirmation takes the one detection gives it now."""
        table = self._table("events")
        tombstones = self._table("tombstones").docs
        confirmed_ids = self._table("confirmations").docs
        by_hand: set[tuple[str, str, str]] | None = None
        added = []
        for event in events:
            if event.id in tombstones:
                continue
            if not event.confirmed and event.id in confirmed_ids:
                event = replace(event, confirmed=True)
            old = table.docs.get(event.id)
            if old is not None:
                if event.source is EventSource.AUTO and old.get("source") == "auto":
                    stored = old.get("confirmed")
                    if stored is None or (stored is False and event.confirmed):
                        doc = to_json(replace(event, created=event.created or self.now))
                        doc["created"] = old.get("created", doc["created"])
                        table.put(event.id, doc)
                continue
            if event.source is EventSource.AUTO and event.url:
                if by_hand is None:
                    by_hand = self._logged_by_hand()
                if same_interaction(event.person, event.kind.value, event.url) in by_hand:
                    continue
            if event.created is None:
                event = replace(event, created=self.now)
            table.put(event.id, to_json(event))
            added.append(event)
        return added

    def confirm_event(self, event_id: str) -> Event | None:
        """Mark a detection confirmed, and remember it: re-detection and `detect
        --rebuild` keep it confirmed."""
        doc = self._table("events").docs.get(event_id)
        if doc is None:
            return None
        doc = {**doc, "confirmed": True}
        self._table("events").put(event_id, doc)
        self._table("confirmations").put(
            event_id,
            {"id": event_id, "person": doc.get("person"), "confirmed": to_json(self.now)},
        )
        return self._decode_one("events", doc)  # type: ignore[no-any-return]

    def trust_names(self, pairs: Iterable[tuple[str, str]], person: str) -> list[Event]:
        """Trust (site, name) pairs, and confirm every stored detection that rested on
        trusted names only. Returns the events confirmed now."""
        table = self._table("trusted_names")
        for site, name in pairs:
            if (site, name) not in table.docs:
                doc = to_json(TrustedName(site, name, person, self.now))
                table.put((site, name), doc)
        trusted = set(table.docs)
        confirmed: list[Event] = []
        for key, doc in list(self._table("events").docs.items()):
            matches = doc.get("name_matches") or []
            resting = doc.get("confirmed") is False and matches
            if resting and all(tuple(pair) in trusted for pair in matches):
                event = self.confirm_event(str(key))
                if event is not None:
                    confirmed.append(event)
        return confirmed

    def remove_event(self, event_id: str) -> Event | None:
        """Remove an event and remember its id, so detection does not add it back."""
        doc = self._table("events").remove(event_id)
        if doc is None:
            return None
        self._table("tombstones").put(
            event_id,
            {"id": event_id, "person": doc.get("person"), "removed": to_json(self.now)},
        )
        return self._decode_one("events", doc)  # type: ignore[no-any-return]

    def remove_auto_events(self, person: str | None = None) -> int:
        """Remove detected events (all, or one person's) so detection can rebuild them.
        Manual ones stay; so do tombstones, or undone events would come back."""
        table = self._table("events")
        folded = fold_name(person) if person is not None else None
        doomed = [
            key
            for key, doc in table.docs.items()
            if doc.get("source") == EventSource.AUTO.value
            and (folded is None or fold_name(str(doc.get("person", ""))) == folded)
        ]
        for key in doomed:
            table.remove(key)
        return len(doomed)

    def put_intro_evidence(self, items: Iterable[IntroEvidence]) -> int:
        """Insert or update by id; returns how many were new."""
        table = self._table("intro_evidence")
        new = 0
        for item in items:
            new += item.id not in table.docs
            table.put(item.id, to_json(item))
        return new

    def put_linkedin_contacts(self, people: Iterable[Person]) -> tuple[int, int]:
        """Insert or update by LinkedIn profile URL, else by name and company (both
        case-insensitive); returns (added, updated)."""
        table = self._table("linkedin_contacts")
        added = updated = 0
        for person in people:
            doc = to_json(person)
            key = _linkedin_doc_key(doc)
            existed = key in table.docs
            if table.put(key, doc):
                if existed:
                    updated += 1
                else:
                    added += 1
        return added, updated

    def forget(self, who: Forgetting) -> dict[str, int]:
        """Remove every record about a person (see _forget_in); how many, by kind. The
        backups still hold them: Store.forget rewrites those once this has committed."""
        return _forget_in(self._table, who)

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run `step` once this transaction has written its files, still under the lock."""
        self._after_commit.append(step)

    def prune_cache(self, now: datetime, keep_days: int, keep_urls: set[str]) -> int:
        """Drop posts and comments first seen more than `keep_days` ago, except what
        `keep_urls` or any stored event points to (a comment also stays for the post it
        is on). Returns how many went."""
        cutoff = now - timedelta(days=keep_days)
        keep = set(keep_urls)
        keep.update(doc["url"] for doc in self._table("events").docs.values() if doc.get("url"))
        removed = self._prune_social(cutoff, {normalize_url(url) for url in keep})
        for name, link_fields in (("posts", ("link",)), ("comments", ("link", "post_link"))):
            table = self._table(name)
            doomed = []
            for key, doc in table.docs.items():
                seen = _parse_time(doc.get("first_seen") or doc.get("published"))
                if seen is None or seen >= cutoff:
                    continue
                if any(doc.get(f) in keep for f in link_fields):
                    continue
                doomed.append(key)
            for key in doomed:
                table.remove(key)
            removed += len(doomed)
        return removed

    def note_latest_posts(self, posts: Iterable[Post]) -> None:
        """Keep each person's newest post (title, link, date) in the precious file's meta,
        so `status` names it in a next step without reading the cache."""
        latest: dict[str, Any] = dict(self.get_meta(LATEST_POSTS) or {})
        changed = False
        for post in posts:
            when = post.published or post.first_seen
            if when is None or not post.link:
                continue
            old = latest.get(post.person)
            old_when = _parse_time(old.get("published")) if isinstance(old, dict) else None
            if old_when is None or when > old_when:
                latest[post.person] = to_json(LatestPost(post.title, post.link, when))
                changed = True
        if changed:
            self.set_meta(LATEST_POSTS, latest)

    def _prune_social(self, cutoff: datetime, keep: set[str]) -> int:
        """Statuses and posts first seen before `cutoff` go, except those an event links to:
        `detect --rebuild` must find every stored event again."""
        table = self._table("social_posts")
        decode: Callable[[Any], SocialPost] = decoder_for(_type_of("social_posts"))
        doomed = []
        for key, doc in table.docs.items():
            seen = _parse_time(doc.get("first_seen") or doc.get("when"))
            if seen is None or seen >= cutoff:
                continue
            post = decode(doc)
            if any(normalize_url(url) in keep for url in post.urls):
                continue
            doomed.append(key)
        for key in doomed:
            table.remove(key)
        return len(doomed)

    def remember_people(self, people: Iterable[Person]) -> None:
        """Register each person's key with their current name and aliases (a write only
        when something is new): what lets a later rename find their history."""
        table = self._table("identities")
        decode = decoder_for(KnownIdentity)
        for person in people:
            folded = fold_name(person.key)
            doc = table.docs.get(folded)
            known = decode(doc) if doc is not None else None
            table.put(folded, to_json(remember(known, person)))

    def rekey(self, old: str, new: str, name: str, ids: Mapping[str, str]) -> dict[str, int]:
        """File everything under key `old` under key `new` instead (two identities found to
        be one person, whose current name is `name`), giving records the ids in `ids`.
        An event already there (the same id, or the same kind and link as one of `new`'s)
        or undone there is dropped. Returns how many records moved, and `duplicates`."""
        fold_old, fold_new = fold_name(old), fold_name(new)
        counts: dict[str, int] = {}

        def move(name: str) -> None:
            table, fields, key_of = self._table(name), _PERSON_FIELDS[name], _KEYS[name]
            moved = 0
            for key, doc in list(table.docs.items()):
                changed = {f: new for f in fields if fold_name(str(doc.get(f) or "")) == fold_old}
                if not changed:
                    continue
                if name in _KEYED_BY_ID:
                    changed["id"] = ids.get(doc["id"], doc["id"])
                moved_doc = {**doc, **changed}
                new_key = key_of(moved_doc)
                if new_key == key:
                    table.put(key, moved_doc)
                else:
                    table.remove(key)
                    if new_key not in table.docs:
                        table.put(new_key, moved_doc)
                moved += 1
            counts[name] = moved

        # Undo markers first: an interaction undone on either side stays undone.
        tombstones = self._table("tombstones")
        for key, doc in list(tombstones.docs.items()):
            new_id = ids.get(str(key), str(key))
            if new_id != key and fold_name(str(doc.get("person") or "")) != fold_old:
                tombstones.remove(key)
                tombstones.put(new_id, {**doc, "id": new_id})
        move("tombstones")

        events = self._table("events")
        seen = {
            same_interaction(new, str(doc.get("kind")), doc.get("url"))
            for doc in events.docs.values()
            if fold_name(str(doc.get("person") or "")) == fold_new
        } - {None}
        moved = duplicates = 0
        for key, doc in list(events.docs.items()):
            if fold_name(str(doc.get("person") or "")) != fold_old:
                continue
            new_id = ids.get(str(key), str(key))
            same_link = same_interaction(new, str(doc.get("kind")), doc.get("url")) in seen
            if (new_id != key and new_id in events.docs) or new_id in tombstones.docs or same_link:
                events.remove(key)
                duplicates += 1
                if same_link and doc.get("source") == EventSource.AUTO.value:
                    # Detection would find this copy again under its new id: it stays removed,
                    # as an undone event does.
                    marker = {"id": new_id, "person": new, "removed": to_json(self.now)}
                    tombstones.put(new_id, marker)
                continue
            if new_id != key:
                events.remove(key)
            events.put(new_id, {**doc, "id": new_id, "person": new})
            moved += 1
        counts["events"] = moved
        counts["duplicates"] = duplicates
        for name in ("intro_evidence", "feeds", "posts", "comments", "confirmations",
                     "trusted_names", "social_accounts", "social_posts"):  # fmt: skip
            move(name)

        identities = self._table("identities")
        decode = decoder_for(KnownIdentity)
        gone_doc = identities.remove(fold_old)
        kept_doc = identities.docs.get(fold_new)
        gone = decode(gone_doc) if gone_doc else KnownIdentity(old, old, (fold_old,))
        kept = decode(kept_doc) if kept_doc else KnownIdentity(new, new, (fold_new,))
        identities.put(fold_new, to_json(combined(kept, gone, name)))
        return counts

    def restore(self, tables: Mapping[str, Sequence[Doc]], schema: int) -> dict[str, int]:
        """Add what a copy of a store holds (`tables`: documents by table, as `schema`
        wrote them) and this one lacks; the ids decide what is already here. An event
        undone on either side stays undone; an identity known to both keeps every name.
        Returns how many documents were added to each table."""
        if schema > SCHEMA:
            raise StoreError(
                f"written by a newer engage (schema {schema}; this one reads up to "
                f"{SCHEMA}): upgrade engage"
            )
        if schema < SCHEMA:
            tables = _migrated(tables, schema)
        added: dict[str, int] = {}
        for name in ("meta", "identities", "tombstones", "confirmations", "trusted_names",
                     "feeds", "events", "intro_evidence", "linkedin_contacts", "posts",
                     "comments", "social_accounts", "social_posts"):  # fmt: skip
            docs = [_checked(name, doc) for doc in tables.get(name, ())]
            table = self._table(name)
            count = 0
            for doc in docs:
                key = table.key(doc)
                if name == "meta" and key == "schema":
                    continue
                if name == "events" and key in self._table("tombstones").docs:
                    continue
                if name == "identities" and key in table.docs:
                    decode = decoder_for(KnownIdentity)
                    here = decode(table.docs[key])
                    table.put(key, to_json(combined(here, decode(doc), here.name)))
                    continue
                if key not in table.docs:
                    table.put(key, doc)
                    count += 1
            added[name] = count
        return added

    def set_meta(self, key: str, value: Any) -> None:
        """Keep a small JSON-ready value (the last digest sent, …) with the precious data."""
        if key == "schema":
            raise ValueError("the schema version is the store's own; it changes by migration")
        self._table("meta").put(key, {"key": key, "value": to_json(value)})


def latest_posts_of(meta: Mapping[str, Any]) -> dict[str, LatestPost]:
    """The meta's latest posts by person; a damaged entry is skipped (it is rebuilt by the
    next poll that brings a post)."""
    decode = decoder_for(LatestPost)
    out: dict[str, LatestPost] = {}
    for person, doc in meta.items():
        try:
            out[person] = decode(doc)
        except ValueError:
            continue
    return out


def _interaction(doc: Doc) -> tuple[str, str, str] | None:
    """identity.same_interaction of a stored event document."""
    return same_interaction(str(doc.get("person") or ""), str(doc.get("kind")), doc.get("url"))


def _checked(name: str, doc: Any) -> Doc:
    """A document from outside (an import) as this store writes it: decoded and encoded
    again, so a wrong shape is refused before anything is written."""
    if not isinstance(doc, Mapping):
        raise StoreError(f"table {name!r}: {doc!r} is not a document")
    if name == "meta":
        if not isinstance(doc.get("key"), str):
            raise StoreError(f"table 'meta': {dict(doc)!r} has no key")
        return {"key": doc["key"], "value": to_json(doc.get("value"))}
    try:
        value: Any = decoder_for(_type_of(name))(doc)
    except ValueError as exc:
        raise StoreError(f"table {name!r}: {exc}") from exc
    encoded: Doc = to_json(value)
    return encoded


def _migrated(tables: Mapping[str, Sequence[Doc]], schema: int) -> dict[str, list[Doc]]:
    """Tables written by an older schema, brought up to this one by the same migrations a
    file on disk goes through."""
    from tinydb.storages import MemoryStorage

    precious, cache = TinyDB(storage=MemoryStorage), TinyDB(storage=MemoryStorage)
    for name, docs in tables.items():
        target = cache if name in _CACHE_TABLES else precious
        target.table(name).insert_multiple(dict(doc) for doc in docs)
    for version in range(schema, SCHEMA):
        MIGRATIONS[version](precious, cache)
    return {
        name: [dict(doc) for doc in db.table(name).all()]
        for db in (precious, cache)
        for name in db.tables()
    }


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------
# Forgetting a person


@dataclass(frozen=True)
class Forgetting:
    """Whom `forget` removes, as the store can recognise them."""

    identity: Identity  # their name, folded names and aliases, and their own sites
    feeds: frozenset[str] = frozenset()  # their feeds (those stored under their name too)
    # How other people's writing names them: the full name and aliases of several words
    # (a one-word alias like "will" cannot be told from an ordinary word).
    said: tuple[str, ...] = ()
    # Their Mastodon and Bluesky addresses as statuses carry them (user@host, a DID): my
    # replies, boosts and mentions of them go too.
    addresses: tuple[str, ...] = ()


# What forget removed, by kind, in the order a user reads them.
FORGOTTEN_KINDS = (
    "events",
    "undo markers",
    "confirmed detections",
    "trusted names",
    "feeds",
    "posts",
    "comments on their feeds",
    "comments they wrote",
    "intro evidence",
    "LinkedIn entries",
    "posts and comments naming them",
    "social accounts",
    "social statuses",
    "texts with their name taken out",
)
REDACTED = "[forgotten]"


def _forget_in(table: Callable[[str], _Table | None], who: Forgetting) -> dict[str, int]:
    """Remove everything about a person from the tables `table` gives (None: not in this
    file): their events and undo markers; their feeds with their state, posts and
    comments; the comments they wrote (by name or alias, or an author URL on their sites);
    intro evidence naming them on either side; their LinkedIn entry; others' posts and
    comments that name them or link to their sites (the cache refetches what it needs);
    and their name in the notes and snippets of what stays."""
    from engage.detect import on_sites

    key, names = fold_name(who.identity.name), who.identity.names
    counts = dict.fromkeys(FORGOTTEN_KINDS, 0)

    def named(doc: Doc, *fields: str) -> bool:
        """Filed under their key (what every `person` field holds, docs/design.md,
        "Identity")."""
        return any(fold_name(str(doc.get(f) or "")) == key for f in fields)

    def called(doc: Doc, field: str) -> bool:
        """Written by any name they ever went by (a comment's author, a LinkedIn entry)."""
        return fold_name(str(doc.get(field) or "")) in names

    def drop(name: str, kind: str, about: Callable[[Doc], bool]) -> None:
        found = table(name)
        if found is None:
            return
        doomed = [key for key, doc in found.docs.items() if about(doc)]
        for key in doomed:
            found.remove(key)
        counts[kind] += len(doomed)

    feeds = set(who.feeds)
    stored = table("feeds")
    if stored is not None:
        feeds.update(str(doc["url"]) for doc in stored.docs.values() if named(doc, "person"))
    said = _said_pattern(who.said)

    def says(doc: Doc, *fields: str) -> bool:
        return said is not None and any(said.search(str(doc.get(f) or "")) for f in fields)

    def links(doc: Doc, *fields: str) -> bool:
        urls = [doc.get(f) for f in fields if f != "links"] + list(doc.get("links") or ())
        return any(isinstance(url, str) and on_sites(who.identity, url) for url in urls)

    drop("events", "events", lambda doc: named(doc, "person"))
    drop("tombstones", "undo markers", lambda doc: named(doc, "person"))
    drop("confirmations", "confirmed detections", lambda doc: named(doc, "person"))
    drop("trusted_names", "trusted names", lambda doc: named(doc, "person"))
    drop("feeds", "feeds", lambda doc: named(doc, "person") or doc.get("url") in feeds)
    drop("posts", "posts", lambda doc: named(doc, "person") or doc.get("feed") in feeds)
    their_comments: Callable[[Doc], bool] = lambda doc: (  # noqa: E731
        named(doc, "person") or doc.get("feed") in feeds
    )
    drop("comments", "comments on their feeds", their_comments)
    drop(
        "comments",
        "comments they wrote",
        lambda doc: called(doc, "author") or links(doc, "author_url"),
    )
    drop("intro_evidence", "intro evidence", lambda doc: named(doc, "person", "contact"))
    drop("linkedin_contacts", "LinkedIn entries", lambda doc: called(doc, "name"))
    mentions = "posts and comments naming them"
    drop("posts", mentions, lambda doc: says(doc, "title", "summary") or links(doc, "links"))
    drop("comments", mentions, lambda doc: says(doc, "snippet") or links(doc, "post_link"))
    meta = table("meta")  # their latest post, kept for the next step's words: gone too
    latest = meta.docs.get(LATEST_POSTS) if meta is not None else None
    if meta is not None and latest is not None and isinstance(latest.get("value"), dict):
        value = {k: v for k, v in latest["value"].items() if fold_name(k) != key}
        if value != latest["value"]:
            meta.put(LATEST_POSTS, {**latest, "value": value})
    if meta is not None and JOINED_THREADS in meta.docs:
        # The threads I joined name posts on their sites; the list is worked out again
        # from the comments that stay, at the next poll.
        meta.remove(JOINED_THREADS)

    drop("social_accounts", "social accounts", lambda doc: named(doc, "person"))
    addresses = [a.casefold() for a in who.addresses if a.strip()]

    def about_them(doc: Doc) -> bool:
        """Theirs, or one of anyone's statuses that answers, shares or names them."""
        if named(doc, "person"):
            return True
        text = json.dumps(doc, ensure_ascii=False)
        folded = text.casefold()
        return any(a in folded for a in addresses) or (said is not None and bool(said.search(text)))

    drop("social_posts", "social statuses", about_them)
    known = table("identities")  # who they were (every name): gone with them, not counted
    if known is not None:
        for doomed in [k for k, doc in known.docs.items() if named(doc, "key")]:
            known.remove(doomed)
    texts = {"events": ("evidence", "note"), "intro_evidence": ("evidence",), "feeds": ("title",)}
    for name, fields in texts.items() if said is not None else ():
        kept = table(name)
        for found, doc in list(kept.docs.items()) if kept is not None else ():
            if kept is not None and said is not None and says(doc, *fields):
                redacted = {f: said.sub(REDACTED, doc[f]) for f in fields if doc.get(f)}
                kept.put(found, {**doc, **redacted})
                counts["texts with their name taken out"] += 1
    return counts


def _said_pattern(said: Sequence[str]) -> re.Pattern[str] | None:
    """Any of the ways of naming someone, as words, case and spacing aside."""
    forms = [r"\s+".join(re.escape(word) for word in form.split()) for form in said]
    forms = [form for form in forms if form]
    if not forms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(forms) + r")(?!\w)", re.IGNORECASE)


# ---------------------------------------------------------------------------
# The store


def _make_folder(folder: Path) -> None:
    """The data folder, made if missing; one line saying why it cannot be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(
            f"{folder}: this is a file, not a folder; give --data or ENGAGE_DATA a folder"
        ) from None
    except NotADirectoryError as exc:
        raise StoreError(
            f"{folder}: cannot make the data folder, a part of its path is a file ({exc.filename})"
        ) from None
    except OSError as exc:
        raise StoreError(f"{folder}: cannot make the data folder ({exc.strerror})") from exc


class Store:
    """The data folder. Writes open the files fresh under the lock and close them before
    releasing it; reads take no lock (every write is an atomic replace), so the CLI, the
    daemon and the web report can share the folder and a read never waits for a write."""

    def __init__(self, folder: Path, *, notify: Callable[[str], None] | None = None) -> None:
        """Open (or create) the store in `folder`. Nothing is written unless something
        must be: a new store's first file, or a migration (skipped where the folder is
        read-only: every read migrates in memory). `notify` hears one-line warnings (a
        damaged cache set aside)."""
        self.folder = Path(folder)
        self._notify = notify or (lambda _message: None)
        self._local = threading.local()
        self.created = False  # this call made a new, empty store
        _make_folder(self.folder)
        self._clean_if_idle()
        if _peek_schema(self.folder / PRECIOUS) == SCHEMA:
            return  # the usual case, known from the file's first bytes, without the lock
        # Anything else is read without the lock first: a newer, damaged or lost file stops
        # here, and a current file that was only reformatted needs nothing written.
        new = True
        try:
            view = self.view(with_cache=False)
        except LostStore as exc:
            if exc.traces != (LOCK,):
                raise
            # Only the lock: perhaps another process is creating this store right now;
            # the transaction below waits for it and looks again.
        else:
            try:
                new = view._precious.was_new
                if not (new or view.migrated):
                    return
            finally:
                view.close()
        try:
            with self.transaction() as tx:
                # Creates a new store's file, migrates an old one.
                self.created = tx._precious.was_new
                tx._precious.stamp()
        except StoreError:
            if new or os.access(self.folder, os.W_OK):
                raise
            # An old file in a read-only folder: every read migrates it in memory.

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    def _clean_if_idle(self) -> None:
        """Remove a killed writer's temp files now when no write is running; when one is,
        leave them to the next transaction rather than wait for the lock. Without any,
        the lock is not even taken: opening the store writes nothing."""
        if next(_orphans(self.folder), None) is None:
            return
        try:
            with exclusive_lock(self.folder / LOCK, timeout=0):
                clean_orphans(self.folder)
        except (LockTimeout, OSError):
            pass

    @contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the folder's lock; yields whether the lock file was there before (a store
        engage used), for telling a new store from a lost one."""
        lock = self.folder / LOCK
        existed = lock.exists()

        def busy() -> StoreError:
            return StoreError(
                f"{lock}: another engage process has held the data folder for "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s; try again when it is done"
            )

        def unavailable(exc: OSError) -> None:
            raise StoreError(_cannot_save(self.folder, exc)) from exc

        with holding(lock, timeout=LOCK_TIMEOUT_SECONDS, busy=busy, unavailable=unavailable):
            yield existed

    def check_writable(self) -> None:
        """Say now, in one line, when nothing could be saved here: before a poll spends a
        minute fetching what it could not keep."""
        with self._locked():
            pass
        if not os.access(self.folder, os.W_OK):
            denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            raise StoreError(_cannot_save(self.folder, denied))

    @contextmanager
    def transaction(self, now: datetime | None = None) -> Iterator[Transaction]:
        """Lock, load fresh, let the block change things, commit on normal exit. An
        exception in the block writes nothing. `now` stamps first_seen and created."""
        if getattr(self._local, "open", False):
            # A nested transaction would commit first and then be overwritten by the outer.
            raise RuntimeError("a transaction is already open on this store in this thread")
        with self._locked() as lock_existed:
            clean_orphans(self.folder)
            self._local.open = True
            tx: Transaction | None = None
            try:
                tx = Transaction(
                    self.folder,
                    now or datetime.now(UTC),
                    locked=True,
                    lock_counts=lock_existed,
                    store=self,
                )
                yield tx
                try:
                    tx._commit()
                    for step in tx._after_commit:
                        step()
                except OSError as exc:
                    raise StoreError(_cannot_save(self.folder, exc)) from exc
            finally:
                self._local.open = False
                if tx is not None:
                    tx._close()

    def forget(self, who: Forgetting) -> dict[str, int]:
        """Remove everything about a person from the data folder, under one lock: the store
        itself, then every backup copy (rewritten without them, or removed when it does
        not load) and any set-aside damaged cache. How many went, by kind."""
        with self.transaction() as tx:
            counts = tx.forget(who)
            tx.after_commit(lambda: counts.update(self._forget_in_copies(who)))
        return counts

    def _forget_in_copies(self, who: Forgetting) -> dict[str, int]:
        counts = {"backup copies rewritten": 0, "backup copies removed": 0}
        # A copy and its hard links (engage.json.bak is often the day's generation too)
        # are rewritten once and linked again, so they stay one file.
        linked: dict[tuple[int, int], list[Path]] = {}
        for copy in backup_copies(self.folder):
            stat = copy.stat()
            linked.setdefault((stat.st_dev, stat.st_ino), []).append(copy)
        for copies in linked.values():
            first, stat = copies[0], copies[0].stat()
            try:
                file = _File(first, precious=False)
            except StoreError:  # a copy that does not load may hold them, and restores nothing
                for copy in copies:
                    copy.unlink(missing_ok=True)
                counts["backup copies removed"] += len(copies)
                continue
            try:
                found = _forget_in(file.table_if_held, who)
                if any(found.values()):
                    file.commit(stamp=False)
                    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its day stays
                    for copy in copies[1:]:
                        keep_copy(first, copy)
                    counts["backup copies rewritten"] += len(copies)
            finally:
                file.close()
        damaged = list(self.folder.glob(DAMAGED_CACHE + "*"))
        for aside in damaged:
            aside.unlink(missing_ok=True)  # set aside for a look; it may hold them
        counts["damaged caches removed"] = len(damaged)
        return counts

    def files_mentioning(self, needles: Iterable[str]) -> list[Path]:
        """Every file in the data folder whose text holds one of `needles` (case aside, HTML
        entities read as text): what `forget` checks it left nothing of someone behind."""
        wanted = [needle.casefold() for needle in needles if needle.strip()]
        found = []
        for root, _folders, names in os.walk(self.folder):
            for name in names:
                path = Path(root) / name
                try:
                    raw = path.read_bytes()
                except OSError:
                    continue
                text = html.unescape(raw.decode("utf-8", errors="replace")).casefold()
                if any(needle in text for needle in wanted):
                    found.append(path)
        return sorted(found)

    def cache_missing(self) -> bool:
        """cache.json is absent (deleted, set aside, never written): everything polled
        before must be fetched again in full, or the feeds' 304s would keep it empty. A
        stat, not a read: a damaged cache shows, and is set aside, when it is read."""
        return cache_absent(self.folder)

    def view(self, *, with_cache: bool = True) -> Transaction:
        """One consistent read of the store, without the lock, for reading only (it is
        never committed). engage.json is read now, and with `with_cache` cache.json too
        (its bytes; they are parsed and decoded only when a table of it is asked for), so
        every part of the view comes from the same moment."""
        return Transaction(self.folder, datetime.now(UTC), preload_cache=with_cache, store=self)

    def _read(self, read: Callable[[Transaction], T]) -> T:
        tx = Transaction(self.folder, datetime.now(UTC), store=self)
        try:
            return read(tx)
        finally:
            tx._close()

    def _set_aside_cache(self, reason: str, seen: os.stat_result | None, *, locked: bool) -> None:
        """Rename a damaged cache.json to cache.json.damaged-<UTC time> (under the lock, and
        only if it is still the file found damaged) and say so in one line."""
        path = self.folder / CACHE
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.folder / f"{DAMAGED_CACHE}{stamp}"
        copy = 1
        while target.exists():
            copy += 1
            target = self.folder / f"{DAMAGED_CACHE}{stamp}-{copy}"
        try:
            with ExitStack() as stack:
                if not locked:
                    lock = self.folder / LOCK
                    stack.enter_context(exclusive_lock(lock, timeout=SET_ASIDE_WAIT_SECONDS))
                if seen is not None and not _same_file(path, seen):
                    return  # replaced meanwhile by a writer: not the file found damaged
                os.rename(path, target)
                fsync_folder(self.folder)
        except FileNotFoundError:
            return  # another engage process set it aside first
        except (LockTimeout, OSError) as exc:
            why = "the data folder is busy" if isinstance(exc, LockTimeout) else exc.strerror
            self._notify(
                f"engage: {path} is damaged ({reason}); reading on without it (it cannot be "
                f"set aside now: {why})"
            )
            return
        self._notify(
            f"engage: {path} was damaged ({reason}); set aside as {target.name}, the next "
            "`engage poll` fetches its posts and comments again"
        )

    def feeds(self) -> list[FeedState]:
        return self._read(lambda tx: tx.feeds())

    def feed(self, url: str) -> FeedState | None:
        return self._read(lambda tx: tx.feed(url))

    def posts(self, person: str | None = None, since: datetime | None = None) -> list[Post]:
        return self._read(lambda tx: tx.posts(person, since))

    def comments(self, person: str | None = None) -> list[Comment]:
        return self._read(lambda tx: tx.comments(person))

    def events(self, person: str | None = None) -> list[Event]:
        return self._read(lambda tx: tx.events(person))

    def tombstones(self) -> set[str]:
        return self._read(lambda tx: tx.tombstones())

    def social_accounts(self) -> list[SocialAccount]:
        return self._read(lambda tx: tx.social_accounts())

    def intro_evidence(self, person: str | None = None) -> list[IntroEvidence]:
        return self._read(lambda tx: tx.intro_evidence(person))

    def linkedin_contacts(self) -> list[Person]:
        return self._read(lambda tx: tx.linkedin_contacts())

    def get_meta(self, key: str, default: Any = None) -> Any:
        return self._read(lambda tx: tx.get_meta(key, default))

    def snapshot(self) -> Snapshot:
        return self._read(lambda tx: tx.snapshot(with_cache=True))

    def load_precious_only(self) -> Snapshot:
        """Everything but posts and comments, without reading cache.json: what status and
        log need, at a fraction of the cost."""
        return self._read(lambda tx: tx.snapshot(with_cache=False))
