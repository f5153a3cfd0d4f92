"""The demo's local web server: stdlib only, 127.0.0.1, a free port, a background thread.

The feeds are rendered once when the server starts (so their dates are relative to that
moment) and served from memory, with an ETag and conditional GET like a real site, so a
second `engage poll --all` while it runs gets 304s.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from demo.site import Response, routes


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as engage's client reuses connections

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path
        self.server.requests.append(path)
        found = self.server.pages.get(path) or Response(404, b"Not Found\n", "text/plain")
        etag = found.headers.get("ETag")
        if found.status == 200 and etag and self.headers.get("If-None-Match") == etag:
            found = Response(304, b"", found.content_type, {"ETag": etag})
        self.send_response(found.status)
        for name, value in found.headers.items():
            self.send_header(name, value)
        if found.status != 304:
            self.send_header("Content-Type", found.content_type)
        self.send_header("Content-Length", str(len(found.body)))
        self.end_headers()
        if with_body and found.body:
            self.wfile.write(found.body)

    def log_message(self, format: str, *args: object) -> None:
        return  # the demo prints engage's view of each request, not the server's


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, Response]
    requests: list[str]


class DemoServer:
    """`with DemoServer() as server:` serves the fictional sites at `server.base`."""

    def __init__(self, now: datetime | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port: int = self._server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.now = now or datetime.now(UTC)
        self._server.pages = routes(self.base, self.now)
        self._server.requests = []
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-server", daemon=True
        )

    @property
    def requests(self) -> list[str]:
        """The paths asked for so far, in order: what engage actually fetched."""
        return list(self._server.requests)

    def __enter__(self) -> DemoServer:
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
        self._thread.join(timeout=5)
