"""`engage run`: poll what is due and send the daily digest, from one tick a minute.

One APScheduler 3 `AsyncIOScheduler` job, the tick, runs inside the event loop: not one job
per feed (the poll cycle already knows which feeds are due) and not a cron job for the
digest (a timer that stops while the laptop sleeps skips or delays it; see docs/design.md,
"Daemon"). The tick calls two callables it is given, so this module knows nothing of feeds,
stores or mail:

- `poll_due()` polls the feeds that are due. A plain function runs in a worker thread, so
  the event loop stays free to hear signals; a coroutine function is awaited.
- `send_digest_if_due(now)` sends today's digest once it is due (`now` is local time).

Each returns a short summary for the log, or None. A `companion`, when given, runs beside
the tick in the same loop until the daemon stops (`engage run --serve`: the web report).
A tick never overlaps the previous one (`max_instances=1`); ticks missed while the machine
slept collapse into one (`coalesce`), which runs however late it is
(`misfire_grace_time=None`), because the tick reads the clock itself. A lock file in the
data folder, held for the daemon's life, refuses a second one.

The poll and the digest each run in a child process (see `apart`): the memory a poll of
a thousand feeds needs goes back to the system when it ends, and the daemon stays small.

SIGINT or SIGTERM: no new work starts; a running step gets `grace` seconds to finish,
then its child is told to stop (a poll then stores the feeds that finished, as `engage
poll` does on Ctrl-C) and gets `grace` more, and only then is it abandoned by leaving the
process at once. Abandoning is safe because every store write is atomic (a temp file
renamed over the old one, under the store's lock, which the system releases with the
process) and a poll cycle stores once, at its end: the store holds the cycle's result or
none of it, and what was fetched is fetched again next time. A second signal tells the
child to stop at once.

`--serve` starts the web report as that companion. The report is another surface, so this
module never imports it: the command names its `companion` factory by import path, as the
CLI names the commands other surfaces own (docs/design.md, "Web report").
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import multiprocessing
import multiprocessing.process
import os
import signal
import sys
import time as clock
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

import click
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from engage.app import local_zone
from engage.clean import clean_text
from engage.errors import EngageError
from engage.launch import config_option, data_option, open_app, port_option

TICK_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0
LOG_FILE = "engage-run.log"
# A line a minute is ~150 KB a day: four files of 1 MB keep about four weeks.
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3

Summary = str | None
PollDue = Callable[[], Summary] | Callable[[], Awaitable[Summary]]
DigestIfDue = Callable[[datetime], Summary] | Callable[[datetime], Awaitable[Summary]]
# Runs beside the tick until the daemon's `stopping` event is set, then returns.
Companion = Callable[[asyncio.Event], Awaitable[None]]
# The web report's companion, named, not imported: one surface never imports another.
REPORT_COMPANION = "engage.web.serve:companion"

log = logging.getLogger("engage.run")


def local_now() -> datetime:
    """Now in the user's time zone, with its DST rules. Read on every tick: a laptop that
    changes zone is followed without a restart."""
    return datetime.now(local_zone())


def run(
    data_dir: Path,
    *,
    guard: AbstractContextManager[object],
    poll_due: PollDue,
    send_digest_if_due: DigestIfDue,
    once: bool = False,
    interval: float = TICK_SECONDS,
    grace: float = STOP_GRACE_SECONDS,
    clock_now: Callable[[], datetime] = local_now,
    echo: bool = False,
    companion: Companion | None = None,
) -> int:
    """Run until SIGINT or SIGTERM (or one tick with `once`). Returns the exit code: 0,
    or 1 when the single tick of `once` had an error. Raises EngageError when another
    `engage run` holds the data folder. `echo` copies the log lines to stderr.
    `companion` runs in the same loop from the start until the daemon stops."""
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EngageError(f"{data_dir}: cannot create the data folder ({exc})") from None
    with contextlib.ExitStack() as held:
        held.enter_context(guard)
        handlers = _open_log(data_dir, echo)
        held.callback(_close_log, handlers)
        daemon = _Daemon(poll_due, send_digest_if_due, clock_now, grace, companion)
        return asyncio.run(daemon.main(once=once, interval=interval))


class CleanFormatter(logging.Formatter):
    """A log line may quote a feed (an error, a URL), and the log is read in a terminal
    (`--echo`, `tail -f`): cleaned like every line the CLI prints (engage.clean)."""

    def format(self, record: logging.LogRecord) -> str:
        return clean_text(super().format(record))


def _open_log(data_dir: Path, echo: bool) -> list[logging.Handler]:
    file = RotatingFileHandler(
        data_dir / LOG_FILE, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [file]
    if echo:
        handlers.append(logging.StreamHandler(sys.stderr))
    formatter = CleanFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    for handler in handlers:
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # APScheduler warns on every tick skipped while a long poll runs; that is by design
    # here (max_instances=1), and a real error still gets through.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    return handlers


def _close_log(handlers: list[logging.Handler]) -> None:
    for handler in handlers:
        log.removeHandler(handler)
        handler.close()


class _Daemon:
    def __init__(
        self,
        poll_due: PollDue,
        send_digest_if_due: DigestIfDue,
        clock_now: Callable[[], datetime],
        grace: float,
        companion: Companion | None = None,
    ) -> None:
        self.poll_due = poll_due
        self.send_digest_if_due = send_digest_if_due
        self.clock_now = clock_now
        self.grace = grace
        self.companion = companion
        self.running: asyncio.Task[bool] | None = None
        self.stopping = asyncio.Event()
        self.hurry = asyncio.Event()

    async def main(self, *, once: bool, interval: float) -> int:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.on_signal, signum)
        if once:
            tick = asyncio.ensure_future(self.tick())
            stop = asyncio.ensure_future(self.stopping.wait())
            await asyncio.wait({tick, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if tick.done():
                return 0 if tick.result() else 1
            await self.stop()
            return 0
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=interval, timezone=UTC),
            id="tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # the first tick at once, not a minute later
        )
        scheduler.start()
        log.info("started: a tick every %g s, process %d", interval, os.getpid())
        beside = None
        if self.companion is not None:
            beside = asyncio.ensure_future(self.companion(self.stopping))
            beside.add_done_callback(_log_failure)
        await self.stopping.wait()
        # Pause, not shut down: shutting down cancels the running job's task, and a cycle
        # cancelled mid-await would leave its worker thread running unseen.
        scheduler.pause()
        await self.stop()
        if beside is not None:
            # The companion saw `stopping` too; give it the same grace to finish.
            await asyncio.wait({beside}, timeout=self.grace)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown itself runs as a loop callback
        return 0

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.stopping.is_set():
            log.info("%s again: leaving at once", name)
            _stop_children()
            self.hurry.set()
        else:
            log.info("%s: stopping", name)
        self.stopping.set()

    async def stop(self) -> None:
        running = self.running
        if running is not None and not running.done():
            hurry = asyncio.ensure_future(self.hurry.wait())
            await asyncio.wait(
                {running, hurry}, timeout=self.grace, return_when=asyncio.FIRST_COMPLETED
            )
            hurry.cancel()
            if not running.done() and _children:
                # The step runs in a child: told to stop, a poll stores what finished.
                _stop_children()
                await asyncio.wait({running}, timeout=self.grace)
            if not running.done():
                log.warning(
                    "stopped mid-cycle: abandoned the running cycle after %g s (store writes "
                    "are atomic: it stored all of its work or none; the rest is redone next "
                    "time)",
                    self.grace,
                )
                _leave_now()
        log.info("stopped")

    async def tick(self) -> bool:
        """One cycle: poll, then the digest (so it sees what was just polled). One log
        line for the cycle and one per error. Returns False when a step failed."""
        self.running = cast("asyncio.Task[bool]", asyncio.current_task())
        started = clock.monotonic()
        notes: list[str] = []
        ok = True
        steps: list[tuple[str, Callable[[], Awaitable[Summary]]]] = [
            ("poll", lambda: _call(self.poll_due)),
            ("digest", lambda: _call(self.send_digest_if_due, self.clock_now())),
        ]
        for name, step in steps:
            if self.stopping.is_set():
                notes.append(f"{name} skipped: stopping")
                continue
            try:
                summary = await step()
            except EngageError as exc:
                log.error("%s failed: %s", name, " ".join(str(exc).split()))
                notes.append(f"{name} failed")
                ok = False
            except Exception:
                log.exception("%s failed with an unexpected error", name)
                notes.append(f"{name} failed")
                ok = False
            else:
                if summary:
                    notes.append(summary)
        elapsed = clock.monotonic() - started
        log.info("cycle: %s (%.1f s)", "; ".join(notes) or "nothing to do", elapsed)
        return ok


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the companion stopped with an error", exc_info=task.exception())


async def _call(function: Callable[..., object], *args: object) -> Summary:
    if inspect.iscoroutinefunction(function):
        return cast(Summary, await function(*args))
    return cast(Summary, await asyncio.to_thread(function, *args))


# ---------------------------------------------------------------------------
# The work of a tick, each step in a process of its own


# The child processes running now: a stop signal is passed on to them.
_children: set[multiprocessing.process.BaseProcess] = set()
Answer = tuple[str, str]  # ("ok", summary) | ("error", message) | ("crash", traceback)


def apart(name: str, target: Callable[[Path, Path, Connection], None], *args: Path) -> str:
    """Run `target(*args, answer)` in a fresh process and return the summary it sends.

    Why a process per step: a poll of 1,000 feeds takes this process to 150 MB, and
    Python keeps most of that after the objects are gone, so a daemon that polled in its
    own process sat at 130 MB between ticks; in a child, the memory goes when the child
    does, and the daemon stays near its 40 MB. A fresh interpreter ("spawn"), not a fork:
    this process has threads (the tick's worker, the web report), and a fork copies
    their locks in whatever state they are. The start-up, about 0.3 s, is paid once a
    tick with work to do. When the grace after a stop signal runs out, the child is told
    to stop (see `_Daemon.stop`): its poll then stores what finished, as `engage poll`
    does on Ctrl-C."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(*args, send), name=f"engage {name}")
    child.start()
    send.close()  # only the child writes: if it dies, the read below ends
    _children.add(child)
    try:
        try:
            kind, text = cast(Answer, receive.recv())
        except EOFError:
            child.join()
            raise EngageError(
                f"the {name} stopped without finishing (exit code {child.exitcode}); "
                "what it had not stored is done again at the next tick"
            ) from None
    finally:
        child.join()
        _children.discard(child)
        receive.close()
    if kind == "ok":
        return text
    if kind == "error":
        raise EngageError(text)
    raise RuntimeError(f"the {name} failed:\n{text}")


def _stop_children(how: signal.Signals = signal.SIGTERM) -> None:
    for child in list(_children):
        if child.pid is None:  # not started: nothing to stop (and 0 would be our group)
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, how)


def answering(work: Callable[[], Summary], answer: Connection) -> None:
    """Send what `work` returns, or the error it raised, as an Answer."""
    import traceback

    # Out of the terminal's process group: Ctrl-C reaches the daemon, which gives the
    # running step its grace and only then tells it to stop (see _Daemon.stop).
    os.setpgrp()
    try:
        reply: Answer = ("ok", work() or "")
    except EngageError as exc:
        reply = ("error", str(exc))
    except Exception:
        reply = ("crash", traceback.format_exc())
    answer.send(reply)
    answer.close()


def _poll_apart(config: Path, data: Path, answer: Connection) -> None:
    answering(lambda: open_app(config, data).poll().line(), answer)


def _digest_apart(config: Path, data: Path, answer: Connection) -> None:
    answering(lambda: open_app(config, data).deliver_digest(), answer)


def _leave_now() -> None:
    """Exit without waiting for the worker thread (interpreter shutdown would join it).
    A child still running after its own grace is killed first: it left the terminal's
    process group, so nothing else would stop it polling after the daemon has stopped.
    The system releases the locks with the processes; the log is flushed first."""
    _stop_children(signal.SIGKILL)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@click.command("run")
@click.option(
    "--once", is_flag=True, help="One tick (poll what is due, the digest if due), then exit."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=TICK_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="How often to tick (feeds are still polled only when due).",
)
@click.option("--verbose", "-v", is_flag=True, help="Also print the log lines on stderr.")
@click.option(
    "--serve", is_flag=True, help="Also serve the web report on 127.0.0.1 (see `engage serve`)."
)
@port_option
@config_option
@data_option
def command(
    once: bool,
    interval: float,
    verbose: bool,
    serve: bool,
    port: int,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Keep polling and deliver the daily digest on time: a tick every minute polls the
    feeds that are due, and once a day, at settings.digest.time (also after the laptop
    wakes, or a restart), the digest is built and, when settings.digest.to is set,
    e-mailed. Logs a line per cycle to engage-run.log in the data folder. Stop it with
    Ctrl-C or SIGTERM.

    With --serve, the web report is served from the same process at
    http://127.0.0.1:PORT/ (its pages read the data without waiting for a poll).

    \b
    Example:
      engage run
      engage run --serve --port 8723
      engage run --once          # for cron: */15 * * * * engage run --once
    """
    from engage.digest.daily import DailyDigest

    if once and serve:
        raise click.UsageError("--serve keeps serving; it cannot be used with --once")
    app = open_app(config_path, data_dir)
    app.watchlist  # a broken watchlist is one clear line now, not a log entry later  # noqa: B018
    companion = None
    if serve:
        module, name = REPORT_COMPANION.split(":")
        make_companion = getattr(importlib.import_module(module), name)
        url, companion = make_companion(app.config_path, app.data_dir, port)
        click.echo(f"engage run: the report is at {url}", err=True)

    config, data = app.config_path, app.data_dir

    def poll_due() -> str:
        app.refresh()  # a watchlist broken since the start is said in the log, each tick
        app.watchlist  # noqa: B018
        return apart("poll", _poll_apart, config, data)

    digest = DailyDigest(
        lambda: app.watchlist.settings.digest.time,
        send=lambda _now: apart("digest", _digest_apart, config, data),
        last_sent=app.last_digest_sent,
        mark_sent=app.mark_digest_sent,
    )
    raise SystemExit(
        run(
            app.data_dir,
            guard=app.single_instance("run"),
            poll_due=poll_due,
            send_digest_if_due=digest,
            once=once,
            interval=interval,
            echo=verbose,
            companion=companion,
        )
    )
