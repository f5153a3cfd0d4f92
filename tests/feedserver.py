"""Small threaded HTTP servers for tests: one over a folder, for polling hundreds of real
files, and one whose routes answer by hand, for what pytest-httpserver cannot do (dripping
bytes, streaming bodies, compression bombs, raw bytes that are not HTTP).

pytest-httpserver matches each request against every registered handler, which is
quadratic for a thousand files; a folder server is linear and just as real."""

from __future__ import annotations

import contextlib
import functools
import threading
import tracemalloc
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

T = TypeVar("T")


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".rdf": "application/rdf+xml",
        ".json": "application/json",
        ".opml": "text/x-opml",
    }

    def log_message(self, format: str, *args: object) -> None:
        return


class ServerThread:
    """A ThreadingHTTPServer on 127.0.0.1, serving from a thread while the `with` lasts."""

    def __init__(self, handler: Callable[..., BaseRequestHandler], port: int = 0) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


class StaticServer(ServerThread):
    def __init__(self, folder: Path, port: int = 0) -> None:
        super().__init__(functools.partial(_QuietHandler, directory=str(folder)), port)

    def url(self, relative: str) -> str:
        return f"http://127.0.0.1:{self.port}/{quote(relative)}"


# ---------------------------------------------------------------------------
# A server whose routes answer by hand


Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        route = self.server.routes.get(urlsplit(self.path).path)
        if route is None:
            self.send_error(404)
            return
        # The client gave up on us: that is what several tests want.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.server.seen.append(self)
            route(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def respond(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    """Routes by path to a function that writes the answer by hand (see `serve` in
    conftest.py): for dripping bytes, streaming bodies and raw bytes that are not HTTP."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[Handler] = []  # every request routed, with its headers
        self.stopping = threading.Event()
        self.host_name = host

    def url(self, path: str) -> str:
        return f"http://{self.host_name}:{self.server_address[1]}{path}"


def drip(handler: Handler) -> None:
    """Headers at once, then one byte every 0.2 s until the client leaves."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.end_headers()
    handler.wfile.write(b"<rss>")
    while not handler.server.stopping.wait(0.2):
        handler.wfile.write(b" ")
        handler.wfile.flush()


def silent(handler: Handler) -> None:
    """Accept the request and never answer (until the test ends)."""
    handler.server.stopping.wait(30)


def stream_zeros(total: int, *, declare_length: bool) -> Route:
    chunk = bytes(64 * 1024)

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        if declare_length:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        sent = 0
        while sent < total and not handler.server.stopping.is_set():
            handler.wfile.write(chunk)
            sent += len(chunk)

    return route


def encoded(body: bytes, encoding: str) -> Route:
    def route(handler: Handler) -> None:
        handler.respond(
            200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": encoding}
        )

    return route


def peak_memory_during(work: Callable[[], T]) -> tuple[T, int]:
    """What `work()` returns, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
