"""HTTP behaviour against real local servers: conditional GET, redirects, 410, backoff,
deadlines, size caps with bounded memory, clear error values, and the politeness limits.

pytest-httpserver covers plain request/response cases; a small threaded server of
our own covers what it cannot: dripping bytes, streaming bodies, raw bytes that are
not HTTP, and many connections at once (to count them).
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import socket
import ssl
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conftest import finishes
from feedserver import (
    Handler,
    Route,
    Server,
    drip,
    encoded,
    peak_memory_during,
    silent,
    stream_zeros,
)
from pytest_httpserver import HTTPServer

from engage import __version__
from engage.models import FeedState, FeedStatus, FetchResult, Settings
from engage.poll.fetch import (
    ACCEPT,
    FetchRequest,
    Limiter,
    fetch_all,
    fetch_one,
    make_client,
)
from engage.poll.schedule import after_fetch, is_due

T = TypeVar("T")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MIB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
SETTINGS = Settings(contact_url="https://example.org/engage-tests")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def fetch(
    url: str,
    *,
    settings: Settings = SETTINGS,
    deadline: float | None = None,
    max_bytes: int | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    request_max_bytes: int | None = None,
) -> FetchResult:
    """One fetch_one through a fresh client, as the poll cycle would do it."""
    async with make_client(settings) as client:
        return await fetch_one(
            client,
            FetchRequest(url, etag=etag, last_modified=last_modified, max_bytes=request_max_bytes),
            limiter=Limiter.from_settings(settings),
            deadline_seconds=deadline if deadline is not None else settings.timeout_seconds,
            max_bytes=max_bytes if max_bytes is not None else settings.max_body_bytes,
        )


def feed_state(url: str) -> FeedState:
    return FeedState(url=url, person="Dana")


# ---------------------------------------------------------------------------
# Counting requests in flight (served by feedserver.Server, through the `serve` fixture)


@dataclass
class Concurrency:
    """Requests in progress, overall and per host, and the most ever seen at once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    active: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    total_active: int = 0
    total_peak: int = 0

    def hold(self, host: str, seconds: float) -> None:
        with self.lock:
            self.active[host] = self.active.get(host, 0) + 1
            self.peak[host] = max(self.peak.get(host, 0), self.active[host])
            self.total_active += 1
            self.total_peak = max(self.total_peak, self.total_active)
        try:
            time.sleep(seconds)
        finally:
            with self.lock:
                self.active[host] -= 1
                self.total_active -= 1


# ---------------------------------------------------------------------------
# Conditional GET


def test_304_round_trip_sends_validators_back_exactly(httpserver: HTTPServer) -> None:
    # Odd but legal spellings: stored and sent back byte for byte, never normalised.
    etag = 'W/"5e-1f3a; gzip"'
    last_modified = "Mon, 2 Mar 2026 8:15:00 GMT"
    httpserver.expect_ordered_request("/feed").respond_with_data(
        RSS,
        headers={"ETag": etag, "Last-Modified": last_modified},
        content_type="application/rss+xml; charset=utf-8",
    )
    httpserver.expect_ordered_request(
        "/feed", headers={"If-None-Match": etag, "If-Modified-Since": last_modified}
    ).respond_with_data(b"", status=304, headers={"ETag": etag})
    url = httpserver.url_for("/feed")

    first = run(fetch(url))
    assert (first.status, first.body, first.error) == (200, RSS, None)
    assert (first.etag, first.last_modified) == (etag, last_modified)
    assert first.content_type == "application/rss+xml; charset=utf-8"
    state = after_fetch(feed_state(url), first, now=NOW, interval_minutes=60, ttl_minutes=90)

    second = run(fetch(url, etag=state.etag, last_modified=state.last_modified))
    assert (second.status, second.body, second.error) == (304, None, None)
    state = after_fetch(state, second, now=NOW + timedelta(hours=2), interval_minutes=60)
    assert state.status is FeedStatus.NOT_MODIFIED
    assert (state.etag, state.last_modified, state.ttl_minutes) == (etag, last_modified, 90)
    httpserver.check_assertions()


def test_requests_say_who_we_are_and_what_we_accept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)
    run(fetch(httpserver.url_for("/feed")))
    request, _ = httpserver.log[0]
    assert (
        request.headers["User-Agent"] == f"engage/{__version__} (+https://example.org/engage-tests)"
    )
    assert request.headers["Accept"] == ACCEPT
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in request.headers  # nothing stored, nothing sent


def test_response_headers_are_recorded_as_received(httpserver: HTTPServer) -> None:
    headers = {
        "Cache-Control": "public, max-age=1800",
        "Expires": "Mon, 02 Mar 2026 10:00:00 GMT",
        "Retry-After": "120",
    }
    httpserver.expect_request("/feed").respond_with_data(RSS, headers=headers)
    result = run(fetch(httpserver.url_for("/feed")))
    assert result.cache_control == "public, max-age=1800"
    assert result.expires == "Mon, 02 Mar 2026 10:00:00 GMT"
    assert result.retry_after == "120"
    assert result.elapsed_seconds > 0


# ---------------------------------------------------------------------------
# Retry-After, backoff, 410


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [
        (503, "7200", timedelta(hours=2)),
        (429, "Mon, 02 Mar 2026 15:00:00 GMT", timedelta(hours=6)),
    ],
    ids=["503 with Retry-After in seconds", "429 with Retry-After as an HTTP date"],
)
def test_retry_after_sets_the_next_check(
    httpserver: HTTPServer, status: int, retry_after: str, wait: timedelta
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        b"slow down", status=status, headers={"Retry-After": retry_after}
    )
    url = httpserver.url_for("/feed")
    result = run(fetch(url))
    assert (result.status, result.error_type, result.retry_after) == (status, "http", retry_after)
    assert result.body is None
    state = after_fetch(feed_state(url), result, now=NOW, interval_minutes=60)
    assert state.status is FeedStatus.ERROR
    assert state.next_check == NOW + wait


def test_500_backs_off_more_each_time_and_caps_at_7_days(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"oops", status=500)
    url = httpserver.url_for("/feed")

    async def poll_repeatedly(times: int) -> list[FetchResult]:
        async with make_client(SETTINGS) as client:
            limiter = Limiter.from_settings(SETTINGS)
            return [
                await fetch_one(
                    client, FetchRequest(url), limiter=limiter, deadline_seconds=5, max_bytes=MIB
                )
                for _ in range(times)
            ]

    results = run(poll_repeatedly(12))
    state, clock, waits = feed_state(url), NOW, []
    for result in results:
        assert (result.status, result.error, result.error_type) == (
            500,
            "HTTP 500 Internal Server Error",
            "http",
        )
        state = after_fetch(state, result, now=clock, interval_minutes=60)
        assert state.next_check is not None
        waits.append(state.next_check - clock)
        clock = state.next_check
    assert state.failures == 12
    assert state.last_error == "HTTP 500 Internal Server Error"
    assert waits[1:] == sorted(waits[1:]) and waits[1] < waits[4] < waits[7]
    assert waits[-1] == timedelta(days=7) == max(waits)


def test_410_marks_the_feed_gone_for_good(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"", status=410)
    url = httpserver.url_for("/feed")
    result = run(fetch(url))
    assert (result.status, result.error, result.error_type) == (410, "HTTP 410 Gone", "http")
    state = after_fetch(feed_state(url), result, now=NOW, interval_minutes=60)
    assert state.gone and state.status is FeedStatus.GONE
    for later in (timedelta(0), timedelta(days=1), timedelta(days=3650)):
        assert not is_due(state, NOW + later)


# ---------------------------------------------------------------------------
# Redirects


def test_a_chain_of_permanent_redirects_is_proposed_as_a_move(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        b"", status=301, headers={"Location": httpserver.url_for("/older")}
    )
    httpserver.expect_request("/older").respond_with_data(
        b"",
        status=308,
        headers={"Location": "/feed"},  # relative: resolved by the client
    )
    httpserver.expect_request("/feed").respond_with_data(RSS)
    old, new = httpserver.url_for("/old"), httpserver.url_for("/feed")

    result = run(fetch(old))
    assert (result.status, result.body) == (200, RSS)
    assert (result.url, result.final_url) == (old, new)
    assert (result.permanent_redirect, result.redirected) == (new, True)
    state = after_fetch(feed_state(old), result, now=NOW, interval_minutes=60)
    assert (state.url, state.moved_to, state.status) == (old, new, FeedStatus.OK)


@pytest.mark.parametrize(
    "hops",
    [(302,), (307,), (301, 302), (302, 301)],
    ids=["302", "307", "301 then 302", "302 then 301"],
)
def test_a_redirect_that_is_not_permanent_all_the_way_changes_nothing(
    httpserver: HTTPServer, hops: tuple[int, ...]
) -> None:
    for index, status in enumerate(hops):
        target = httpserver.url_for(f"/hop{index + 1}" if index + 1 < len(hops) else "/feed")
        httpserver.expect_request(f"/hop{index}").respond_with_data(
            b"", status=status, headers={"Location": target}
        )
    httpserver.expect_request("/feed").respond_with_data(RSS)
    start = httpserver.url_for("/hop0")

    result = run(fetch(start))
    assert (result.status, result.final_url) == (200, httpserver.url_for("/feed"))
    assert (result.permanent_redirect, result.redirected) == (None, True)
    state = after_fetch(feed_state(start), result, now=NOW, interval_minutes=60)
    assert (state.url, state.moved_to) == (start, None)


def test_http_to_https_on_the_same_host_is_applied_at_once() -> None:
    # No local TLS server here: the permanent redirect a real 301 would produce.
    result = FetchResult(
        url="http://blog.example.org/feed/",
        final_url="https://blog.example.org/feed/",
        status=200,
        body=RSS,
        permanent_redirect="https://blog.example.org/feed/",
        redirected=True,
    )
    state = after_fetch(
        feed_state("http://blog.example.org/feed/"), result, now=NOW, interval_minutes=60
    )
    assert (state.url, state.moved_to) == ("https://blog.example.org/feed/", None)


def test_a_redirect_loop_is_an_error_not_a_hang(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        b"", status=302, headers={"Location": "/loop"}
    )
    result = run(fetch(httpserver.url_for("/loop")))
    assert result.error_type == "protocol"
    assert result.error == "too many redirects (more than 20)"


def test_a_redirect_to_another_scheme_is_an_invalid_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        b"", status=301, headers={"Location": "ftp://files.example.org/feed.xml"}
    )
    result = run(fetch(httpserver.url_for("/feed")))
    assert result.error_type == "invalid_url"
    assert result.error is not None and "ftp" in result.error


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_redirect_to_an_impossible_port_is_an_invalid_url(
    serve: Callable[[str], Server], port: str
) -> None:
    server = serve("127.0.0.1")
    location = {"Location": f"http://127.0.0.1:{port}/feed"}
    server.routes["/feed"] = lambda handler: handler.respond(302, b"", location)
    result = run(fetch(server.url("/feed")))
    assert (result.error_type, result.status) == ("invalid_url", None)
    assert result.error is not None and result.error.startswith("invalid URL: port ")


# ---------------------------------------------------------------------------
# Deadlines: never hang


def test_a_server_dripping_bytes_hits_the_total_deadline(serve: Callable[[str], Server]) -> None:
    server = serve("127.0.0.1")
    server.routes["/feed"] = drip
    # httpx's per-chunk read timeout alone would never fire: without the total deadline
    # this would run until the guard gives up.
    result = finishes(lambda: run(fetch(server.url("/feed"), deadline=1.5)))
    assert (result.error_type, result.error) == ("timeout", "timed out after 1.5 s")
    assert result.body is None


def test_a_server_that_never_answers_hits_the_deadline_in_a_batch(
    serve: Callable[[str], Server],
) -> None:
    server = serve("127.0.0.1")
    server.routes["/silent"] = silent
    settings = Settings(timeout_seconds=1.0)
    (result,) = finishes(lambda: run(fetch_all([FetchRequest(server.url("/silent"))], settings)))
    assert (result.error_type, result.error) == ("timeout", "timed out after 1 s")


# ---------------------------------------------------------------------------
# Body-size cap with bounded memory




def test_a_50_mb_stream_stops_at_the_default_cap_with_bounded_memory(
    serve: Callable[[str], Server],
) -> None:
    server = serve("127.0.0.1")
    server.routes["/big"] = stream_zeros(50 * 1000 * 1000, declare_length=False)
    result, peak = peak_memory_during(lambda: run(fetch(server.url("/big"))))
    assert (result.error_type, result.error) == ("too_large", "body larger than 20 MiB")
    assert (result.status, result.body) == (200, None)
    assert peak < 26 * MIB, peak  # the cap plus a few chunks, never the whole 50 MB


def test_a_declared_50_mb_body_is_refused_before_reading(serve: Callable[[str], Server]) -> None:
    server = serve("127.0.0.1")
    server.routes["/big"] = stream_zeros(50 * 1000 * 1000, declare_length=True)
    result, peak = peak_memory_during(lambda: run(fetch(server.url("/big"))))
    assert result.error_type == "too_large"
    assert peak < 2 * MIB, peak


@pytest.fixture(scope="module")
def zeros_10_mb() -> bytes:
    return bytes(10 * MIB)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as old IIS sends
    ],
    ids=["gzip", "deflate", "raw deflate"],
)
def test_a_compression_bomb_is_capped_with_bounded_memory(
    serve: Callable[[str], Server],
    zeros_10_mb: bytes,
    encoding: str,
    compress: Callable[[bytes], bytes],
) -> None:
    bomb = compress(zeros_10_mb)
    assert len(bomb) < 64 * 1024  # a single network chunk: httpx would inflate it in one go
    server = serve("127.0.0.1")
    server.routes["/bomb"] = encoded(bomb, encoding)

    result, peak = peak_memory_during(lambda: run(fetch(server.url("/bomb"), max_bytes=MIB)))
    assert (result.error_type, result.error) == ("too_large", "body larger than 1 MiB")
    assert peak < 3 * MIB, peak

    # The same body under a cap it fits in is read whole, and the measurement sees it.
    whole, peak = peak_memory_during(lambda: run(fetch(server.url("/bomb"), max_bytes=11 * MIB)))
    assert whole.body == zeros_10_mb
    assert peak > 10 * MIB


@pytest.mark.parametrize(
    ("encoding", "wire", "expected"),
    [
        ("gzip", gzip.compress(RSS), RSS),
        ("x-gzip", gzip.compress(RSS), RSS),
        ("GZIP", gzip.compress(RSS), RSS),
        ("gzip", gzip.compress(RSS[:30]) + gzip.compress(RSS[30:]), RSS),
        ("gzip", gzip.compress(RSS) + b"\r\n", RSS),
        ("deflate", zlib.compress(RSS), RSS),
        ("deflate", zlib.compress(RSS)[2:-4], RSS),
        ("gzip, gzip", gzip.compress(gzip.compress(RSS)), RSS),
        ("identity", RSS, RSS),
        ("utf-8", RSS, RSS),
    ],
    ids=[
        "gzip",
        "x-gzip",
        "encoding names are case-insensitive",
        "two gzip members are one body",
        "junk after the gzip stream is ignored",
        "zlib-wrapped deflate",
        "raw deflate",
        "gzip applied twice",
        "identity",
        "a bogus encoding name passes the body through",
    ],
)
def test_compressed_bodies_are_decoded(
    serve: Callable[[str], Server], encoding: str, wire: bytes, expected: bytes
) -> None:
    server = serve("127.0.0.1")
    server.routes["/feed"] = encoded(wire, encoding)
    result = run(fetch(server.url("/feed")))
    assert (result.error, result.body) == (None, expected)


@pytest.mark.parametrize(
    ("encoding", "wire", "message"),
    [
        ("gzip", b"this is not gzip at all", "could not decode gzip body"),
        ("br", b"\x0b\x02\x80hello\x03", "unsupported Content-Encoding: br"),
    ],
    ids=["corrupt gzip", "brotli we never asked for"],
)
def test_undecodable_bodies_are_protocol_errors(
    serve: Callable[[str], Server], encoding: str, wire: bytes, message: str
) -> None:
    server = serve("127.0.0.1")
    server.routes["/feed"] = encoded(wire, encoding)
    result = run(fetch(server.url("/feed")))
    assert result.error_type == "protocol"
    assert result.error is not None and result.error.startswith(message)
    assert (result.status, result.body) == (200, None)


@pytest.mark.parametrize(
    ("size", "cap", "declared", "fits"),
    [
        (1000, 1000, True, True),
        (1001, 1000, True, False),
        (1000, 1000, False, True),
        (1001, 1000, False, False),
    ],
    ids=[
        "exactly at the cap, declared",
        "one byte over, declared",
        "exactly at the cap, streamed",
        "one byte over, streamed",
    ],
)
def test_the_cap_is_exact_and_the_per_feed_override_wins(
    serve: Callable[[str], Server], size: int, cap: int, declared: bool, fits: bool
) -> None:
    def route(handler: Handler) -> None:
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", str(size))
        handler.end_headers()
        handler.wfile.write(b"x" * size)

    server = serve("127.0.0.1")
    server.routes["/feed"] = route
    # The request's own cap overrides the default given to fetch_one.
    result = run(fetch(server.url("/feed"), max_bytes=10 * MIB, request_max_bytes=cap))
    if fits:
        assert (result.error, result.body) == (None, b"x" * size)
    else:
        assert (result.error_type, result.error) == ("too_large", "body larger than 1000 bytes")


# ---------------------------------------------------------------------------
# Errors are values with one clear line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_a_clear_value() -> None:
    port = free_port()
    result = run(fetch(f"http://127.0.0.1:{port}/feed"))
    assert result.error_type == "connection"
    assert result.error == f"connection refused (127.0.0.1:{port})"
    assert (result.status, result.body) == (None, None)


def test_an_unresolvable_host_is_a_dns_error() -> None:
    # .invalid never resolves (RFC 2606), so nothing leaves the machine.
    result = run(fetch("http://no-such-feed-host.invalid/feed", deadline=10))
    assert result.error_type == "dns"
    assert result.error is not None and result.error.startswith("no-such-feed-host.invalid: ")
    assert result.status is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/feed.xml", "not a url", "http://", "https:///feed", "", "http://[::1/",
        "http://127.0.0.1:99999/feed", "http://127.0.0.1:-1/feed", "http://127.0.0.1:0/feed",
        "http://[::1]:65536/feed", "http://127.0.0.1:+80/feed",
    ],
    ids=[
        "ftp", "words", "no host", "empty host", "empty", "broken IPv6 literal",
        "port past 65535", "negative port", "port 0", "IPv6 port past 65535", "signed port",
    ],
)  # fmt: skip
def test_invalid_urls_are_values_without_network(url: str) -> None:
    result = run(fetch(url))
    assert result.error_type == "invalid_url"
    assert result.error is not None and result.error.startswith("invalid URL")
    assert "\n" not in result.error
    assert result.url == url


def test_an_untrusted_certificate_is_a_tls_error(
    serve: Callable[[str], Server], tmp_path: Path
) -> None:
    assert shutil.which("openssl"), "openssl is needed to make a self-signed certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = serve("127.0.0.1")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.routes["/feed"] = lambda handler: handler.respond(200, RSS)

    result = run(fetch(server.url("/feed").replace("http://", "https://")))
    assert result.error_type == "tls"
    assert result.error is not None and result.error.startswith("TLS certificate of 127.0.0.1")
    assert result.status is None


def test_a_callers_own_shorter_timeouts_are_named_in_the_error(
    serve: Callable[[str], Server],
) -> None:
    server = serve("127.0.0.1")
    server.routes["/silent"] = silent

    async def impatient() -> FetchResult:
        async with make_client(Settings(timeout_seconds=0.3)) as client:
            return await fetch_one(
                client,
                FetchRequest(server.url("/silent")),
                limiter=Limiter(),
                deadline_seconds=5,
                max_bytes=MIB,
            )

    result = run(impatient())
    assert (result.error_type, result.error) == (
        "timeout",
        "timed out after 0.3 s waiting for data",
    )


def test_a_server_that_does_not_speak_http_is_a_protocol_error(
    serve: Callable[[str], Server],
) -> None:
    def nonsense(handler: Handler) -> None:
        handler.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    server = serve("127.0.0.1")
    server.routes["/feed"] = nonsense
    result = run(fetch(server.url("/feed")))
    assert result.error_type == "protocol"
    assert result.error is not None and "\n" not in result.error
    assert result.error.startswith("bad HTTP from 127.0.0.1:")


def test_a_body_cut_short_is_a_protocol_error(serve: Callable[[str], Server]) -> None:
    def truncated(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "5000")
        handler.end_headers()
        handler.wfile.write(RSS)

    server = serve("127.0.0.1")
    server.routes["/feed"] = truncated
    result = run(fetch(server.url("/feed")))
    assert (result.error_type, result.body) == ("protocol", None)
    assert result.error is not None and result.error.startswith("bad HTTP from 127.0.0.1:")


def test_one_feed_failing_never_stops_the_others(
    serve: Callable[[str], Server], httpserver: HTTPServer
) -> None:
    server = serve("127.0.0.1")
    server.routes["/drip"] = drip
    httpserver.expect_request("/ok").respond_with_data(RSS)
    httpserver.expect_request("/broken").respond_with_data(b"", status=500)
    requests = [
        FetchRequest(httpserver.url_for("/ok")),
        FetchRequest(f"http://127.0.0.1:{free_port()}/refused"),
        FetchRequest("http://no-such-feed-host.invalid/feed"),
        FetchRequest("gopher://example.org/"),
        FetchRequest(httpserver.url_for("/broken")),
        FetchRequest(server.url("/drip")),
        FetchRequest(httpserver.url_for("/ok"), max_bytes=10),
    ]
    seen: list[str] = []
    results = run(
        fetch_all(requests, Settings(timeout_seconds=1.5), on_result=lambda r: seen.append(r.url))
    )
    assert [r.url for r in results] == [r.url for r in requests]
    assert [r.error_type for r in results] == [
        None,
        "connection",
        "dns",
        "invalid_url",
        "http",
        "timeout",
        "too_large",
    ]
    assert results[0].body == RSS
    assert sorted(seen) == sorted(r.url for r in requests)


# ---------------------------------------------------------------------------
# Politeness and speed


def counting(concurrency: Concurrency, host: str, seconds: float = 0.2) -> Route:
    def route(handler: Handler) -> None:
        delay = float(handler.query.get("delay", [seconds])[0])
        concurrency.hold(host, delay)
        handler.respond(200, RSS, {"Content-Type": "application/rss+xml"})

    return route


def loopback_servers(
    serve: Callable[[str], Server], count: int, concurrency: Concurrency
) -> list[Server]:
    servers = []
    for n in range(count):
        server = serve(f"127.0.0.{n + 1}")
        server.routes["/feed"] = counting(concurrency, server.host_name)
        servers.append(server)
    return servers


def test_never_more_than_two_requests_at_once_to_one_host(serve: Callable[[str], Server]) -> None:
    concurrency = Concurrency()
    (server,) = loopback_servers(serve, 1, concurrency)
    requests = [FetchRequest(server.url(f"/feed?n={n}")) for n in range(8)]
    results = run(fetch_all(requests, Settings(concurrency=16, per_host=2)))
    assert all(r.body == RSS for r in results)
    assert concurrency.peak[server.host_name] == 2  # at most two, and two are used


def test_the_global_limit_holds_across_hosts(serve: Callable[[str], Server]) -> None:
    concurrency = Concurrency()
    servers = loopback_servers(serve, 4, concurrency)
    requests = [FetchRequest(s.url(f"/feed?n={n}")) for s in servers for n in range(4)]
    results = run(fetch_all(requests, Settings(concurrency=3, per_host=2)))
    assert all(r.error is None for r in results)
    assert concurrency.total_peak == 3
    assert max(concurrency.peak.values()) <= 2


class Gate:
    """Holds the first `count` requests until all of them are in at once: proof that they
    were fetched concurrently, with no clock involved. If they never all arrive (the
    fetches are sequential), it opens for everyone after `timeout`, a hang guard, and stays
    marked as never filled."""

    def __init__(self, count: int, timeout: float = 60) -> None:
        self.count = count
        self.timeout = timeout
        self.arrived = 0
        self.lock = threading.Lock()
        self.filled = threading.Event()
        self.given_up = threading.Event()

    def route(self, handler: Handler) -> None:
        with self.lock:
            self.arrived += 1
            if self.arrived == self.count:
                self.filled.set()
        if not self.filled.wait(0 if self.given_up.is_set() else self.timeout):
            self.given_up.set()
        handler.respond(200, RSS, {"Content-Type": "application/rss+xml"})


def test_many_feeds_are_fetched_concurrently(serve: Callable[[str], Server]) -> None:
    # 10 hosts, 2 at a time per host, 16 in all: the first 16 requests are in flight at once.
    gate = Gate(16)
    servers = [serve(f"127.0.0.{n + 1}") for n in range(10)]
    for server in servers:
        server.routes["/feed"] = gate.route
    requests = [FetchRequest(s.url(f"/feed?n={n}")) for s in servers for n in range(5)]
    finished: list[FetchResult] = []
    results = run(fetch_all(requests, Settings(), on_result=finished.append))
    assert gate.filled.is_set() and not gate.given_up.is_set()
    assert len(results) == len(finished) == 50
    assert all(r.body == RSS for r in results)


def test_results_come_back_in_request_order_and_as_they_finish(
    serve: Callable[[str], Server],
) -> None:
    concurrency = Concurrency()
    (server,) = loopback_servers(serve, 1, concurrency)
    delays = ["0.6", "0.05", "0.3"]
    requests = [FetchRequest(server.url(f"/feed?delay={d}")) for d in delays]
    finished: list[str] = []
    results = run(
        fetch_all(requests, Settings(per_host=3), on_result=lambda r: finished.append(r.url))
    )
    assert [r.url for r in results] == [r.url for r in requests]
    assert finished == [requests[1].url, requests[2].url, requests[0].url]


def test_a_callers_client_is_used_and_left_open(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)

    async def twice() -> tuple[list[FetchResult], bool]:
        async with make_client(SETTINGS) as client:
            results = await fetch_all(
                [FetchRequest(httpserver.url_for("/feed"))], SETTINGS, client=client
            )
            results += await fetch_all(
                [FetchRequest(httpserver.url_for("/feed"))], SETTINGS, client=client
            )
            return results, client.is_closed

    results, closed = run(twice())
    assert [r.body for r in results] == [RSS, RSS]
    assert not closed


def test_the_client_is_built_for_feeds() -> None:
    client = make_client(Settings(concurrency=5, timeout_seconds=30))
    try:
        assert client.max_redirects == 20
        assert client.connect_timeout == 10
        assert client.read_timeout == 30
        assert client.headers["Accept"] == ACCEPT
    finally:
        run(client.aclose())
    assert client.is_closed


def test_nothing_to_fetch_is_an_empty_list() -> None:
    assert run(fetch_all([], SETTINGS)) == []


def test_a_bug_in_the_callers_callback_is_not_swallowed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)

    def broken(result: FetchResult) -> None:
        raise RuntimeError("bug in the caller")

    with pytest.raises(ExceptionGroup) as caught:
        run(fetch_all([FetchRequest(httpserver.url_for("/feed"))], SETTINGS, on_result=broken))
    assert caught.group_contains(RuntimeError, match="bug in the caller")
