"""`engage poll`, `engage feeds`, `engage posts`, `engage detect`: following the feeds
and seeing what was found."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engage.launch import config_option, data_option, open_app

if TYPE_CHECKING:
    from engage.models import AccountOutcome, FeedOutcome, FeedState, ProgressHook, SocialAccount


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
    interactive = sys.stderr.isatty() and not verbose
    if interactive:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("polling"), BarColumn(), MofNCompleteColumn(), transient=True
        ) as bar:
            task = bar.add_task("poll", total=None)

            def progress(more: int) -> ProgressHook:
                # Follow-up rounds (comment feeds found on the way) add to the total.
                bar.update(task, total=(bar.tasks[0].total or 0) + more)

                def advance(_outcome: FeedOutcome) -> None:
                    bar.advance(task)

                return advance

            summary = app.poll(everything=everything, person=person, progress=progress)
    else:
        summary = app.poll(everything=everything, person=person)
    if verbose:
        for outcome in summary.outcomes:
            click.echo(_outcome_line(outcome))
        for account in summary.accounts:
            click.echo(_account_line(account))
    click.echo(summary.line())
    moved = [o for o in summary.outcomes if o.moved_to]
    for outcome in moved:
        click.echo(
            f"moved: {outcome.url} -> {outcome.moved_to} (permanent redirect; "
            "`engage feeds --apply-moves` updates feeds.yaml)"
        )


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
            click.echo("No proposed moves.")
            return
        for old, new in done.moves.items():
            click.echo(f"{old} -> {new}")
        click.echo(f"{done.changed} feed URL(s) updated in the watchlist.")
        return
    listed = app.feeds()
    accounts = app.accounts()
    if as_json:
        from engage.views import account_json, feed_json

        shown = [feed_json(s) for s in listed] + [account_json(a) for a in accounts]
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    _print_feeds(listed)
    if accounts:
        _print_accounts(accounts)


def _print_feeds(listed: list[FeedState]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("person", "kind", "status", "last success", "fails", "next check", "feed"):
        table.add_column(column)
    for s in listed:
        status = s.status.value + (f" ({s.last_error})" if s.last_error and s.failures else "")
        if s.moved_to:
            status += f" → moved to {s.moved_to}"
        table.add_row(
            s.person,
            s.kind.value,
            status,
            _short(s.last_success),
            str(s.failures),
            _short(s.next_check) if not s.gone else "never (gone)",
            s.url,
        )
    Console(width=200 if not sys.stdout.isatty() else None).print(table)


def _print_accounts(accounts: list[SocialAccount]) -> None:
    """The Mastodon and Bluesky accounts read through their APIs, then one line for each
    that has a problem, with what engage does about it."""
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("person", "network", "status", "last success", "fails", "next check", "account"):
        table.add_column(column)
    for a in accounts:
        if a.gone:
            due = "never (gone)"
        elif a.wait_until and (a.next_check is None or a.wait_until > a.next_check):
            due = _short(a.wait_until)
        else:
            due = _short(a.next_check)
        table.add_row(
            a.person,
            a.network.value,
            a.status.value,
            _short(a.last_success),
            str(a.failures),
            due,
            a.handle,
        )
    console = Console(width=200 if not sys.stdout.isatty() else None)
    console.print()
    console.print(table)
    for a in accounts:
        if a.last_error and a.status.value != "ok":
            click.echo(f"{a.person}: {a.network.value} {a.handle}: {a.last_error}")


def _short(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "—"


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

        click.echo(json.dumps([post_json(p) for p in found], indent=2, ensure_ascii=False))
        return
    for p in found:
        click.echo(f"{_short(p.published)}  {p.person}: {p.title}\n    {p.link or p.id}")
    if not found:
        if person is None and since is None:
            click.echo("No posts yet (run `engage poll`).")
        else:
            click.echo("No posts match; `engage posts` without filters lists them all.")


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
        click.echo(f"warning: {warning}", err=True)
    if rebuild:
        click.echo(f"Rebuilt automatic events: {done.added} (was {done.removed}).")
    else:
        click.echo(f"{done.added} new interactions, {done.new_evidence} new introduction clues.")
