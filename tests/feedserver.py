"""A small threaded HTTP server over a folder, for polling hundreds of real files.

pytest-httpserver matches each request against every registered handler, which is
quadratic for a thousand files; a folder server is linear and just as real."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseRequestHandler
from types import TracebackType
from typing import ClassVar, Self
from urllib.parse import quote


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
