"""The report's ASGI app and its server: pages in, a safe local server out.

`create_app` puts the pages' routes behind everything every page needs: `/static/...`,
friendly error pages (never a traceback) and `LocalOnly` outside all of it. `local_socket`
binds 127.0.0.1 only; there is deliberately no way to bind another address. `make_server`
gives a uvicorn server for that socket: `.run()` blocks (`engage serve`), `await .serve()`
runs inside an event loop that is already running (the daemon).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from engage.errors import EngageError
from engage.web.security import ERROR_MESSAGES, LocalOnly, error_page
from engage.web.templating import Pages, static_file

HOST = "127.0.0.1"


def create_app(
    routes: Sequence[BaseRoute], *, pages: Pages, port: int, secret: bytes | None = None
) -> ASGIApp:
    """The whole report for a server on 127.0.0.1:`port`."""

    async def static(request: Request) -> Response:
        found = static_file(pages.folders, request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        path, media_type = found
        # Revalidated on every load: an edited stylesheet shows on reload, and the
        # ETag keeps that a 304.
        return FileResponse(path, media_type=media_type, headers={"cache-control": "no-cache"})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail
        if message == HTTPStatus(exc.status_code).phrase:  # no detail given: say it kindly
            message = ERROR_MESSAGES.get(exc.status_code, message)
        return _error_response(pages, exc.status_code, message, exc.headers)

    async def user_error(request: Request, exc: Exception) -> Response:
        # A facade call refused what the user asked (an unknown person, a bad date):
        # its one line is the whole message.
        return _error_response(pages, 400, str(exc), None)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error_response(pages, 500, ERROR_MESSAGES[500], None)

    app = Starlette(
        routes=[*routes, Route("/static/{name}", static, methods=["GET", "HEAD"])],
        exception_handlers={
            HTTPException: http_error,
            EngageError: user_error,
            Exception: server_error,
        },
    )
    return LocalOnly(app, port=port, render_error=pages.error_html, secret=secret)


def _error_response(
    pages: Pages, status: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    text = error_page(pages.error_html, status, message)
    return HTMLResponse(text, status_code=status, headers=headers)


def local_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port` (0 picks a free port; read it back with
    `getsockname()`). An EngageError when the port is taken, not a traceback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise EngageError(
            f"cannot listen on {HOST}:{port}: {exc.strerror}; choose another --port"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Embedded(uvicorn.Server):
    """A server inside an event loop whose owner already handles SIGINT and SIGTERM (the
    daemon): uvicorn's own handlers would replace the daemon's while it serves. It stops
    when its owner sets `should_exit`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(
    app: ASGIApp, *, log_level: str = "warning", embedded: bool = False
) -> uvicorn.Server:
    """A uvicorn server for `app`; run it with the socket from `local_socket`. An
    `embedded` one leaves the process's signals to its owner."""
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        # Only our own headers: no "server: uvicorn" advertising, and the Host check
        # sees what the browser sent, untouched by proxy headers.
        server_header=False,
        proxy_headers=False,
        access_log=False,
    )
    return _Embedded(config) if embedded else uvicorn.Server(config)
