"""`engage poll`, `engage feeds`, `engage posts`, `engage detect`: following the feeds
and seeing what was found."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engage.cli.common import config_option, data_option, load_watchlist, open_store
from engage.errors import EngageError

if TYPE_CHECKING:
    from engage.models import FeedState, Post, Watchlist
    from engage.poll.cycle import FeedOutcome, ProgressHook


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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
    from engage.poll.cycle import run_cycle

    watchlist = load_watchlist(config_path)
    if person is not None:
        person = _known_person(watchlist, person)
    store = open_store(data_dir, watchlist)
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

            summary = run_cycle(
                watchlist, store, now=_now(), everything=everything, person=person,
                progress=progress,
            )
    else:
        summary = run_cycle(watchlist, store, now=_now(), everything=everything, person=person)
    if verbose:
        for outcome in summary.outcomes:
            click.echo(_outcome_line(outcome))
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


def _known_person(watchlist: Watchlist, name: str) -> str:
    """Anyone in the watchlist, me included; otherwise the same did-you-mean as `log`."""
    found = watchlist.find(name)
    if found is not None:
        return found.name
    from engage.cli.interactions import resolve_person

    return resolve_person(watchlist, name).name


# ---------------------------------------------------------------------------


def feed_json(state: FeedState) -> dict[str, Any]:
    """The stable JSON shape of a feed (documented in the README)."""
    return {
        "url": state.url,
        "person": state.person,
        "kind": state.kind.value,
        "title": state.title,
        "status": state.status.value,
        "last_error": state.last_error,
        "last_error_type": state.last_error_type,
        "failures": state.failures,
        "last_success": _iso(state.last_success),
        "last_poll": _iso(state.last_poll),
        "next_check": _iso(state.next_check),
        "moved_to": state.moved_to,
        "gone": state.gone,
        "discovered": state.discovered,
    }


def all_feeds(watchlist: Watchlist, stored: list[FeedState]) -> list[FeedState]:
    """Watched feeds (never polled ones too), then the ones engage discovered."""
    from engage.models import FeedState
    from engage.poll.cycle import watched_feeds

    by_url = {s.url: s for s in stored}
    out: list[FeedState] = []
    for owner, ref in watched_feeds(watchlist):
        stored_state = by_url.pop(ref.url) if ref.url in by_url else None
        out.append(
            stored_state
            or FeedState(url=ref.url, person=owner.name, kind=ref.kind, title=ref.title)
        )
    names = {p.name for p in watchlist.everyone()}
    out += [s for s in by_url.values() if s.discovered and s.person in names]
    return out


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
    from engage.cli.common import resolve_config_path

    watchlist = load_watchlist(config_path)
    store = open_store(data_dir, watchlist)
    if apply_moves:
        from dataclasses import replace

        from engage.config import apply_moves as rewrite

        moves = {s.url: s.moved_to for s in store.feeds() if s.moved_to}
        if not moves:
            click.echo("No proposed moves.")
            return
        changed = rewrite(resolve_config_path(config_path), moves)
        with store.transaction() as tx:
            for state in tx.feeds():
                if state.url in moves and state.moved_to:
                    tx.remove_feed(state.url)
                    tx.put_feeds([replace(state, url=state.moved_to, moved_to=None)])
        for old, new in moves.items():
            click.echo(f"{old} -> {new}")
        click.echo(f"{changed} feed URL(s) updated in the watchlist.")
        return
    listed = all_feeds(watchlist, store.feeds())
    if as_json:
        click.echo(json.dumps([feed_json(s) for s in listed], indent=2, ensure_ascii=False))
        return
    _print_feeds(listed)


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


def _short(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "—"


# ---------------------------------------------------------------------------


def post_json(post: Post) -> dict[str, Any]:
    """The stable JSON shape of a post (documented in the README)."""
    enclosure = post.enclosure
    return {
        "person": post.person,
        "feed": post.feed,
        "id": post.id,
        "link": post.link,
        "title": post.title,
        "published": _iso(post.published),
        "updated": _iso(post.updated),
        "author": post.author,
        "comment_count": post.comment_count,
        "enclosure": None
        if enclosure is None
        else {
            "url": enclosure.url,
            "type": enclosure.type,
            "length": enclosure.length,
            "duration_seconds": enclosure.duration_seconds,
        },
    }


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
    watchlist = load_watchlist(config_path)
    if person is not None:
        person = _known_person(watchlist, person)
    when = _parse_since(since)
    found = open_store(data_dir, watchlist).posts(person=person, since=when)
    if limit:
        found = found[:limit]
    if as_json:
        click.echo(json.dumps([post_json(p) for p in found], indent=2, ensure_ascii=False))
        return
    for p in found:
        click.echo(f"{_short(p.published)}  {p.person}: {p.title}\n    {p.link or p.id}")
    if not found:
        if person is None and since is None:
            click.echo("No posts yet (run `engage poll`).")
        else:
            click.echo("No posts match; `engage posts` without filters lists them all.")


def _parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    from engage.when import parse_when

    local = datetime.now().astimezone().tzinfo or UTC
    try:
        return parse_when(text, _now(), local)
    except ValueError as exc:
        raise EngageError(f"--since: {exc}") from None


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
    from engage.detect import detect as find

    watchlist = load_watchlist(config_path)
    store = open_store(data_dir, watchlist)
    with store.transaction() as tx:
        removed = tx.remove_auto_events() if rebuild else 0
        found = find(watchlist, tx.posts(), tx.comments(), rules=watchlist.settings.meter)
        added = tx.add_events(found.events)
        evidence = tx.put_intro_evidence(found.intro_evidence)
    for warning in found.warnings:
        click.echo(f"warning: {warning}", err=True)
    if rebuild:
        click.echo(f"Rebuilt automatic events: {len(added)} (was {removed}).")
    else:
        click.echo(f"{len(added)} new interactions, {evidence} new introduction clues.")
