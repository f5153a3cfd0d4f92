"""Fetch feeds over HTTP, politely, concurrently, and without ever falling over.

Every fetch ends as a FetchResult: network trouble, slow servers, huge bodies and
bad URLs are values on that result (error_type + one line a user can read), never
exceptions crossing the batch, so one broken feed never stops the others.

Four measured facts shape this module:
- httpx's async client cost 2.7 ms of this process's time per conditional GET that
  answers 304 (1,000 feeds: 2.7 s, more than `reader` took for its whole poll), its sync
  client 1.5 ms, and a plain sync connection pool of httpcore (the transport under httpx)
  in worker threads 0.55 ms. So requests are made by httpcore in a small thread pool,
  one connection pool per thread (a shared pool's lock cost more than it saved), while
  the politeness limits stay in asyncio. httpx parses and joins the URLs (IDNA hosts,
  relative redirects); httpcore, the transport httpx is built on, makes the requests.
- A read timeout is per chunk, so a server dripping one byte a second never trips it:
  each request has a total deadline, for the request AND the read, checked between
  chunks and given to the socket as its timeout.
- httpx's gzip/deflate decoders inflate each network chunk in one go, with no
  output limit: one 64 KiB chunk of gzipped zeros became 64 MiB in a single call
  (peak 140 MiB traced), before any cap could look at it. So bodies are read raw
  and inflated here in bounded steps, and the cap counts decoded bytes as they come.
- Politeness is per host: at most `per_host` requests at a time to one host,
  and at most `concurrency` overall.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import http
import logging
import queue
import re
import socket
import ssl
import sys
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

import httpcore

from engage import __version__
from engage.models import FetchResult, Settings
from engage.urls import port_problem

if TYPE_CHECKING:
    from types import ModuleType

# Feed types first, generic JSON/XML lower, and */* last: a URL that only has an HTML
# page must still answer, so that autodiscovery can find the feed in it.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
# Only the encodings decode_body below can inflate with a bounded output. Brotli is
# not advertised: no brotli module is among our dependencies, and without one a
# br body could not be decoded at all.
ACCEPT_ENCODING = "gzip, deflate"
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 20
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Connections one worker thread keeps open: a thread serves one request at a time, so
# this is how many hosts it stays connected to between requests.
MAX_ORIGINS_PER_THREAD = 32
# How much decoded output one inflate step may produce: the most a compressed
# chunk can add to memory beyond the size cap.
INFLATE_STEP = 64 * 1024
# The most of an unwanted body (an error page) read only to keep its connection open.
DRAIN_MAX_BYTES = 64 * 1024
MIB = 1024 * 1024

# Encodings that compress: a body in one of these that we cannot inflate would be
# handed to the parser as garbage, so it becomes an error instead.
_UNDECODABLE_ENCODINGS = frozenset({"br", "zstd", "compress", "x-compress"})
# Values some servers send that mean "not encoded".
_IDENTITY_ENCODINGS = frozenset({"", "identity", "none", "binary", "utf-8", "8bit", "7bit"})

log = logging.getLogger(__name__)
T = TypeVar("T")

ErrorType = str  # timeout, too_large, connection, dns, tls, http, invalid_url, protocol

# A URL httpx would leave exactly as written: lower-case http(s), a lower-case host name or
# IPv4 address, a port, and a path and query of characters that need no escaping, without
# dot segments or a fragment. Such a URL (nearly every feed's) is requested as it is;
# anything else is read by httpx (see target_of).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
PLAIN_URL = re.compile(
    rf"(https?)://({_OCTET}(?:\.{_OCTET}){{3}}|{_LABEL}(?:\.{_LABEL})*\.[a-z][a-z0-9-]*[a-z0-9]"
    rf"|{_LABEL})(?::([1-9][0-9]{{0,4}}))?"
    r"((?:/(?!\.)(?:[A-Za-z0-9\-_~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}|\.(?!\.?(?:/|\?|$)))*)*)"
    r"(\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})+)?",
    re.ASCII,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Target:
    """A URL ready to request: what the connection needs, and the text for messages."""

    text: str  # the URL, as httpx writes it
    scheme: str  # http or https
    host: str  # for messages and the per-host limit (Unicode for an IDN)
    raw_host: bytes  # as sent (an IDN in its xn-- form)
    port: int | None  # None: the scheme's default
    path: bytes  # path and query, as sent

    def host_header(self) -> bytes:
        return self.raw_host if self.port is None else self.raw_host + b":%d" % self.port

    def request_url(self) -> httpcore.URL:
        return httpcore.URL(
            scheme=self.scheme.encode(), host=self.raw_host, port=self.port, target=self.path
        )

    def join(self, location: str) -> Target | tuple[ErrorType, str]:
        """Where a redirect's Location leads, checked as any URL to request is."""
        httpx = _httpx()
        try:
            joined = str(httpx.URL(self.text).join(location))
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            return "invalid_url", f"invalid URL: {_one_line(str(exc))}"
        found = target_of(joined)
        if isinstance(found, tuple) and not joined.startswith(("http://", "https://")):
            return "invalid_url", f"invalid URL: a redirect to {joined!r}, which is not http(s)"
        return found


def target_of(text: str) -> Target | tuple[ErrorType, str]:
    """The URL to request, or (error type, why it cannot be requested)."""
    plain = PLAIN_URL.fullmatch(text)
    if plain is not None:
        scheme, host, port, path, query = plain.groups()
        number = int(port) if port else None
        idn = "xn--" in host  # httpx names it in Unicode
        plain_port = number is None or (1 <= number <= 65535 and number != _DEFAULT_PORTS[scheme])
        if plain_port and not idn:
            sent = (path or "/") + (query or "")
            return Target(text, scheme, host, host.encode(), number, sent.encode())
    return target_read_by_httpx(text)


def target_read_by_httpx(text: str) -> Target | tuple[ErrorType, str]:
    httpx = _httpx()
    try:
        url = httpx.URL(text)
        # Read inside the try: a host that is not valid IDNA fails only when decoded.
        scheme, host = url.scheme, url.host
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        return "invalid_url", f"invalid URL: {_one_line(str(exc))}"
    if scheme not in ("http", "https"):
        return "invalid_url", f"invalid URL: not http(s): {text!r}"
    if not host:
        return "invalid_url", f"invalid URL: no host in {text!r}"
    problem = port_problem(text)
    if problem is not None:
        return "invalid_url", f"invalid URL: {problem}"
    port = None if url.port == _DEFAULT_PORTS[scheme] else url.port
    return Target(str(url), scheme, host, url.raw_host, port, url.raw_path)


def _httpx() -> ModuleType:
    """httpx, imported where a URL first needs it (35 ms that a poll of plain URLs saves).

    httpx also imports its command-line client (click, rich.syntax, pygments: 60 ms more,
    measured) only to offer `httpx.main`, which engage never calls: marked absent, that
    one import fails and httpx puts a stub in its place."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    import httpx

    return httpx


@dataclass(frozen=True)
class FetchRequest:
    """One feed to fetch, with the validators stored from its last 200."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    max_bytes: int | None = None  # per-feed override of settings.max_body_bytes


def user_agent(settings: Settings) -> str:
    """Who we are and where to complain: feed owners read their logs."""
    return f"engage/{__version__} (+{settings.contact_url})"


def make_client(settings: Settings) -> Client:
    """The one client a poll cycle shares, so connections to a host are reused."""
    return Client(settings)


class Client:
    """Requests made by httpcore in a pool of worker threads (see the module docstring),
    awaited from asyncio. Each worker thread keeps its own connection pools: one for
    http, and one for https made on first use (loading the certificate store costs about
    0.1 s, which a poll of plain-http feeds never needs to pay). `async with` closes
    every connection, which also ends a request still blocked on a slow server.
    """

    max_redirects = MAX_REDIRECTS

    def __init__(self, settings: Settings) -> None:
        self.connect_timeout = min(CONNECT_TIMEOUT_SECONDS, settings.timeout_seconds)
        # The read timeout is a generous per-operation limit; the real bound is each
        # request's total deadline, which can only shorten it.
        self.read_timeout = settings.timeout_seconds
        self.headers = {
            "User-Agent": user_agent(settings),
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        self._sent = [(_header_bytes(k), _header_bytes(v)) for k, v in self.headers.items()]
        self._workers = _Workers(max(1, settings.concurrency))
        self._local = threading.local()
        self._pools: set[httpcore.ConnectionPool] = set()
        self._pools_lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection (a thread blocked on one gets an error at once) and let
        the worker threads go."""
        self._closed = True
        with self._pools_lock:
            pools, self._pools = self._pools, set()
        for pool in pools:
            _close_quietly(pool)
        self._workers.shutdown()

    async def get(
        self,
        url: Target,
        headers: Sequence[tuple[bytes, bytes]],
        *,
        deadline_seconds: float,
        cap: int,
        want_body: Callable[[int], bool],
    ) -> _Answer:
        """GET `url` (following redirects) in a worker thread within one deadline."""
        deadline_at = time.monotonic() + deadline_seconds
        job = functools.partial(self._get, url, headers, deadline_at, cap, want_body)
        return await self._workers.run(job)

    def _pool(self, url: Target) -> httpcore.ConnectionPool:
        """This thread's connection pool for the origin of `url`. One pool per origin, not
        one per thread: httpcore's pool scans every connection it holds (and polls each
        socket) for every request, 0.7 ms per 304 with 16 hosts in one pool against 0.4 ms
        with a pool per host (measured on 1,000 feeds). A thread keeps the pools of its
        MAX_ORIGINS_PER_THREAD latest origins and closes the oldest beyond that."""
        pools: OrderedDict[tuple[str, str, int | None], httpcore.ConnectionPool] | None = (
            getattr(self._local, "pools", None)
        )
        if pools is None:
            pools = self._local.pools = OrderedDict()
        origin = (url.scheme, url.host, url.port)
        pool = pools.get(origin)
        if pool is not None:
            pools.move_to_end(origin)
            return pool
        if self._closed:
            raise httpcore.ConnectError("the poll is over: no new connections")
        # A thread makes one request at a time: one connection per origin serves it.
        pool = pools[origin] = httpcore.ConnectionPool(
            ssl_context=self._tls_context() if url.scheme == "https" else None,
            max_connections=1,
        )
        with self._pools_lock:
            self._pools.add(pool)
        if len(pools) > MAX_ORIGINS_PER_THREAD:
            _, oldest = pools.popitem(last=False)
            with self._pools_lock:
                self._pools.discard(oldest)
            _close_quietly(oldest)
        return pool

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import certifi

            # The certificate store httpx uses, so engage trusts what it always trusted.
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls

    def _get(
        self,
        url: Target,
        headers: Sequence[tuple[bytes, bytes]],
        deadline_at: float,
        cap: int,
        want_body: Callable[[int], bool],
    ) -> _Answer:
        hops: list[int] = []
        current = url
        while True:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            timeouts = {
                "connect": min(self.connect_timeout, remaining),
                "read": min(self.read_timeout, remaining),
                "write": min(self.read_timeout, remaining),
                "pool": remaining,
            }
            sent = [(b"Host", current.host_header()), *self._sent, *headers]
            try:
                with self._pool(current).stream(
                    b"GET", current.request_url(), headers=sent, extensions={"timeout": timeouts}
                ) as response:
                    found = _headers(response.headers)
                    location = found.get("location")
                    if response.status in REDIRECTS and location:
                        if len(hops) >= self.max_redirects:
                            raise _TooManyRedirects
                        hops.append(response.status)
                        # Every hop is checked as the first was: a Location with port
                        # 99999 is an invalid URL, not a failure inside the socket's connect.
                        joined = current.join(location)
                        if isinstance(joined, tuple):
                            raise _InvalidURL(joined[1].removeprefix("invalid URL: "))
                        current = joined
                        continue
                    answer = _Answer(current.text, response.status, found, tuple(hops))
                    if not want_body(response.status):
                        _drain(response.iter_stream(), deadline_at)
                        return answer
                    try:
                        chunks = response.iter_stream()
                        body = _read_capped(chunks, found, cap, deadline_at)
                    except (_TooLarge, _UndecodableBody) as exc:
                        return replace(answer, problem=exc)
                    return replace(answer, body=body)
            except httpcore.TimeoutException:
                if time.monotonic() >= deadline_at:
                    raise TimeoutError from None  # the deadline, not the phase, ran out
                raise


def _drain(chunks: Iterator[bytes], deadline_at: float) -> None:
    """Read an unwanted body (a 304's empty one, a short error page) to its end, so that its
    connection goes back to the pool: httpcore closes a connection whose response was not
    read through, and every 304 of a poll then paid for a new connection (1,000 of them
    where 16 hosts needed 16). A long body is left, and its connection closed."""
    drained = 0
    for chunk in chunks:
        drained += len(chunk)
        if drained > DRAIN_MAX_BYTES or time.monotonic() > deadline_at:
            return


def _close_quietly(pool: httpcore.ConnectionPool) -> None:
    try:
        pool.close()
    except Exception:  # a connection already broken: nothing left to close
        log.debug("closing a connection pool failed", exc_info=True)


class _Workers:
    """Worker threads for the requests, started as they are needed (at most `size`, and
    never fewer than the requests waiting for one). Daemon threads, not a
    ThreadPoolExecutor's: the interpreter joins an executor's threads at exit, so one
    request stuck on a silent server would hold a stopped poll (Ctrl-C) open until its
    read timeout; a daemon thread is left to the process's end, which closes its socket."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], _Reply] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._pending = 0  # handed over and not finished
        self._lock = threading.Lock()

    async def run(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(value: Any, error: BaseException | None) -> None:
            if future.cancelled():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

        def reply(value: Any, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, value, error)

        with self._lock:
            self._pending += 1
            if self._pending > len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name="engage-fetch", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._jobs.put((job, reply))
        return await future

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, reply = item
            try:
                value = job()
            except BaseException as exc:  # handed to the awaiting coroutine, not lost
                error: BaseException | None = exc
                value = None
            else:
                error = None
            with self._lock:
                self._pending -= 1
            # A closed event loop (RuntimeError) means nobody waits for this any more.
            with contextlib.suppress(RuntimeError):
                reply(value, error)

    def shutdown(self) -> None:
        """Let every worker end once its current request is done."""
        for _ in self._threads:
            self._jobs.put(None)


_Reply = Callable[[Any, BaseException | None], None]


@dataclass(frozen=True)
class _Answer:
    """What one GET (after its redirects) brought back, before it is told as a result."""

    url: str  # the final URL
    status: int
    headers: Mapping[str, str]  # names in lower case; repeated headers joined by ", "
    hops: tuple[int, ...]  # the status of each redirect followed
    body: bytes | None = None
    problem: Exception | None = None  # _TooLarge or _UndecodableBody while reading


class Limiter:
    """At most `concurrency` requests in flight, and at most `per_host` to one host.

    A feed waits for its host's slot before it takes a global one, so feeds queued
    behind a busy host never hold global slots that other hosts could use.
    """

    def __init__(self, concurrency: int = 16, per_host: int = 2) -> None:
        self.concurrency = max(1, concurrency)
        self.per_host = max(1, per_host)
        self._global = asyncio.Semaphore(self.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        return cls(settings.concurrency, settings.per_host)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one slot for `host` and one global slot while the body runs."""
        key = host.lower()
        semaphore = self._hosts.get(key)
        if semaphore is None:
            semaphore = self._hosts[key] = asyncio.Semaphore(self.per_host)
        async with semaphore, self._global:
            yield


class _TooLarge(Exception):
    pass


class _UndecodableBody(Exception):
    pass


class _InvalidURL(Exception):
    """A URL (or a redirect's Location) that cannot be requested; the message says why."""


class _TooManyRedirects(Exception):
    pass


async def fetch_one(
    client: Client,
    request: FetchRequest,
    *,
    limiter: Limiter,
    deadline_seconds: float,
    max_bytes: int,
) -> FetchResult:
    """Fetch one feed within a total deadline and a decoded-size cap.

    Never raises for anything the network or the server can do; the result says
    what happened. `request.max_bytes`, when set, overrides `max_bytes`.
    """
    cap = request.max_bytes if request.max_bytes is not None else max_bytes
    url = target_of(request.url)
    if isinstance(url, tuple):
        return _failure(request, *url)
    headers: list[tuple[bytes, bytes]] = []
    # Validators go back exactly as they came: some servers compare them as strings.
    if request.etag:
        headers.append((b"If-None-Match", _header_bytes(request.etag)))
    if request.last_modified:
        headers.append((b"If-Modified-Since", _header_bytes(request.last_modified)))

    async with limiter.slot(url.host):
        # The deadline starts once we hold a slot: waiting in the queue behind other
        # feeds is not this feed's server being slow.
        started = time.monotonic()
        try:
            answer = await client.get(
                url, headers, deadline_seconds=deadline_seconds, cap=cap, want_body=_is_success
            )
            result = _told(request, answer, cap)
        except Exception as exc:
            result = _failure(request, *_failure_reason(exc, client, url, deadline_seconds))
        elapsed = time.monotonic() - started
    return _with_elapsed(result, elapsed)


def _is_success(status: int) -> bool:
    return 200 <= status < 300


@dataclass(frozen=True)
class Reply:
    """One GET of an API URL: status, headers and body, whatever the status; errors are
    values here too (a body is None when no complete, capped body arrived)."""

    url: str
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    body: bytes | None = None
    error: str | None = None  # one line a user can read
    error_type: ErrorType | None = None


async def get(
    client: Client,
    url: str,
    *,
    limiter: Limiter,
    deadline_seconds: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """GET `url` with the same manners as a feed fetch (the host's slot, one deadline for
    the request and the body, the decoded-size cap), and the body of error statuses too:
    APIs say in it why they refused. Never raises for what the network or server does."""
    checked = target_of(url)
    if isinstance(checked, tuple):
        return Reply(url, error=checked[1], error_type=checked[0])
    extra = [(_header_bytes(k), _header_bytes(v)) for k, v in (headers or {}).items()]
    async with limiter.slot(checked.host):
        try:
            answer = await client.get(
                checked,
                extra,
                deadline_seconds=deadline_seconds,
                cap=max_bytes,
                want_body=lambda _status: True,
            )
        except Exception as exc:
            error_type, message = _failure_reason(exc, client, checked, deadline_seconds)
            return Reply(url, error=message, error_type=error_type)
    found = Reply(url, answer.status, dict(answer.headers))
    if isinstance(answer.problem, _TooLarge):
        return replace(found, error=f"body larger than {_size(max_bytes)}", error_type="too_large")
    if answer.problem is not None:
        return replace(found, error=str(answer.problem), error_type="protocol")
    return replace(found, body=answer.body)


def _failure_reason(
    exc: Exception, client: Client, url: Target, deadline_seconds: float
) -> tuple[ErrorType, str]:
    """What went wrong with one request, as (error type, one line). The order matters:
    a TimeoutError is an OSError, and the transport's timeouts are network errors."""
    if isinstance(exc, TimeoutError):
        return "timeout", f"timed out after {_seconds(deadline_seconds)}"
    if isinstance(exc, httpcore.TimeoutException):
        return "timeout", _timeout_message(exc, client)
    if isinstance(exc, _InvalidURL):
        return "invalid_url", f"invalid URL: {exc}"
    if isinstance(exc, httpcore.UnsupportedProtocol):
        return "invalid_url", f"invalid URL: {_one_line(str(exc))}"
    if isinstance(exc, _TooManyRedirects):
        return "protocol", f"too many redirects (more than {client.max_redirects})"
    if isinstance(exc, httpcore.NetworkError | httpcore.ProtocolError | httpcore.ProxyError):
        return classify_transport_error(exc, url)
    if isinstance(exc, OSError):
        return classify_transport_error(exc, url)
    if isinstance(exc, UnicodeError):
        # A stored validator or a URL that cannot be put on the wire.
        return "invalid_url", f"cannot send request: {exc}"
    # Something no case above foresaw (a bug here or in a library): it stays on this
    # request's record, with the traceback in the log, and the batch goes on.
    log.error("fetching %s failed unexpectedly", url, exc_info=exc)
    return "protocol", f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}"


def _told(request: FetchRequest, answer: _Answer, cap: int) -> FetchResult:
    """A feed's answer as a FetchResult: what every response tells us, whatever its
    status, with its headers as received."""
    headers = answer.headers
    permanent = bool(answer.hops) and all(status in (301, 308) for status in answer.hops)
    found = FetchResult(
        url=request.url,
        final_url=answer.url,
        status=answer.status,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type"),
        retry_after=headers.get("retry-after"),
        cache_control=headers.get("cache-control"),
        expires=headers.get("expires"),
        permanent_redirect=answer.url if permanent else None,
        redirected=bool(answer.hops),
    )
    if answer.status == 304:
        return found
    if not _is_success(answer.status):
        error = f"HTTP {answer.status} {_reason(answer.status)}".rstrip()
        return replace(found, error=error, error_type="http")
    if isinstance(answer.problem, _TooLarge):
        return replace(found, error=f"body larger than {_size(cap)}", error_type="too_large")
    if answer.problem is not None:
        return replace(found, error=str(answer.problem), error_type="protocol")
    return replace(found, body=answer.body)


def _read_capped(
    raw: Iterable[bytes], headers: Mapping[str, str], cap: int, deadline_at: float
) -> bytes:
    encodings = _content_encodings(headers.get("content-encoding"))
    if not encodings:
        declared = headers.get("content-length", "")
        # Refuse before reading a byte when the server says it is too big.
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    for piece in decode_body(_until(raw, deadline_at), encodings):
        size += len(piece)
        if size > cap:
            raise _TooLarge
        chunks.append(piece)
    return b"".join(chunks)


def _until(raw: Iterable[bytes], deadline_at: float) -> Iterator[bytes]:
    """The body's chunks until the deadline: a server dripping a byte at a time never
    trips a read timeout, so the clock is read between chunks."""
    for chunk in raw:
        if time.monotonic() > deadline_at:
            raise TimeoutError
        yield chunk


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response headers by lower-case name, as received (Latin-1, as HTTP/1.1 says), a
    repeated header's values joined by ", " as RFC 9110 allows."""
    found: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        found[key] = f"{found[key]}, {text}" if key in found else text
    return found


def _content_encodings(header: str | None) -> list[str]:
    """The encodings to undo, outermost (last applied) first."""
    if not header:
        return []
    names = [name.strip().lower() for name in header.split(",")]
    for name in names:
        if name in _UNDECODABLE_ENCODINGS:
            raise _UndecodableBody(f"unsupported Content-Encoding: {name}")
    return [name for name in reversed(names) if name not in _IDENTITY_ENCODINGS]


def decode_body(raw: Iterable[bytes], encodings: Sequence[str]) -> Iterator[bytes]:
    """Undo gzip/deflate while streaming, never producing more than INFLATE_STEP at once.

    Unknown encodings pass through untouched, as httpx does: the parser then says
    what it could not read.
    """
    inflaters = [_Inflater(name) for name in encodings if name in _Inflater.KINDS]
    for chunk in raw:
        pieces: Iterator[bytes] = iter((chunk,))
        for inflater in inflaters:
            pieces = _chain_feed(inflater, pieces)
        for piece in pieces:
            if piece:
                yield piece
    tail: Iterator[bytes] = iter(())
    for inflater in inflaters:
        tail = _chain_flush(inflater, tail)
    for piece in tail:
        if piece:
            yield piece


def _chain_feed(inflater: _Inflater, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from inflater.feed(piece)


def _chain_flush(inflater: _Inflater, pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from inflater.feed(piece)
    yield from inflater.flush()


class _Inflater:
    """zlib with an output limit per step (zlib's max_length), so memory stays bounded."""

    KINDS = frozenset({"gzip", "x-gzip", "deflate"})
    # zlib checks its 2-byte header as soon as it has it: until then a "deflate"
    # body may still turn out to be raw deflate, so its start is kept to re-read.
    _ZLIB_HEADER = 2

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._gzip = kind in ("gzip", "x-gzip")
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._head = b""  # "deflate" input seen before any output, to re-read as raw
        self._may_retry_raw = kind == "deflate"
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done:
            return
        if self._may_retry_raw:
            self._head += data
        while data:
            try:
                out = self._inflater.decompress(data, INFLATE_STEP)
            except zlib.error as exc:
                # "deflate" is sent both zlib-wrapped (the RFC) and raw (old IIS);
                # like browsers and httpx, read it as raw when the start fails.
                if self._may_retry_raw:
                    self._may_retry_raw = False
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    data, self._head = self._head, b""
                    continue
                raise _UndecodableBody(f"could not decode {self.kind} body: {exc}") from None
            if self._may_retry_raw and len(self._head) >= self._ZLIB_HEADER:
                self._may_retry_raw = False  # the zlib header was good: not raw
                self._head = b""
            if out:
                yield out
            if self._inflater.eof:
                rest = self._inflater.unused_data
                # Concatenated gzip members are one valid body (RFC 1952 §2.2);
                # anything else after the end of the stream is junk, ignored.
                if self._gzip and rest.startswith(b"\x1f\x8b"):
                    self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
                    continue
                self._done = True
                return
            data = self._inflater.unconsumed_tail

    def flush(self) -> Iterator[bytes]:
        # A truncated stream yields what it had, as httpx does; the parser judges it.
        if self._done:
            return
        self._done = True
        # feed() leaves no unconsumed input, so this is only zlib's small pending tail.
        out = self._inflater.flush()
        if out:
            yield out


async def fetch_all(
    requests: Sequence[FetchRequest],
    settings: Settings,
    *,
    on_result: Callable[[FetchResult], None] | None = None,
    client: Client | None = None,
    admit: Callable[[], Awaitable[object]] | None = None,
) -> list[FetchResult]:
    """Fetch every request concurrently within the limits; results in request order.

    `on_result` is called as each fetch finishes, in completion order, so the
    caller can start parsing while the rest are still downloading. `admit`, when given,
    is awaited before each request starts: the caller's way to hold fetching back while
    what was fetched waits to be parsed.
    """
    limiter = Limiter.from_settings(settings)
    active = make_client(settings) if client is None else client

    async def one(request: FetchRequest) -> FetchResult:
        if admit is not None:
            await admit()
        result = await fetch_one(
            active,
            request,
            limiter=limiter,
            deadline_seconds=settings.timeout_seconds,
            max_bytes=settings.max_body_bytes,
        )
        if on_result is not None:
            on_result(result)
        return result

    try:
        # A TaskGroup, not gather: if on_result raises (a bug in the caller), the other
        # fetches are cancelled instead of running on against a closed client.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(request)) for request in requests]
    finally:
        if client is None:
            await active.aclose()
    return [task.result() for task in tasks]


PageFetch = Callable[[str], Awaitable[FetchResult]]


@asynccontextmanager
async def page_fetcher(settings: Settings) -> AsyncIterator[PageFetch]:
    """Plain GETs (no validators) exactly as a poll makes them: the same client and
    User-Agent, the politeness limits, the total deadline and the decoded-size cap, errors
    as values. `engage add` reads pages and candidate feeds through it; a page of its own
    client would bring back httpx's unbounded decoder and a read timeout a drip never trips."""
    limiter = Limiter.from_settings(settings)
    async with make_client(settings) as client:

        async def fetch(url: str) -> FetchResult:
            return await fetch_one(
                client,
                FetchRequest(url),
                limiter=limiter,
                deadline_seconds=settings.timeout_seconds,
                max_bytes=settings.max_body_bytes,
            )

        yield fetch


# ---------------------------------------------------------------------------
# Errors as one line a user can read


def classify_transport_error(exc: BaseException, url: Target) -> tuple[ErrorType, str]:
    """Name the reason from the OS error under the transport's wrapper, not its class."""
    where = f"{url.host}:{url.port or _DEFAULT_PORTS[url.scheme]}"
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror):
            reason = cause.strerror or "cannot resolve host"
            return "dns", f"{url.host}: {reason[:1].lower()}{reason[1:]}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = cause.verify_message or cause.reason or "certificate verify failed"
            return "tls", f"TLS certificate of {url.host} not accepted: {detail}"
        if isinstance(cause, ssl.SSLError):
            detail = cause.reason or _one_line(str(cause))
            return "tls", f"TLS error with {url.host}: {detail}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection", f"connection refused ({where})"
        if isinstance(cause, ConnectionResetError):
            return "connection", f"connection reset by {where}"
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "connection", f"{cause.strerror or 'unreachable'} ({where})".lower()
    text = _one_line(str(exc)) or type(exc).__name__
    lowered = text.lower()
    # Some resolvers surface only as text in the wrapper's message.
    if "name or service not known" in lowered or "name resolution" in lowered:
        return "dns", f"{url.host}: {text}"
    if "certificate" in lowered or "ssl" in lowered:
        return "tls", f"TLS error with {url.host}: {text}"
    if isinstance(exc, httpcore.ProtocolError):
        return "protocol", f"bad HTTP from {where}: {text}"
    if isinstance(exc, httpcore.ConnectError):
        return "connection", f"cannot connect to {where}: {text}"
    return "connection", f"connection to {where} failed: {text}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _timeout_message(exc: httpcore.TimeoutException, client: Client) -> str:
    if isinstance(exc, httpcore.ConnectTimeout):
        limit, phase = client.connect_timeout, "connecting"
    elif isinstance(exc, httpcore.PoolTimeout):
        limit, phase = client.read_timeout, "waiting for a connection"
    else:
        limit, phase = client.read_timeout, "waiting for data"
    return f"timed out after {_seconds(limit)} {phase}" if limit else f"timed out {phase}"


def _reason(status: int) -> str:
    # The standard phrase, never the server's: it is untrusted text and often empty.
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _size(n: int) -> str:
    if n >= MIB:
        return f"{n / MIB:g} MiB"
    if n >= 1024:
        return f"{n / 1024:g} KiB"
    return f"{n} bytes"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _header_bytes(value: str) -> bytes:
    # httpx encodes str header values as ASCII and fails otherwise; a validator a
    # server sent in UTF-8 was decoded as UTF-8, so it goes back the same way.
    try:
        return value.encode("ascii")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _failure(request: FetchRequest, error_type: ErrorType, message: str) -> FetchResult:
    return FetchResult(url=request.url, error=message, error_type=error_type)


def _with_elapsed(result: FetchResult, elapsed: float) -> FetchResult:
    return replace(result, elapsed_seconds=round(elapsed, 3))
