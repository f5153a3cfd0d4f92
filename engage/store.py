"""The store: what engage remembers between runs, safe for several processes at once.

Two TinyDB JSON files in the data folder, so logging one event never rewrites megabytes of
polled posts:

- `engage.json`, precious: meta (schema version), feeds (their HTTP and schedule state),
  events, tombstones (events removed by undo), intro evidence, LinkedIn contacts, and the
  identities every person's records are filed under (engage.identity);
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

Before each replace of engage.json the previous version is kept as `engage.json.bak`
(a hard link, so no copy of a large file), which is what a user restores from if the
file is ever damaged by something other than engage.
"""

from __future__ import annotations

import gc
import json
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import Query, TinyDB
from tinydb.storages import Storage

from engage.codec import decoder_for, to_json
from engage.errors import StoreError
from engage.files import LockTimeout, atomic_write, exclusive_lock, is_temp_of
from engage.identity import KnownIdentity, combined, remember, same_interaction
from engage.models import (
    DIRECTION,
    Comment,
    Event,
    EventKind,
    EventSource,
    FeedState,
    IntroEvidence,
    Person,
    Post,
    SocialAccount,
    fold_name,
)
from engage.social.accounts import SocialPost
from engage.urls import normalize_url

# 2: an `identities` table, and every `person` field holds the person's key
# (docs/design.md, "Identity").
SCHEMA = 2
PRECIOUS = "engage.json"
CACHE = "cache.json"
LOCK = "engage.lock"
BACKUP_SUFFIX = ".bak"
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


_TYPES: dict[str, type] = {
    "feeds": FeedState,
    "events": Event,
    "intro_evidence": IntroEvidence,
    "linkedin_contacts": Person,
    "posts": Post,
    "comments": Comment,
    "identities": KnownIdentity,
    "tombstones": Tombstone,
    "social_accounts": SocialAccount,
    "social_posts": SocialPost,
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
    "social_accounts": ("person",),
    "social_posts": ("person",),
}
# Tables whose records are identified by an id that hashes a person's key.
_KEYED_BY_ID = frozenset({"events", "tombstones", "intro_evidence"})
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


def clean_orphans(folder: Path) -> list[Path]:
    """Remove temp files left by a writer that died before its rename. Called with the lock
    held, when no write can be in progress, so every temp file found is an orphan."""
    removed = []
    for name in (PRECIOUS, CACHE, PRECIOUS + BACKUP_SUFFIX):
        for orphan in folder.glob(f".{name}.*.tmp"):
            if is_temp_of(orphan, name):
                orphan.unlink(missing_ok=True)
                removed.append(orphan)
    return removed


def _dumps(data: Any) -> bytes:
    if "meta" in data:  # first, so _peek_schema finds the version in the first bytes
        data = {"meta": data["meta"], **{k: v for k, v in data.items() if k != "meta"}}
    try:
        # orjson writes the same bytes as json.dumps(ensure_ascii=False, compact) for what
        # engage stores, 13x faster: 0.016 s instead of 0.21 s for the 15 MB benchmark file
        # (50,000 events), which `engage log` rewrites to add one event. The final newline
        # marks a file that orjson may read back (see _loads).
        return orjson.dumps(data) + _ORJSON_MARK
    except TypeError:  # what orjson refuses (an int beyond 64 bits, ...): the stdlib's way
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# orjson reads an integer of 2**64 or more as a float, silently (the stdlib keeps it
# exact), and such a number can come from a feed (an enclosure's length). orjson never
# writes one (it raises, and _dumps falls back to the stdlib), so a file that orjson wrote
# is safe to read with it. Those files end with this newline; older files, and files with
# such numbers, do not, and are read by the stdlib.
_ORJSON_MARK = b"\n"


def _loads(raw: bytes) -> Any:
    """Parse a store file: orjson for the files it wrote (0.14 s instead of 0.21 s for the
    15 MB benchmark file), else the stdlib, which also reads what orjson refuses (NaN, a
    lone surrogate) and words errors as users and tests know them ("Expecting ...")."""
    if raw.endswith(_ORJSON_MARK):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # a hand edit, a broken file: the stdlib reads it or says what is wrong
    return json.loads(raw.decode("utf-8"))  # engage writes UTF-8; no guessing


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


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes, None when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read it ({exc.strerror})") from exc


def _read_json(
    path: Path, *, precious: bool, raw: bytes | None = None
) -> dict[str, dict[str, Doc]] | None:
    """The file's tables (from `raw` when the caller read its bytes already), None when it
    does not exist or is empty (a new store)."""
    if raw is None:
        raw = _read_bytes(path)
    if raw is None or not raw.strip():
        return None
    try:
        with gc_paused():
            data = _loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(_unreadable(path, str(exc), precious=precious)) from exc
    problem = _shape_problem(data)
    if problem:
        raise StoreError(_unreadable(path, problem, precious=precious))
    return data  # type: ignore[no-any-return]


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a TinyDB file: the top level is not an object"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"table {name!r} is not an object"
        for doc_id, doc in table.items():
            if not isinstance(doc, dict) or not doc_id.isdigit():
                return f"table {name!r}: document {doc_id!r} is not a document"
    return None


def _unreadable(path: Path, reason: str, *, precious: bool) -> str:
    if not precious:
        return (
            f"{path}: cannot read it ({reason}). It only holds polled posts and comments, "
            "which the next poll fetches again: delete it and run `engage poll`."
        )
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if backup.exists():
        return (
            f"{path}: cannot read it ({reason}). {backup} holds the version before the last "
            f"write: keep the damaged file aside and restore it with "
            f"`mv {path} {path}.damaged && cp {backup} {path}`."
        )
    return (
        f"{path}: cannot read it ({reason}), and there is no backup ({backup}). Restore it "
        f"from your own backups, or move it aside (`mv {path} {path}.damaged`) to start "
        "over with an empty store."
    )


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
        backup: Path | None = None,
        precious: bool = True,
        raw: bytes | None = None,
    ) -> None:
        self.path = path
        self.backup = backup
        self.precious = precious
        self.dirty = False
        self._loaded = False
        self._raw = raw  # the file's bytes, when the owner read them at a chosen moment
        self._data: dict[str, dict[str, Doc]] | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = _read_json(self.path, precious=self.precious, raw=self._raw)
            self._raw = None
            self._loaded = True
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            atomic_write(self.path, _dumps(self._data or {}), backup=self.backup)
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
                    raise StoreError(_unreadable(self.path, reason, precious=precious)) from exc
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
    """One of the two JSON files, opened fresh for one transaction."""

    def __init__(self, path: Path, *, precious: bool, raw: bytes | None = None) -> None:
        self.path = path
        backup = path.with_name(path.name + BACKUP_SUFFIX) if precious else None
        self.db = TinyDB(
            path, storage=AtomicJSONStorage, backup=backup, precious=precious, raw=raw
        )
        storage = self.db.storage
        assert isinstance(storage, AtomicJSONStorage)
        self.storage = storage
        self.tables: dict[str, _Table] = {}
        self.was_new = False
        self.schema = self._read_schema()

    def _read_schema(self) -> int:
        data = self.storage.read()
        if data is None:
            self.was_new = True
            return SCHEMA
        for doc in data.get("meta", {}).values():
            if doc.get("key") == "schema":
                version = doc.get("value")
                if not isinstance(version, int) or isinstance(version, bool):
                    raise StoreError(
                        f"{self.path}: the schema version {version!r} is not a number; "
                        "the file was edited by hand or by another program"
                    )
                if version > SCHEMA:
                    raise StoreError(
                        f"{self.path} was written by a newer engage (schema {version}; "
                        f"this one reads up to {SCHEMA}): upgrade engage"
                    )
                return version
        return 0  # written before files carried a version

    def table(self, name: str) -> _Table:
        table = self.tables.get(name)
        if table is None:
            data = self.storage.read() or {}
            table = _Table(name, data.get(name), self.path)
            self.tables[name] = table
        return table

    def stamp(self) -> None:
        self.table("meta").put("schema", {"key": "schema", "value": SCHEMA})

    def commit(self) -> None:
        if not (self.storage.dirty or any(t.changed for t in self.tables.values())):
            return
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


# ---------------------------------------------------------------------------
# Transactions


class Transaction:
    """Reads and writes on one fresh load of the store, under its lock.

    Reads see this transaction's own changes. Nothing reaches the disk until the
    `with store.transaction()` block ends normally.
    """

    def __init__(self, folder: Path, now: datetime, *, preload_cache: bool = False) -> None:
        self.now = now
        self._precious = _File(folder / PRECIOUS, precious=True)
        # engage.json first, then cache.json: the order writers make them consistent in.
        self._cache_raw = _read_bytes(folder / CACHE) if preload_cache else None
        self._cache_file: _File | None = None
        self._decoded: dict[str, tuple[int, list[Any]]] = {}
        self._open = True
        if self._precious.schema < SCHEMA:
            self._migrate()

    # -- plumbing

    @property
    def _cache(self) -> _File:
        if self._cache_file is None:
            # cache.json was born with schema 1: one without a version (a hand-made or
            # stock TinyDB file) holds the same documents and is stamped on its next write.
            self._cache_file = _File(
                self._precious.path.with_name(CACHE), precious=False, raw=self._cache_raw
            )
            self._cache_raw = None
        return self._cache_file

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
        for name in _TYPES:
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
        decode: Callable[[Any], Any] = decoder_for(_TYPES[name])
        try:
            with gc_paused():
                objects = [decode(doc) for doc in table.values()]
        except ValueError as exc:
            raise self._damaged(name, exc) from exc
        self._decoded[name] = (table.version, objects)
        return objects

    def _file_of(self, name: str) -> Path:
        return self._precious.path.with_name(CACHE if name in _CACHE_TABLES else PRECIOUS)

    def _decode_one(self, name: str, doc: Doc) -> Any:
        try:
            return decoder_for(_TYPES[name])(doc)
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

    def tombstones(self) -> set[str]:
        return {str(key) for key in self._table("tombstones").docs}

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
        return self._put_first_seen(name, [((item.feed, item.id), item) for item in items])

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
        is skipped too: the hand-logged one counts (docs/design.md, "Duplicates")."""
        table = self._table("events")
        tombstones = self._table("tombstones").docs
        by_hand: set[tuple[str, str, str]] | None = None
        added = []
        for event in events:
            if event.id in table.docs or event.id in tombstones:
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

    def forget(self, person: str, *, names: Iterable[str] = ()) -> dict[str, int]:
        """Remove every record about a person; how many went from each table. `person` is
        the key their records are filed under; `names` are every name they went by (for
        the comments they wrote and their LinkedIn entry)."""
        folded = fold_name(person)
        called = {folded, *(fold_name(name) for name in names)}

        def filed(*fields: str) -> Callable[[Doc], bool]:
            return lambda doc: any(fold_name(str(doc.get(f) or "")) == folded for f in fields)

        def wrote(doc: Doc) -> bool:
            return filed("person")(doc) or fold_name(str(doc.get("author") or "")) in called

        rules: dict[str, Callable[[Doc], bool]] = {
            "feeds": filed("person"),
            "posts": filed("person"),
            # Comments on their blog, and comments they wrote on anyone else's.
            "comments": wrote,
            "events": filed("person"),
            "tombstones": filed("person"),
            "intro_evidence": filed("person", "contact"),
            "linkedin_contacts": lambda doc: fold_name(str(doc.get("name") or "")) in called,
            "identities": filed("key"),
            "social_accounts": filed("person"),
            "social_posts": filed("person"),
        }
        counts: dict[str, int] = {}
        for name, about in rules.items():
            table = self._table(name)
            doomed = [key for key, doc in table.docs.items() if about(doc)]
            for key in doomed:
                table.remove(key)
            counts[name] = len(doomed)
        return counts

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

    def _prune_social(self, cutoff: datetime, keep: set[str]) -> int:
        """Statuses and posts first seen before `cutoff` go, except those an event links to:
        `detect --rebuild` must find every stored event again."""
        table = self._table("social_posts")
        decode = decoder_for(SocialPost)
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
        for name in ("intro_evidence", "feeds", "posts", "comments", "social_accounts",
                     "social_posts"):  # fmt: skip
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
        for name in ("meta", "identities", "tombstones", "feeds", "events", "intro_evidence",
                     "linkedin_contacts", "posts", "comments", "social_accounts",
                     "social_posts"):  # fmt: skip
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
        value: Any = decoder_for(_TYPES[name])(doc)
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
# The store


class Store:
    """The data folder. Writes open the files fresh under the lock and close them before
    releasing it; reads take no lock (every write is an atomic replace), so the CLI, the
    daemon and the web report can share the folder and a read never waits for a write."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.folder}: cannot create the data folder ({exc})") from exc
        self._local = threading.local()
        self._clean_if_idle()
        if _peek_schema(self.folder / PRECIOUS) == SCHEMA:
            return  # the usual case, known from the file's first bytes, without the lock
        with self.transaction() as tx:
            # Creates a new store's file, migrates an old one, refuses a newer one.
            tx._precious.stamp()

    def __repr__(self) -> str:
        return f"Store({str(self.folder)!r})"

    def _clean_if_idle(self) -> None:
        """Remove a killed writer's temp files now when no write is running; when one is,
        leave them to the next transaction rather than wait for the lock."""
        try:
            with exclusive_lock(self.folder / LOCK, timeout=0):
                clean_orphans(self.folder)
        except (LockTimeout, OSError):
            pass

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.folder / LOCK
        try:
            with exclusive_lock(lock, timeout=LOCK_TIMEOUT_SECONDS):
                yield
        except LockTimeout:
            raise StoreError(
                f"{lock}: another engage process has held the data folder for "
                f"{LOCK_TIMEOUT_SECONDS:.0f} s; try again when it is done"
            ) from None
        except OSError as exc:
            if exc.filename is not None and Path(exc.filename) == lock:
                raise StoreError(f"{lock}: cannot lock the data folder ({exc})") from exc
            raise

    @contextmanager
    def transaction(self, now: datetime | None = None) -> Iterator[Transaction]:
        """Lock, load fresh, let the block change things, commit on normal exit. An
        exception in the block writes nothing. `now` stamps first_seen and created."""
        if getattr(self._local, "open", False):
            # A nested transaction would commit first and then be overwritten by the outer.
            raise RuntimeError("a transaction is already open on this store in this thread")
        with self._locked():
            clean_orphans(self.folder)
            self._local.open = True
            tx: Transaction | None = None
            try:
                tx = Transaction(self.folder, now or datetime.now(UTC))
                yield tx
                tx._commit()
            finally:
                self._local.open = False
                if tx is not None:
                    tx._close()

    def view(self, *, with_cache: bool = True) -> Transaction:
        """One consistent read of the store, without the lock, for reading only (it is
        never committed). engage.json is read now, and with `with_cache` cache.json too
        (its bytes; they are parsed and decoded only when a table of it is asked for), so
        every part of the view comes from the same moment."""
        return Transaction(self.folder, datetime.now(UTC), preload_cache=with_cache)

    def _read(self, read: Callable[[Transaction], T]) -> T:
        tx = Transaction(self.folder, datetime.now(UTC))
        try:
            return read(tx)
        finally:
            tx._close()

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
