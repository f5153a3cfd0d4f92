"""One poll cycle: pick the due feeds, fetch them concurrently, parse off the event loop,
decide each feed's next check, and store the whole cycle in one batched write.

The decisions live elsewhere (schedule, detect); this module only moves data between
them. It is the only place that knows the order of the steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from engage.errors import Interrupted
from engage.models import (
    Comment,
    CycleSummary,
    Event,
    EventKind,
    FeedKind,
    FeedOutcome,
    FeedRef,
    FeedState,
    FeedStatus,
    FetchResult,
    ParsedFeed,
    Person,
    Post,
    ProgressHook,
    ProgressStart,
    Watchlist,
)
from engage.poll import schedule
from engage.poll.items import is_comment_feed, split_entries
from engage.store import JOINED_THREADS, Polled, newest_first
from engage.urls import same_host, site_root, thread_key

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from engage.detect import Detection
    from engage.store import Store

# Below this many bodies in a cycle a process pool costs more (start-up, pickling) than
# parsing in-process saves; measured on a 2-core machine a pool pays off from a handful
# of ~50 KB feeds on.
POOL_MIN_BODIES = 8
# The share of feeds with validators expected to bring a body: a guess (the benchmark's
# "10% changed"), so that 30 feeds that all answer 304 start no pool while 1,000 do.
CHANGED_SHARE = 0.1
# Per-post comment feeds are followed until the thread has been quiet this long.
THREAD_QUIET_DAYS = 30
# Bodies that may wait for a parse worker: enough to keep each busy between two fetches.
PARSE_BACKLOG_PER_WORKER = 8
# After a stop signal, parses already under way get this long to finish and be kept.
PARSE_GRACE_SECONDS = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class PlannedFeed:
    """A feed to poll now, with what the watchlist says about it."""

    state: FeedState
    max_bytes: int | None = None


# ---------------------------------------------------------------------------
# Planning (pure)


def watched_feeds(watchlist: Watchlist) -> list[tuple[Person, FeedRef]]:
    """Every feed of me, the people and the contacts, in watchlist order, once each."""
    seen: set[str] = set()
    out: list[tuple[Person, FeedRef]] = []
    for person in watchlist.everyone():
        for ref in person.feeds:
            if ref.url not in seen:
                seen.add(ref.url)
                out.append((person, ref))
    return out


def plan(
    watchlist: Watchlist,
    stored: Sequence[FeedState],
    now: datetime,
    *,
    everything: bool = False,
    person: str | None = None,
    threads: Iterable[str] = (),
    thread_feeds: dict[str, tuple[str, str]] | None = None,
) -> list[PlannedFeed]:
    """The feeds to poll now: watched feeds, the site-wide comment feeds engage found, and
    the per-post comment feeds of live threads I took part in.

    `thread_feeds` maps a thread (post link) to (comment feed URL, owner key). A feed's
    state is filed under its owner's key (Person.key), `person` too."""
    by_url = {state.url: state for state in stored}
    wanted_person = person.casefold() if person else None
    known_names = {p.key for p in watchlist.everyone()}
    planned: list[PlannedFeed] = []
    taken: set[str] = set()

    def consider(state: FeedState, max_bytes: int | None = None) -> None:
        if state.url in taken:
            return
        if wanted_person and state.person.casefold() != wanted_person:
            return
        if state.gone:
            return
        if everything or schedule.is_due(state, now):
            taken.add(state.url)
            planned.append(PlannedFeed(state, max_bytes))

    for owner, ref in watched_feeds(watchlist):
        state = by_url.get(ref.url) or FeedState(
            url=ref.url, person=owner.key, kind=ref.kind, title=ref.title
        )
        if state.person != owner.key or state.kind != ref.kind:
            state = replace(state, person=owner.key, kind=ref.kind)
        consider(state, ref.max_bytes)

    live_threads = {thread_key(t) for t in threads}
    for state in stored:
        if not state.discovered or state.person not in known_names:
            continue
        if state.thread is not None and thread_key(state.thread) not in live_threads:
            continue  # a per-post thread quiet for 30 days is no longer followed
        consider(state)
    for thread, (url, owner_name) in (thread_feeds or {}).items():
        if thread_key(thread) in live_threads and url not in by_url:
            consider(thread_feed(url, owner_name, thread))
    return planned


def thread_feed(url: str, owner: str, thread: str) -> FeedState:
    """A per-post comment feed engage follows for a thread I took part in."""
    return FeedState(url=url, person=owner, kind=FeedKind.COMMENTS, discovered=True, thread=thread)


def comment_feed_candidates(parsed: ParsedFeed, feed_url: str) -> list[str]:
    """Where a blog's site-wide comment feed lives, from what its posts feed told us.

    Only a feed that names its platform (WordPress, Blogger) is probed, and only on the
    host it was fetched from: a blind guess on every blog, or on whatever host a feed's
    <link> names, costs a request (and a DNS lookup) per blog per first poll for nothing."""
    if not parsed.generator:
        return []
    site = parsed.link or ""
    if not same_host(site, feed_url):
        site = site_root(feed_url) + "/"
    from engage.poll.pages import site_comment_feed_candidates

    return site_comment_feed_candidates(site, parsed.generator)


# ---------------------------------------------------------------------------
# Running a cycle (I/O)


class _Stop:
    """Ctrl-C (SIGINT) or SIGTERM (a scheduler, systemd) during a cycle.

    The first one stops the fetching: feeds fetched and parsed by then are stored (their
    state, posts, comments and the interactions in them), the rest are polled next time,
    and the summary says which signal it was. A second one stops at once (Interrupted),
    storing nothing more. Only the main thread can receive signals; a cycle run from
    another thread (a scheduler's) is stopped by its owner."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._wake: Callable[[], None] | None = None

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal is not None:
            raise Interrupted(signum)
        self.signal = signum
        if self._wake is not None:
            self._wake()

    @contextmanager
    def installed(self) -> Iterator[_Stop]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous: dict[signal.Signals, Any] = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    @contextmanager
    def waking(self, stopped: asyncio.Event) -> Iterator[None]:
        """Set `stopped` on the running loop when a signal comes (or came already)."""
        loop = asyncio.get_running_loop()

        def wake() -> None:
            loop.call_soon_threadsafe(stopped.set)

        self._wake = wake
        if self.signal is not None:
            stopped.set()
        try:
            yield
        finally:
            self._wake = None


class _Known:
    """What the store knew before this cycle: one consistent read (Store.view), decoded only
    as far as needed. A cycle where every feed answers 304 reads engage.json alone: the
    threads I joined are kept there (JOINED_THREADS), and the cache (16 MB for 1,000
    feeds) is decoded only when comments or posts arrived, a thread I joined needs its
    feed, or the kept list is missing or was worked out with other identities."""

    def __init__(self, store: Store, watchlist: Watchlist) -> None:
        from engage.detect import build_identities, identities_fingerprint

        self._view = store.view(with_cache=True)
        self._watchlist = watchlist
        self.feeds = tuple(self._view.feeds())
        self.events = tuple(self._view.events())
        self.trusted = frozenset((t.site, t.name) for t in self._view.trusted_names())
        self._posts: tuple[Post, ...] | None = None
        self._comments: tuple[Comment, ...] | None = None
        # cache.json lost (deleted, or damaged and set aside) after feeds were polled: their
        # validators would bring 304s and nothing back, so everything is fetched in full.
        self.cache_lost = store.cache_missing() and any(f.last_success for f in self.feeds)
        self.fingerprint = identities_fingerprint(build_identities(watchlist))
        self._joined = _kept_threads(self._view.get_meta(JOINED_THREADS), self.fingerprint)
        self.joined_stale = self._joined is None  # the kept list must be written again

    @property
    def posts(self) -> tuple[Post, ...]:
        if self._posts is None:
            self._posts = tuple(self._view.posts())
        return self._posts

    @property
    def comments(self) -> tuple[Comment, ...]:
        if self._comments is None:
            self._comments = tuple(self._view.comments())
        return self._comments

    def joined_threads(self, arrived: Sequence[Comment] = ()) -> dict[str, datetime]:
        """Every thread I commented in (post link -> its latest comment): as kept, or worked
        out again from the stored comments and those that `arrived` in this cycle."""
        from engage.detect import joined_threads

        if arrived:
            return joined_threads(self._watchlist, _merged(self.comments, arrived))
        if self._joined is None:
            self._joined = joined_threads(self._watchlist, self.comments)
        return self._joined

    def new_items(self, posts: Sequence[Post], comments: Sequence[Comment]) -> tuple[int, int]:
        """How many of these posts and comments were not stored when the poll began: what
        a feed's line says as it finishes (the store counts again when it writes)."""
        counts = []
        for name, items in (("posts", posts), ("comments", comments)):
            known = self._view.polled_keys(name) if items else frozenset()
            counts.append(len({(i.feed, i.id) for i in items} - known))
        return counts[0], counts[1]

    def close(self) -> None:
        self._view.close()
        self._posts = self._comments = None


def _kept_threads(kept: Any, fingerprint: str) -> dict[str, datetime] | None:
    """The threads kept in JOINED_THREADS, or None when there is no list, it was worked
    out with other identities, or it cannot be read: then it is worked out again."""
    if not isinstance(kept, dict) or kept.get("identities") != fingerprint:
        return None
    threads = kept.get("threads")
    if not isinstance(threads, dict):
        return None
    try:
        return {str(link): datetime.fromisoformat(when) for link, when in threads.items()}
    except (TypeError, ValueError):
        return None


@dataclass
class Arrived:
    """Posts and comments fetched (new or changed) in this cycle."""

    posts: list[Post] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


def _make_pool(workers: int) -> Executor:
    """Parse workers, started before the event loop runs.

    Where this process has no other thread (no progress bar, no resolver thread yet),
    the workers are forked from it at once: they share its pages and start fast (10 ms
    for two), and nothing can be holding a lock across the fork. Otherwise they come from
    a forkserver: a clean process that imports the parser once. Forked workers import the
    parser on their first body, not before: a poll where every feed says 304 never
    loads feedparser (30 to 50 ms) anywhere. The pool's modules are imported here too:
    a poll that needs no pool does not pay for them."""
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    # Ctrl-C reaches every process of the terminal's group, systemd's SIGTERM every one
    # in the unit: the workers block both, so that only this process decides (store what
    # finished) instead of each worker printing a KeyboardInterrupt traceback.
    quiet = (signal.SIG_BLOCK, STOP_SIGNALS)
    if sys.platform == "linux" and threading.active_count() == 1:
        fork = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(
            workers, fork, initializer=signal.pthread_sigmask, initargs=quiet
        )
        # With fork, the first submit starts every worker, before any thread exists.
        pool.submit(_ready).result()
        return pool
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["engage.poll.parse", "engage.poll.cycle"])
    return ProcessPoolExecutor(workers, ctx, initializer=signal.pthread_sigmask, initargs=quiet)


def _ready() -> None:
    """A first job that makes a forked pool start its workers."""


def _parse(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """engage.poll.parse.parse_feed, imported where a body is first parsed."""
    from engage.poll.parse import parse_feed

    return parse_feed(body, url=url, content_type=content_type)


Finished = Callable[[PlannedFeed, FetchResult, ParsedFeed | None], None]


async def _fetch_and_parse(
    planned: Sequence[PlannedFeed],
    watchlist: Watchlist,
    pool: Executor | None,
    on_done: Finished | None,
    stop: _Stop,
    parse_workers: int = 1,
) -> list[tuple[PlannedFeed, FetchResult, ParsedFeed | None]]:
    """Fetch and parse the planned feeds; `on_done` is told of each one as it is done (its
    body parsed, or no body to parse), in the order they finish. After a stop signal, only
    the feeds fetched and parsed by then are returned (those under way get
    PARSE_GRACE_SECONDS), in plan order."""
    from engage.poll.fetch import FetchRequest, fetch_all

    settings = watchlist.settings
    loop = asyncio.get_running_loop()
    parse_jobs: dict[str, asyncio.Future[ParsedFeed]] = {}
    finished: dict[str, FetchResult] = {}
    requests = [
        FetchRequest(
            url=item.state.url,
            etag=item.state.etag,
            last_modified=item.state.last_modified,
            max_bytes=item.max_bytes,
        )
        for item in planned
    ]

    by_url = {item.state.url: item for item in planned}

    # Bodies fetched and not parsed yet: fetching 1,000 feeds outran their parsing and
    # held 50 MB of waiting bodies, so a fetch starts only when there is room.
    room = asyncio.Semaphore(PARSE_BACKLOG_PER_WORKER * parse_workers)

    async def parse_then_report(
        item: PlannedFeed, result: FetchResult, parsing: asyncio.Future[ParsedFeed]
    ) -> ParsedFeed:
        try:
            parsed = await parsing
        except BrokenExecutor:
            # A worker died (the OOM killer, a kill): this feed's parse is lost with it. It
            # is not parsed again here, in case it was what killed the worker; the feed
            # keeps its old validators and is read again at the next poll.
            parsed = ParsedFeed(error="the parser stopped while reading this feed")
        finally:
            room.release()
        if on_done is not None:
            on_done(item, result, parsed)
            # Folded: the feed's posts now hold what the entries said. What is kept for the
            # rest of the cycle is the feed's own fields (40 MB less for 20,000 entries).
            return replace(parsed, entries=())
        return parsed

    def start_parse(result: FetchResult) -> None:
        item = by_url[result.url]
        # The body goes to the parser; keeping it to the end of the cycle would hold every
        # feed's bytes at once (~50 MB for 1,000 feeds of 47 KB).
        finished[result.url] = replace(result, body=None)
        # Parsing starts as each body arrives, so the fetching of the others goes on.
        if result.body is None or result.status is None or result.status >= 300:
            room.release()
            if on_done is not None:
                on_done(item, finished[result.url], None)
            return
        job = functools.partial(
            _parse, result.body, result.final_url or result.url, result.content_type
        )
        parsing: asyncio.Future[ParsedFeed] | None = None
        if pool is not None:
            with contextlib.suppress(BrokenExecutor):  # a worker died: parse here instead
                parsing = loop.run_in_executor(pool, job)
        if parsing is None:
            parsing = loop.create_future()
            parsing.set_result(job())
        report = parse_then_report(item, finished[result.url], parsing)
        parse_jobs[result.url] = asyncio.ensure_future(report)

    stopped = asyncio.Event()
    with stop.waking(stopped):
        fetching = asyncio.ensure_future(
            fetch_all(requests, settings, on_result=start_parse, admit=room.acquire)
        )
        if await _unless_stopped(fetching, stopped):
            fetching.result()  # a bug in a fetch is a traceback, not a quiet loss
        jobs = list(parse_jobs.values())
        if jobs and not await _unless_stopped(asyncio.wait(jobs), stopped):
            await asyncio.wait(jobs, timeout=PARSE_GRACE_SECONDS)

    out: list[tuple[PlannedFeed, FetchResult, ParsedFeed | None]] = []
    for item in planned:
        result = finished.get(item.state.url)
        if result is None:
            continue  # not fetched before the stop
        job = parse_jobs.get(result.url)
        if job is not None and (not job.done() or job.cancelled()):
            continue  # fetched but not parsed: its new state must not be stored alone
        if job is not None and stop.signal is not None and job.exception() is not None:
            continue  # a worker stopped with the cycle
        out.append((item, result, job.result() if job is not None else None))
    return out


async def _unless_stopped(work: Any, stopped: asyncio.Event) -> bool:
    """Wait for `work` or for the stop, whichever comes first; True when `work` is done."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    return True


def run_cycle(
    watchlist: Watchlist,
    store: Store,
    *,
    now: datetime,
    everything: bool = False,
    person: str | None = None,
    progress: ProgressStart | None = None,  # called with each round's feed URLs
    workers: int | None = None,
) -> CycleSummary:
    """Poll what is due, detect interactions in what arrived, and store both in one short
    batched write. A stop signal (see _Stop) ends the fetching early; what finished by then
    is stored all the same, and the summary says so. Each feed is folded into its new
    state as it finishes, so `progress` can show it then, not when the cycle is done."""
    from engage.detect import live_threads

    started = time.monotonic()
    store.check_writable()  # a read-only folder is said now, not after a minute of fetching
    with _Stop().installed() as stop:
        snapshot = _Known(store, watchlist)
        joined = snapshot.joined_threads()
        threads = {
            thread_key(t) for t in live_threads(joined, now=now, quiet_days=THREAD_QUIET_DAYS)
        } | _manual_threads(snapshot.events)
        # Only a live thread without its feed yet needs the posts that announce feeds.
        followed = {thread_key(s.thread) for s in snapshot.feeds if s.thread}
        unfollowed = threads - followed
        thread_feeds = _thread_feeds(snapshot.posts, unfollowed) if unfollowed else {}
        planned = plan(
            watchlist,
            snapshot.feeds,
            now,
            everything=everything or snapshot.cache_lost,
            person=person,
            threads=threads,
            thread_feeds=thread_feeds,
        )
        if snapshot.cache_lost:
            planned = [replace(p, state=_without_validators(p.state)) for p in planned]
        folds: dict[str, _Folded | None] = {}  # by planned URL; None: a failed probe
        hook: ProgressHook | None = None

        def on_done(item: PlannedFeed, result: FetchResult, parsed: ParsedFeed | None) -> None:
            url, owner = item.state.url, item.state.person
            if _failed_probe(item, result, parsed):
                # A guessed comment feed that isn't there is not the user's problem.
                folds[url] = None
                if hook is not None:
                    hook(FeedOutcome(url, owner, FeedStatus.ERROR, quiet=True))
                return
            done = folds[url] = _fold(item, result, parsed, watchlist, now)
            if hook is not None:
                hook(done.outcome(*snapshot.new_items(done.posts, done.comments)))

        hook = progress([p.state.url for p in planned]) if progress else None
        fetched = _run_async(planned, watchlist, workers, on_done, stop)
        unfinished = len(planned) - len(fetched)

        # Second round, small: site-wide comment feeds of blogs polled for the first time,
        # and per-post comment feeds of threads I joined in what was just fetched.
        known = {s.url for s in snapshot.feeds} | {p.state.url for p in planned}
        # A blog's comment feed found in round two can reveal a thread I joined, whose
        # per-post feed is then fetched in round three; three rounds cover every chain.
        for _round in range(2):
            if stop.signal is not None:
                break
            extra = _follow_up_round(fetched, folds, watchlist, now, known, snapshot)
            if not extra:
                break
            if progress:
                hook = progress([p.state.url for p in extra])  # the bar's total grows
            more = _run_async(extra, watchlist, workers, on_done, stop)
            unfinished += len(extra) - len(more)
            fetched += more

        kept = [folds[item.state.url] for item, _result, _parsed in fetched]
        fetched.clear()  # the parsed entries go: their posts are in `kept`
        folds.clear()
        summary = _store_cycle(watchlist, store, snapshot, [f for f in kept if f], now)
    return replace(
        summary,
        seconds=time.monotonic() - started,
        interrupted=stop.signal,
        unfinished=unfinished,
    )


def _without_validators(state: FeedState) -> FeedState:
    return replace(state, etag=None, last_modified=None)


def _store_cycle(
    watchlist: Watchlist,
    store: Store,
    snapshot: _Known,
    folded: Sequence[_Folded],
    now: datetime,
) -> CycleSummary:
    """Detect in what the folded feeds brought, and store it all at once."""
    # Everything is decided before the lock is taken, so `status` or a web page never waits
    # for a detection: the feeds' new states, what arrived, and the interactions in it.
    arrived = Arrived()
    for done in folded:
        arrived.posts += done.posts
        arrived.comments += done.comments
    found = _detect(watchlist, snapshot, arrived) if arrived.posts or arrived.comments else None
    # The threads I joined, kept for the next cycle when they changed. Worked out over the
    # cache as it was plus what arrived: pruning below drops no comment of mine (an event
    # points to each) and only comments older than any live thread's.
    joined = (
        snapshot.joined_threads(arrived.comments)
        if arrived.comments or snapshot.joined_stale
        else None
    )
    snapshot.close()
    del arrived  # the folded feeds hold what arrived; each feed's items go once stored

    outcomes: list[FeedOutcome] = []
    new_events = 0
    with store.transaction() as tx:
        # One pass over what arrived: per feed it rewrote the whole table of latest posts
        # each time, quadratic in the feeds of a cycle (4.7 s of a cold 1,000-feed poll).
        tx.note_latest_posts(post for done in folded for post in done.posts)
        for done in folded:
            new_posts = tx.put_posts(done.posts)
            new_comments = tx.put_comments(done.comments)
            # Encoded now: the objects go, so that a first poll never holds 20,000 posts
            # twice (as objects and as documents) when the files are written.
            done.posts.clear()
            done.comments.clear()
            if done.state.url != done.planned_url:
                tx.remove_feed(done.planned_url)
            outcomes.append(done.outcome(new_posts, new_comments))
        tx.put_feeds([done.state for done in folded])
        tx.remember_people(watchlist.everyone())
        if snapshot.cache_lost:
            # Feeds not fetched in full this time (another person's, not finished) lose
            # their validators too, so their next poll brings their posts back.
            polled = {done.state.url for done in folded}
            tx.put_feeds(
                _without_validators(state)
                for state in tx.feeds()
                if state.url not in polled and (state.etag or state.last_modified)
            )
        tx.keep_cache()  # so that a cache.json missing later means a lost one
        if joined is not None:
            threads = {link: when.isoformat() for link, when in sorted(joined.items())}
            tx.set_meta(JOINED_THREADS, {"identities": snapshot.fingerprint, "threads": threads})
        if found is not None:
            new_events = len(tx.add_events(found.events))
            tx.put_intro_evidence(found.intro_evidence)
            # Pruning reads and rewrites the cache; a cycle where every feed said 304 has
            # nothing to add, and the old items go at the next cycle that brings news.
            keep = {e.url for e in tx.events() if e.url}
            tx.prune_cache(now, watchlist.settings.cache_days, keep)

    return CycleSummary(
        polled=len(outcomes),
        new_posts=sum(o.new_posts for o in outcomes),
        new_comments=sum(o.new_comments for o in outcomes),
        not_modified=sum(o.status == FeedStatus.NOT_MODIFIED for o in outcomes),
        errors=sum(o.status == FeedStatus.ERROR for o in outcomes),
        gone=sum(o.status == FeedStatus.GONE for o in outcomes),
        new_events=new_events,
        seconds=0.0,
        outcomes=tuple(outcomes),
    )


def _failed_probe(item: PlannedFeed, result: FetchResult, parsed: ParsedFeed | None) -> bool:
    first_try = item.state.discovered and item.state.last_poll is None
    return first_try and (result.error is not None or parsed is None or parsed.error is not None)


def _run_async(
    planned: Sequence[PlannedFeed],
    watchlist: Watchlist,
    workers: int | None,
    on_done: Finished,
    stop: _Stop,
) -> list[tuple[PlannedFeed, FetchResult, ParsedFeed | None]]:
    if not planned or stop.signal is not None:
        return []
    cores = workers or os.cpu_count() or 1
    pool = _make_pool(cores) if cores > 1 and _bodies_expected(planned) >= POOL_MIN_BODIES else None
    try:
        workers_used = cores if pool is not None else 1
        return asyncio.run(
            _fetch_and_parse(planned, watchlist, pool, on_done, stop, workers_used)
        )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _bodies_expected(planned: Sequence[PlannedFeed]) -> float:
    """How many of these feeds will send a body to parse: every feed without validators
    (a first poll, a cache lost), and a share of the others."""
    fresh = sum(1 for p in planned if not (p.state.etag or p.state.last_modified))
    return fresh + CHANGED_SHARE * (len(planned) - fresh)


@dataclass(frozen=True)
class _Folded:
    """One fetch folded into its feed: the feed's new state and what it brought."""

    planned_url: str
    state: FeedState
    posts: list[Post]
    comments: list[Comment]

    def outcome(self, new_posts: int, new_comments: int) -> FeedOutcome:
        state = self.state
        return FeedOutcome(
            url=state.url,
            person=state.person,
            status=state.status,
            new_posts=new_posts,
            new_comments=new_comments,
            error=state.last_error if state.status == FeedStatus.ERROR else None,
            moved_to=state.moved_to,
        )


def _fold(
    item: PlannedFeed,
    result: FetchResult,
    parsed: ParsedFeed | None,
    watchlist: Watchlist,
    now: datetime,
) -> _Folded:
    """The feed's state after this fetch (the schedule decides) and its posts or comments."""
    parse_error = parsed.error if parsed is not None else None
    state = schedule.after_fetch(
        item.state,
        result,
        now=now,
        interval_minutes=watchlist.settings.poll_interval_minutes,
        ttl_minutes=parsed.ttl_minutes if parsed else None,
        update_minutes=parsed.update_minutes if parsed else None,
        parse_error=parse_error,
    )
    posts: list[Post] = []
    comments: list[Comment] = []
    if parsed is not None and parse_error is None:
        if parsed.title and not state.title:
            state = replace(state, title=parsed.title)
        posts, comments = split_entries(
            parsed.entries, kind=state.kind, person=state.person, feed=state.url, now=now
        )
    return _Folded(item.state.url, state, posts, comments)


def _detect(watchlist: Watchlist, snapshot: _Known, arrived: Arrived) -> Detection:
    """Interactions in what arrived. A post's events depend on that post alone, so only
    the posts that arrived are looked at; comments depend on their thread, so any new
    comment means reading them all (stored and arrived). All feeds 304 means nothing to
    detect (`engage detect --rebuild` redoes it all)."""
    from engage.detect import detect

    if arrived.comments:
        posts = _merged(snapshot.posts, arrived.posts)
        comments = _merged(snapshot.comments, arrived.comments)
    else:
        posts, comments = list(arrived.posts), []
    rules = watchlist.settings.meter
    return detect(watchlist, posts, comments, rules=rules, trusted=snapshot.trusted)


def _merged(stored: Sequence[Polled], arrived: Sequence[Polled]) -> list[Polled]:
    """The cache as it will be after this cycle's write: an item seen before keeps the time
    it was first seen (an undated comment counts from then), the rest comes from the feed."""
    by_key = {(item.feed, item.id): item for item in stored}
    for item in arrived:
        key = (item.feed, item.id)
        old = by_key.get(key)
        by_key[key] = replace(item, first_seen=old.first_seen) if old and old.first_seen else item
    return newest_first(by_key.values())


def _follow_up_round(
    fetched: Sequence[tuple[PlannedFeed, FetchResult, ParsedFeed | None]],
    folds: dict[str, _Folded | None],
    watchlist: Watchlist,
    now: datetime,
    known: set[str],
    snapshot: _Known,
) -> list[PlannedFeed]:
    """Feeds learnt of in this cycle's first round: the site-wide comment feed of a blog
    polled for the first time, and per-post comment feeds of threads I just joined."""
    from engage.detect import live_threads

    extra: list[PlannedFeed] = []
    watched = {ref.url for _, ref in watched_feeds(watchlist)}
    owners_with_comment_feed = {
        p.key for p in watchlist.everyone() if any(is_comment_feed(f.kind) for f in p.feeds)
    }
    arrived = Arrived()
    for item, _result, parsed in fetched:
        done = folds.get(item.state.url)
        if done is None or parsed is None or parsed.error:
            continue
        arrived.posts += done.posts
        arrived.comments += done.comments
        state = item.state
        if state.kind != FeedKind.BLOG or state.url not in watched:
            continue
        if state.last_success is not None or state.person in owners_with_comment_feed:
            continue  # only a blog's first successful poll looks for its comment feed
        for url in comment_feed_candidates(parsed, state.url)[:1]:
            if url not in known:
                known.add(url)
                extra.append(
                    PlannedFeed(
                        FeedState(
                            url=url,
                            person=state.person,
                            kind=FeedKind.COMMENTS,
                            title=f"Comments: {parsed.title or state.url}",
                            discovered=True,
                        )
                    )
                )
    if not arrived.posts and not arrived.comments:
        return extra  # the threads I joined are those the first round was planned with
    joined = snapshot.joined_threads(arrived.comments)
    threads = {thread_key(t) for t in live_threads(joined, now=now, quiet_days=THREAD_QUIET_DAYS)}
    followed = {thread_key(s.thread) for s in snapshot.feeds if s.thread}
    unfollowed = threads - followed
    # A thread joined just now is announced by a stored post or one that just arrived; a
    # thread joined before needs only the posts that just arrived to be looked at.
    new_threads = unfollowed - set(map(thread_key, snapshot.joined_threads()))
    posts = [*snapshot.posts, *arrived.posts] if new_threads else arrived.posts
    for thread, (url, owner) in _thread_feeds(posts, unfollowed).items():
        if url not in known:
            known.add(url)
            extra.append(PlannedFeed(thread_feed(url, owner, thread)))
    return extra


def _manual_threads(events: Sequence[Event]) -> set[str]:
    """Threads I said (by hand) that I commented in: their comment feeds are followed too."""
    return {
        thread_key(event.url)
        for event in events
        if event.kind == EventKind.MY_COMMENT and event.url
    }


def _thread_feeds(posts: Sequence[Post], threads: set[str]) -> dict[str, tuple[str, str]]:
    """Per-post comment feed for each live thread, from the posts that announced it."""
    wanted = {thread_key(t) for t in threads}
    out: dict[str, tuple[str, str]] = {}
    for post in posts:
        if not post.link or not post.comment_feeds:
            continue
        key = thread_key(post.link)
        if key in wanted:
            out[key] = (post.comment_feeds[0], post.person)
    return out
