"""`engage poll`, `engage feeds`, `engage posts`, `engage detect`: following the feeds
and seeing what was found."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engage.clean import clean_text
from engage.cli.output import (
    bar_console,
    cell,
    console,
    echo,
    echo_json,
    feed_label,
    fit_columns,
    print_table,
    table,
    url_cell,
)
from engage.launch import config_option, data_option, open_app

if TYPE_CHECKING:
    from engage.models import (
        AccountOutcome,
        CycleSummary,
        FeedOutcome,
        FeedState,
        ProgressHook,
        SocialAccount,
    )


@click.command()
@click.option("--all", "everything", is_flag=True, help="Poll every feed, due or not.")
@click.option("--person", default=None, help="Poll only this person's feeds.")
@click.option("--verbose", "-v", is_flag=True, help="One line per feed.")
@config_option
@data_option
def poll(
    everything: bool,
    person: str | None,
    verbose: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """Poll the feeds that are due: posts, episodes and comment threads.

    Conditional GET, per-host politeness, a deadline and a size cap per feed. One
    feed's failure never stops the others: it is recorded on that feed (see
    `engage feeds`). New comments are turned into interactions right away.

    \b
    Example:
      engage poll                 # what is due
      engage poll --all -v        # everything, one line per feed
      engage poll --person "Dana Reyes"
    """
    app = open_app(config_path, data_dir)
    if person is not None:
        person = app.anyone(person).name
    app.store  # says "starting a new, empty data folder" before any progress bar  # noqa: B018
    if verbose:

        def progress(_urls: Sequence[str]) -> ProgressHook:
            return _say_outcome

        summary = app.poll(everything=everything, person=person, progress=progress)
    elif sys.stderr.isatty():
        with _Watcher() as watcher:
            summary = app.poll(everything=everything, person=person, progress=watcher.round)
    else:
        summary = app.poll(everything=everything, person=person)
    if verbose:  # the feeds' lines came as each finished; the accounts are read after them
        for account in summary.accounts:
            echo(_account_line(account))
    if summary.interrupted is not None:
        echo(_interrupted_line(summary), err=True)
        # 128 + the signal, as a shell reports it: 130 for Ctrl-C, 143 for SIGTERM.
        sys.exit(128 + summary.interrupted)
    echo(summary.line())
    moved = [o for o in summary.outcomes if o.moved_to]
    for outcome in moved:
        echo(
            f"moved: {outcome.url} -> {outcome.moved_to} (permanent redirect; "
            "`engage feeds --apply-moves` updates feeds.yaml)"
        )


def _say_outcome(outcome: FeedOutcome) -> None:
    """-v: one line per feed, as soon as it is done (one slow site no longer holds back
    every other line until the end of the poll)."""
    if not outcome.quiet:
        echo(_outcome_line(outcome))


class _Watcher:
    """The progress bar on a terminal (on stderr), without -v: how many feeds are done,
    and the hosts still being waited for, those with the most feeds left first."""

    SHOWN_HOSTS = 3
    WAITING_WIDTH = 40

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.waiting: Counter[str] = Counter()
        # No stdout redirection: what the poll prints after the bar goes where stdout goes.
        self.bar = Progress(
            TextColumn("polling"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            # Hosts are data: shown as plain text, cleaned and cut short (_waiting).
            TextColumn("{task.fields[waiting]}", markup=False),
            console=bar_console(),
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.task = self.bar.add_task("poll", total=None, waiting="")

    def __enter__(self) -> _Watcher:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def round(self, urls: Sequence[str]) -> ProgressHook:
        # Follow-up rounds (comment feeds found on the way) add to the total.
        total = self.bar.tasks[0].total or 0
        self.waiting.update(_host(url) for url in urls)
        self.bar.update(self.task, total=total + len(urls), waiting=self._waiting())
        return self.done

    def done(self, outcome: FeedOutcome) -> None:
        host = _host(outcome.url)
        if self.waiting[host] > 0:
            self.waiting[host] -= 1
        self.bar.update(self.task, advance=1, waiting=self._waiting())

    def _waiting(self) -> str:
        hosts = [host for host, count in self.waiting.most_common() if count > 0]
        if not hosts:
            return ""
        shown = ", ".join(hosts[: self.SHOWN_HOSTS])
        more = len(hosts) - self.SHOWN_HOSTS
        text = clean_text(f"waiting for {shown}" + (f" and {more} more" if more > 0 else ""))
        # Short enough to leave the bar and the count whole on an 80-column terminal.
        return text if len(text) <= self.WAITING_WIDTH else text[: self.WAITING_WIDTH - 1] + "…"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _interrupted_line(summary: CycleSummary) -> str:
    """What a stopped poll kept and what it did not, in one line."""
    import signal

    how = "Interrupted" if summary.interrupted == signal.SIGINT else "Stopped by SIGTERM"
    kept = (
        f"kept {summary.polled} feeds that finished ({summary.new_posts} new posts, "
        f"{summary.new_comments} new comments, {summary.new_events} new interactions)"
    )
    if not summary.unfinished:
        return f"{how}: {kept}; none was left unfinished."
    return f"{how}: {kept}; {summary.unfinished} not finished, polled again next time."


def _outcome_line(outcome: FeedOutcome) -> str:
    detail = outcome.error or (
        f"{outcome.new_posts} new posts, {outcome.new_comments} new comments"
    )
    return f"{outcome.status.value:<12} {outcome.person}: {outcome.url} — {detail}"


def _account_line(outcome: AccountOutcome) -> str:
    detail = outcome.error or f"{outcome.new_posts} new statuses"
    where = f"{outcome.network.value} {outcome.handle}"
    return f"{outcome.status.value:<12} {outcome.person}: {where} — {detail}"


# ---------------------------------------------------------------------------


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of feed objects.")
@click.option(
    "--apply-moves", is_flag=True, help="Rewrite feeds.yaml for feeds that moved permanently."
)
@config_option
@data_option
def feeds(
    as_json: bool, apply_moves: bool, config_path: Path | None, data_dir: Path | None
) -> None:
    """List every feed: whose, what kind, its health and when it is next checked.

    \b
    Example:
      engage feeds
      engage feeds --json | jq '.[] | select(.status == "error")'
      engage feeds --apply-moves
    """
    app = open_app(config_path, data_dir)
    if apply_moves:
        done = app.apply_moves()
        if not done.moves:
            echo("No proposed moves.")
            return
        for old, new in done.moves.items():
            echo(f"{old} -> {new}")
        echo(f"{done.changed} feed URL(s) updated in the watchlist.")
        return
    listed = app.feeds()
    accounts = app.accounts()
    if as_json:
        from engage.views import account_json, feed_json

        echo_json([feed_json(s) for s in listed] + [account_json(a) for a in accounts])
        return
    _print_feeds(listed)
    if accounts:
        _print_accounts(accounts)


FEED_FLOOR = 24  # "host:port…/feed/" still says which feed it is
PERSON_FLOOR = 16  # a longer name wraps at its spaces (its longest word stays whole)
WIDE = ("person", "kind", "status", "last success", "fails", "next check", "feed")
NARROW = ("person", "kind", "status", "next check", "feed")


def _print_feeds(listed: list[FeedState]) -> None:
    """Every column when they all fit whole; else "last success" and "fails" go (the count
    shows as "error ×3") and the dates lose their year, so that the feed (host and path,
    cut in the middle only when it must) keeps its room. An error or a move wraps under
    the feed. rich alone cut the widest column at its end: at 80 columns every URL read
    "http://127.…"."""
    screen = console()
    rows = [_feed_row(s) for s in listed]
    wants = [
        max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(WIDE[:-1])
    ]
    wants.append(max([4, *(len(feed_label(s.url)[0]) for s in listed)]))
    wide = sum(wants) + 2 * (len(WIDE) - 1) <= screen.width
    names = WIDE if wide else NARROW
    if not wide:
        rows = [_narrow(row, s) for row, s in zip(rows, listed, strict=True)]
        wants = [wants[WIDE.index(name)] for name in names]
        wants[names.index("status")] = max([len("status"), *(len(row[2]) for row in rows)])
        wants[names.index("next check")] = max([10, *(len(row[3]) for row in rows)])
    longest_word = max([0, *(len(word) for s in listed for word in s.person.split())])
    floors = [
        max(PERSON_FLOOR, min(longest_word, 2 * PERSON_FLOOR)) if name == "person"
        else FEED_FLOOR if name == "feed"
        else want
        for name, want in zip(names, wants, strict=True)
    ]  # fmt: skip
    order = [names.index("feed"), names.index("person")]
    widths = fit_columns(screen.width - 2 * (len(names) - 1), wants, floors, order)
    made = table(())
    for name, width in zip(names, widths, strict=True):
        # The feed's URL cuts itself to fit (url_cell); a name and an error wrap.
        made.add_column(name, width=width, no_wrap=name not in ("person", "feed"))
    for row, s in zip(rows, listed, strict=True):
        notes = (
            s.last_error if s.last_error and s.failures else "",
            f"moved to {s.moved_to}" if s.moved_to else "",
        )
        made.add_row(*(cell(text) for text in row), url_cell(s.url, *notes))
    print_table(made, on=screen)


def _feed_row(s: FeedState) -> list[str]:
    """The wide row's text cells (the feed itself is url_cell)."""
    return [
        s.person,
        s.kind.value,
        s.status.value,
        _short(s.last_success),
        str(s.failures),
        _short(s.next_check) if not s.gone else "never (gone)",
    ]


def _narrow(row: list[str], s: FeedState) -> list[str]:
    status = s.status.value + (f" ×{s.failures}" if s.failures > 1 else "")
    when = _short(s.next_check, "%m-%d %H:%M") if not s.gone else "never (gone)"
    return [row[0], row[1], status, when]


def _print_accounts(accounts: list[SocialAccount]) -> None:
    """The Mastodon and Bluesky accounts read through their APIs, after the feeds, then one
    line for each that has a problem, with what engage does about it (the line wraps as a
    message does, not inside a cell)."""
    screen = console()
    stamp = "%Y-%m-%d %H:%M" if screen.width >= 100 else "%m-%d %H:%M"  # as the feeds' table
    made = table(("person", "network", "status", "next check", "account"))
    for a in accounts:
        if a.gone:
            due = "never (gone)"
        elif a.wait_until and (a.next_check is None or a.wait_until > a.next_check):
            due = _short(a.wait_until, stamp)
        else:
            due = _short(a.next_check, stamp)
        status = a.status.value + (f" ×{a.failures}" if a.failures > 1 else "")
        made.add_row(*(cell(text) for text in (a.person, a.network.value, status, due, a.handle)))
    echo()
    print_table(made, on=screen)
    for a in accounts:
        if a.last_error and a.status.value != "ok":
            echo(f"{a.person}: {a.network.value} {a.handle}: {a.last_error}")


def _short(value: datetime | None, stamp: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone().strftime(stamp) if value else "—"


# ---------------------------------------------------------------------------


@click.command()
@click.option("--person", default=None, help="Only this person's posts.")
@click.option(
    "--since", default=None, help="Only posts published since (2026-11-01, '7 days ago')."
)
@click.option("--limit", default=50, show_default=True, help="At most this many (0: all).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of post objects.")
@config_option
@data_option
def posts(
    person: str | None,
    since: str | None,
    limit: int,
    as_json: bool,
    config_path: Path | None,
    data_dir: Path | None,
) -> None:
    """List the posts and episodes found, newest first.

    \b
    Example:
      engage posts --person "Dana Reyes" --since "14 days ago"
      engage posts --json --limit 0
    """
    found = open_app(config_path, data_dir).posts(person, since=since, limit=limit)
    if as_json:
        from engage.views import post_json

        echo_json([post_json(p) for p in found])
        return
    for p in found:
        echo(f"{_short(p.published)}  {p.person}: {p.title}\n    {p.link or p.id}")
    if not found:
        if person is None and since is None:
            echo("No posts yet (run `engage poll`).")
        else:
            echo("No posts match; `engage posts` without filters lists them all.")


# ---------------------------------------------------------------------------


@click.command()
@click.option(
    "--rebuild", is_flag=True, help="Recompute every automatic event (manual ones untouched)."
)
@config_option
@data_option
def detect(rebuild: bool, config_path: Path | None, data_dir: Path | None) -> None:
    """Find interactions in what was polled (poll does this too after every cycle).

    Events you removed with `engage undo` stay removed.

    \b
    Example:
      engage detect
      engage detect --rebuild
    """
    done = open_app(config_path, data_dir).detect(rebuild=rebuild)
    for warning in done.warnings:
        echo(f"warning: {warning}", err=True)
    if rebuild:
        echo(f"Rebuilt automatic events: {done.added} (was {done.removed}).")
    else:
        echo(f"{done.added} new interactions, {done.new_evidence} new introduction clues.")
