"""Fetch feeds over HTTP, politely, concurrently, and without ever falling over.

Every fetch ends as a FetchResult: network trouble, slow servers, huge bodies and
bad URLs are values on that result (error_type + one line a user can read), never
exceptions crossing the batch, so one broken feed never stops the others.

Three measured facts shape this module:
- httpx's read timeout is per chunk, so a server dripping one byte a second never
  trips it; a total deadline (asyncio.timeout) wraps the request AND the read.
- httpx's gzip/deflate decoders inflate each network chunk in one go, with no
  output limit: one 64 KiB chunk of gzipped zeros became 64 MiB in a single call
  (peak 140 MiB traced), before any cap could look at it. So bodies are read raw
  and inflated here in bounded steps, and the cap counts decoded bytes as they come.
- Politeness is per host: at most `per_host` requests at a time to one host,
  and at most `concurrency` overall.
"""

from __future__ import annotations

import asyncio
import errno
import http
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace

import httpx

from engage import __version__
from engage.models import FetchResult, Settings
from engage.urls import port_problem

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
# How much decoded output one inflate step may produce: the most a compressed
# chunk can add to memory beyond the size cap.
INFLATE_STEP = 64 * 1024
MIB = 1024 * 1024

# Encodings that compress: a body in one of these that we cannot inflate would be
# handed to the parser as garbage, so it becomes an error instead.
_UNDECODABLE_ENCODINGS = frozenset({"br", "zstd", "compress", "x-compress"})
# Values some servers send that mean "not encoded".
_IDENTITY_ENCODINGS = frozenset({"", "identity", "none", "binary", "utf-8", "8bit", "7bit"})

log = logging.getLogger(__name__)

ErrorType = str  # timeout, too_large, connection, dns, tls, http, invalid_url, protocol


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


def make_client(settings: Settings) -> httpx.AsyncClient:
    """The one client a poll cycle shares, so connections to a host are reused."""
    limits = httpx.Limits(
        max_connections=max(1, settings.concurrency),
        max_keepalive_connections=max(1, settings.concurrency),
    )
    # read/write/pool are generous per-operation limits; the real bound is the total
    # deadline in fetch_one, which these can only shorten, never lengthen.
    timeout = httpx.Timeout(
        settings.timeout_seconds,
        connect=min(CONNECT_TIMEOUT_SECONDS, settings.timeout_seconds),
    )
    return httpx.AsyncClient(
        follow_redirects=True,
        timeout=timeout,
        limits=limits,
        event_hooks={"request": [_refuse_impossible_port]},
        headers={
            "User-Agent": user_agent(settings),
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
    )


async def _refuse_impossible_port(request: httpx.Request) -> None:
    """Every request, redirects included: a Location with port 99999 is refused here as an
    invalid URL instead of failing inside the socket's connect."""
    problem = port_problem(str(request.url))
    if problem is not None:
        raise httpx.InvalidURL(problem)


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


async def fetch_one(
    client: httpx.AsyncClient,
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
    url = _checked_url(request.url)
    if isinstance(url, tuple):
        return _failure(request, *url)

    async with limiter.slot(url.host):
        started = time.monotonic()
        try:
            # The deadline starts once we hold a slot: waiting in the queue behind
            # other feeds is not this feed's server being slow.
            async with asyncio.timeout(deadline_seconds):
                result = await _exchange(client, request, url, cap)
        except Exception as exc:
            result = _failure(request, *_failure_reason(exc, client, url, deadline_seconds))
        elapsed = time.monotonic() - started
    return _with_elapsed(result, elapsed)


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
    client: httpx.AsyncClient,
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
    checked = _checked_url(url)
    if isinstance(checked, tuple):
        return Reply(url, error=checked[1], error_type=checked[0])
    async with limiter.slot(checked.host):
        try:
            async with asyncio.timeout(deadline_seconds):
                async with client.stream("GET", checked, headers=headers) as response:
                    found = Reply(url, response.status_code, dict(response.headers.items()))
                    try:
                        return replace(found, body=await _read_capped(response, max_bytes))
                    except _TooLarge:
                        message = f"body larger than {_size(max_bytes)}"
                        return replace(found, error=message, error_type="too_large")
                    except _UndecodableBody as exc:
                        return replace(found, error=str(exc), error_type="protocol")
        except Exception as exc:
            error_type, message = _failure_reason(exc, client, checked, deadline_seconds)
            return Reply(url, error=message, error_type=error_type)


def _checked_url(text: str) -> httpx.URL | tuple[ErrorType, str]:
    """The URL to request, or why it cannot be requested."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        return "invalid_url", f"invalid URL: {_one_line(str(exc))}"
    if url.scheme not in ("http", "https"):
        return "invalid_url", f"invalid URL: not http(s): {text!r}"
    if not url.host:
        return "invalid_url", f"invalid URL: no host in {text!r}"
    problem = port_problem(text)
    if problem is not None:
        return "invalid_url", f"invalid URL: {problem}"
    return url


def _failure_reason(
    exc: Exception, client: httpx.AsyncClient, url: httpx.URL, deadline_seconds: float
) -> tuple[ErrorType, str]:
    """What went wrong with one request, as (error type, one line). The order matters:
    a TimeoutError is an OSError, and httpx's timeouts are transport errors."""
    if isinstance(exc, TimeoutError):
        return "timeout", f"timed out after {_seconds(deadline_seconds)}"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", _timeout_message(exc, client)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        # UnsupportedProtocol is raised for a redirect to a non-http(s) URL, too.
        return "invalid_url", f"invalid URL: {_one_line(str(exc))}"
    if isinstance(exc, httpx.TooManyRedirects):
        return "protocol", f"too many redirects (more than {client.max_redirects})"
    if isinstance(exc, httpx.TransportError | OSError):
        return classify_transport_error(exc, url)
    if isinstance(exc, httpx.DecodingError):
        return "protocol", f"bad body: {_one_line(str(exc))}"
    if isinstance(exc, UnicodeError):
        # A stored validator or a URL that cannot be put on the wire.
        return "invalid_url", f"cannot send request: {exc}"
    # Something no case above foresaw (a bug here or in a library): it stays on this
    # request's record, with the traceback in the log, and the batch goes on.
    log.exception("fetching %s failed unexpectedly", url)
    return "protocol", f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}"


async def _exchange(
    client: httpx.AsyncClient, request: FetchRequest, url: httpx.URL, cap: int
) -> FetchResult:
    headers: dict[bytes, bytes] = {}
    # Validators go back exactly as they came: some servers compare them as strings.
    if request.etag:
        headers[b"If-None-Match"] = _header_bytes(request.etag)
    if request.last_modified:
        headers[b"If-Modified-Since"] = _header_bytes(request.last_modified)

    async with client.stream("GET", url, headers=headers) as response:
        status = response.status_code
        found = _response_facts(request, response)
        if status == 304:
            return found
        if not 200 <= status < 300:
            return replace(
                found,
                error=f"HTTP {status} {_reason(response)}".rstrip(),
                error_type="http",
            )
        try:
            body = await _read_capped(response, cap)
        except _TooLarge:
            return replace(found, error=f"body larger than {_size(cap)}", error_type="too_large")
        except _UndecodableBody as exc:
            return replace(found, error=str(exc), error_type="protocol")
        return replace(found, body=body)


def _response_facts(request: FetchRequest, response: httpx.Response) -> FetchResult:
    """What every response tells us, whatever its status, with headers as received."""
    hops = response.history
    final_url = str(response.url)
    permanent = bool(hops) and all(hop.status_code in (301, 308) for hop in hops)
    headers = response.headers
    return FetchResult(
        url=request.url,
        final_url=final_url,
        status=response.status_code,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        content_type=headers.get("content-type"),
        retry_after=headers.get("retry-after"),
        cache_control=headers.get("cache-control"),
        expires=headers.get("expires"),
        permanent_redirect=final_url if permanent else None,
        redirected=bool(hops),
    )


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    encodings = _content_encodings(response.headers.get("content-encoding"))
    if not encodings:
        declared = response.headers.get("content-length", "")
        # Refuse before reading a byte when the server says it is too big.
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for piece in decode_body(response.aiter_raw(), encodings):
        size += len(piece)
        if size > cap:
            raise _TooLarge
        chunks.append(piece)
    return b"".join(chunks)


def _content_encodings(header: str | None) -> list[str]:
    """The encodings to undo, outermost (last applied) first."""
    if not header:
        return []
    names = [name.strip().lower() for name in header.split(",")]
    for name in names:
        if name in _UNDECODABLE_ENCODINGS:
            raise _UndecodableBody(f"unsupported Content-Encoding: {name}")
    return [name for name in reversed(names) if name not in _IDENTITY_ENCODINGS]


async def decode_body(raw: AsyncIterator[bytes], encodings: Sequence[str]) -> AsyncIterator[bytes]:
    """Undo gzip/deflate while streaming, never producing more than INFLATE_STEP at once.

    Unknown encodings pass through untouched, as httpx does: the parser then says
    what it could not read.
    """
    inflaters = [_Inflater(name) for name in encodings if name in _Inflater.KINDS]
    async for chunk in raw:
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
    client: httpx.AsyncClient | None = None,
) -> list[FetchResult]:
    """Fetch every request concurrently within the limits; results in request order.

    `on_result` is called as each fetch finishes, in completion order, so the
    caller can start parsing while the rest are still downloading.
    """
    limiter = Limiter.from_settings(settings)
    active = make_client(settings) if client is None else client

    async def one(request: FetchRequest) -> FetchResult:
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


def classify_transport_error(exc: BaseException, url: httpx.URL) -> tuple[ErrorType, str]:
    """Name the reason from the OS error under httpx's wrapper, not its class alone."""
    where = f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
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
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return "protocol", f"bad HTTP from {where}: {text}"
    if isinstance(exc, httpx.ConnectError):
        return "connection", f"cannot connect to {where}: {text}"
    return "connection", f"connection to {where} failed: {text}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _timeout_message(exc: httpx.TimeoutException, client: httpx.AsyncClient) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        limit = client.timeout.connect
        phase = "connecting"
    elif isinstance(exc, httpx.PoolTimeout):
        limit = client.timeout.pool
        phase = "waiting for a connection"
    else:
        limit = client.timeout.read if isinstance(exc, httpx.ReadTimeout) else client.timeout.write
        phase = "waiting for data"
    return f"timed out after {_seconds(limit)} {phase}" if limit else f"timed out {phase}"


def _reason(response: httpx.Response) -> str:
    # The standard phrase, not the server's: it is untrusted text and often empty.
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:
        return _one_line(response.reason_phrase)[:80]


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
