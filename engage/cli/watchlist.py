"""Commands that read or edit the watchlist: check, add-person, add-feed.

The watchlist editor (ruamel, pydantic) is imported only when a command edits, so listing
the commands or running an unrelated one does not pay for those imports."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from pathlib import Path

import click

from engage.app import orphan_line
from engage.cli.output import echo
from engage.launch import config_option, data_option, open_app
from engage.models import FeedKind, MeterRules, Watchlist

_KINDS = [kind.value for kind in FeedKind]


@click.command()
@config_option
@data_option
def check(config_path: Path | None, data_dir: Path | None) -> None:
    """Validate the watchlist and print a short summary.

    Every problem is listed at once as FILE:LINE:COL: message, and the exit code is 2.
    A history stored for someone who is no longer in the watchlist (renamed by hand?)
    is named, with the command that links it again.

    \b
    Example:
      engage check
      engage check --config ~/notes/feeds.yaml
    """
    app = open_app(config_path, data_dir)
    watchlist = app.watchlist
    for warning in app.watchlist_warnings():
        echo(warning, err=True)
    me = watchlist.me
    everyone = watchlist.everyone()
    kinds = Counter(feed.kind.value for person in everyone for feed in person.feeds)
    total = sum(kinds.values())
    by_kind = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    settings = watchlist.settings
    digest = settings.digest
    overrides = _meter_overrides(watchlist)
    echo(f"{watchlist.path}: OK")
    echo(
        f"  me:       {me.name} ({_count(len(me.feeds), 'feed')}, "
        f"{_count(len(me.aliases), 'alias', 'aliases')})"
    )
    echo(f"  people:   {len(watchlist.people)}")
    echo(f"  contacts: {len(watchlist.contacts)}")
    echo(f"  feeds:    {total}" + (f" ({by_kind})" if by_kind else ""))
    echo(
        f"  polling:  every {settings.poll_interval_minutes} min, "
        f"{settings.concurrency} at a time, {settings.per_host} per host"
    )
    mail = f", e-mailed to {digest.email_to} via {digest.smtp_host}" if digest.email_to else ""
    echo(f"  digest:   daily at {digest.time.strftime('%H:%M')}{mail}")
    echo("  meter:    " + (", ".join(overrides) if overrides else "defaults"))
    echo(f"  data:     {app.data_dir}")
    silent = [p.name for p in watchlist.people if not p.feeds]
    if silent:
        echo(f"  no feeds yet: {', '.join(silent)} (engage add-feed NAME URL)")
    for orphan in app.orphans():
        echo(orphan_line(orphan, Path(watchlist.path or "feeds.yaml").name))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _meter_overrides(watchlist: Watchlist) -> list[str]:
    rules = watchlist.settings.meter
    defaults = MeterRules()
    changed = [
        f"{kind.value} {value:g} points"
        for kind, value in rules.points.items()
        if defaults.points.get(kind) != value
    ]
    for field in fields(MeterRules):
        if field.name == "points":
            continue
        value = getattr(rules, field.name)
        if value != getattr(defaults, field.name):
            changed.append(f"{field.name} {value:g}")
    return changed


@click.command("add-person")
@click.argument("name")
@click.option("--site", "sites", multiple=True, metavar="URL", help="Their home page (repeat).")
@click.option("--feed", "feeds", multiple=True, metavar="URL", help="A feed URL (repeat).")
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default=None,
    help="The kind of the --feed URLs (default: blog).",
)
@click.option("--alias", "aliases", multiple=True, help="Another spelling of their name (repeat).")
@config_option
def add_person(
    name: str,
    sites: tuple[str, ...],
    feeds: tuple[str, ...],
    kind: str | None,
    aliases: tuple[str, ...],
    config_path: Path | None,
) -> None:
    """Add someone you want to meet to the watchlist.

    The file is edited in place: comments, order and formatting stay as they are.
    A name or feed already in the watchlist is refused.

    \b
    Example:
      engage add-person "Dana Vellacott" --site https://dana.example.org/ \\
          --feed https://dana.example.org/feed/ --alias dana_v
    """
    app = open_app(config_path)
    app.add_person(name, sites=sites, feeds=feeds, kind=kind, aliases=aliases)
    added = f" with {_count(len(feeds), 'feed')}" if feeds else ""
    echo(f"Added {name.strip()}{added} to {app.config_path}.")


@click.command("add-feed")
@click.argument("person")
@click.argument("url")
@click.option("--kind", type=click.Choice(_KINDS), default="blog", show_default=True)
@click.option("--title", default=None, help="A title to show instead of the URL.")
@config_option
def add_feed(person: str, url: str, kind: str, title: str | None, config_path: Path | None) -> None:
    """Add a feed URL to someone already in the watchlist (or to "me").

    No autodiscovery here: give the feed's own URL (engage add finds it from a page).

    \b
    Example:
      engage add-feed "Dana Vellacott" https://podcast.dana.example.org/episodes.xml \\
          --kind podcast --title "Small Web Radio"
      engage add-feed me https://robin.example.net/comments/feed/ --kind comments
    """
    app = open_app(config_path)
    app.add_feed(person, url, kind=kind, title=title)
    echo(f"Added {kind} feed {url.strip()} to {person} in {app.config_path}.")
