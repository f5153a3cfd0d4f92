"""`engage serve`: the web report on 127.0.0.1, until Ctrl-C; and the same report served
from the daemon's event loop for `engage run --serve` (`companion`).

The daemon does not import this module: it names `companion` by its import path, as the
CLI names the commands of the other surfaces (docs/design.md, "Web report").
"""

from __future__ import annotations

import asyncio
import contextlib
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from engage.launch import config_option, data_option, open_app, port_option
from engage.web.endpoints import create_report
from engage.web.server import HOST, local_socket, make_server

Companion = Callable[[asyncio.Event], Awaitable[None]]


@click.command("serve")
@port_option
@click.option("--open", "open_browser", is_flag=True, help="Open the report in your browser.")
@config_option
@data_option
def command(
    port: int, open_browser: bool, config_path: Path | None, data_dir: Path | None
) -> None:
    """Serve the web report on http://127.0.0.1:PORT/ until Ctrl-C: everyone at a glance,
    a page per person (the reading, the score over 180 days, the timeline, a form to log
    an interaction), feed health and past digests. Only this computer can reach it; pages
    show fresh data on reload, also while `engage poll` or `engage run` is working.

    \b
    Example:
      engage serve
      engage serve --port 9000 --open
    """
    app = open_app(config_path, data_dir)
    app.watchlist  # a broken watchlist is one clear line now, not an error page later  # noqa: B018
    sock = local_socket(port)
    port = sock.getsockname()[1]
    server = make_server(create_report(app, port))
    url = f"http://{HOST}:{port}/"
    click.echo(f"engage: the report is at {url} (Ctrl-C to stop)", err=True)
    if open_browser:
        webbrowser.open(url)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    sock.close()
    click.echo("engage: the report has stopped", err=True)


def companion(config_path: Path, data_dir: Path, port: int) -> tuple[str, Companion]:
    """(its URL, the report as the daemon runs it). The port is taken now, so a port in use
    is one clear line before the daemon starts; the server then runs in the daemon's event
    loop until the daemon's `stopping` event is set."""
    app = open_app(config_path, data_dir)
    sock = local_socket(port)
    port = sock.getsockname()[1]
    server = make_server(create_report(app, port), embedded=True)

    async def serve(stopping: asyncio.Event) -> None:
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({serving, stop}, return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            await serving
        finally:
            stop.cancel()
            sock.close()

    return f"http://{HOST}:{port}/", serve
