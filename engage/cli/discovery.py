"""Commands that find feeds: add (autodiscovery), import-opml, export-opml.

httpx and the parse/discover modules (feedparser, nh3) are imported inside the commands, so
listing commands or running `engage log` does not pay for them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engage.cli.common import config_option, load_watchlist, resolve_config_path
from engage.errors import EngageError
from engage.models import FeedKind, FeedRef, Watchlist

if TYPE_CHECKING:
    from engage.poll.discover import Resolution
    from engage.poll.opml import OpmlOutline

_KINDS = [kind.value for kind in FeedKind]


@click.command()
@click.argument("url")
@click.option("--person", "person_name", required=True, metavar="NAME", help="Whose feed it is.")
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default=None,
    help="What the feed is (default: guessed: podcast, video, social, forum or blog).",
)
@click.option(
    "--comments/--no-comments",
    default=True,
    show_default=True,
    help="Also add the site-wide comments feed when the site advertises one.",
)
@click.option("--create", is_flag=True, help="Add the person to people: if not there yet.")
@config_option
def add(
    url: str,
    person_name: str,
    kind: str | None,
    comments: bool,
    create: bool,
    config_path: Path | None,
) -> None:
    """Find the feed behind URL and add it to someone in the watchlist.

    URL may be a feed, a web page (its <link rel="alternate"> feeds, then /feed,
    /rss.xml, /atom.xml, /index.xml, /feed.xml), a YouTube channel page, a Mastodon
    handle (@user@host) or profile, a Bluesky profile, or a Discourse topic or user page.

    \b
    Example:
      engage add https://dana.example.org/ --person "Dana Vellacott"
      engage add @dana@social.example --person "Dana Vellacott"
      engage add https://www.youtube.com/@dana --person Dana --create
    """
    path = resolve_config_path(config_path)
    watchlist = load_watchlist(config_path)
    person = watchlist.find(person_name)
    if person is None and not create:
        raise EngageError(_nobody(person_name, watchlist))

    found = _resolve(url, watchlist)
    if found.feed_url is None:
        raise EngageError(found.error or f"no feed found at {url}")

    from engage import config

    feed_kind = FeedKind(kind) if kind else found.kind
    title = found.title
    additions: list[tuple[str, FeedKind, str | None]] = [(found.feed_url, feed_kind, title)]
    if comments and found.comments_feed and found.comments_feed != found.feed_url:
        label = f"{title} (comments)" if title else None
        additions.append((found.comments_feed, FeedKind.COMMENTS, label))

    if person is None:
        sites = [found.site_url] if found.site_url else []
        config.add_person(
            path,
            person_name,
            sites=sites,
            feeds=[FeedRef(u, k, t) for u, k, t in additions],
        )
        click.echo(f"added {person_name} to people")
        for feed_url, feed_kind_added, _ in additions:
            click.echo(f"  {feed_kind_added.value:8} {feed_url}")
        return

    for feed_url, feed_kind_added, feed_title in additions:
        if config.find_feed_owner(watchlist, feed_url) is not None:
            owner = config.find_feed_owner(watchlist, feed_url)
            click.echo(f"already listed for {owner.name if owner else '?'}: {feed_url}")
            continue
        config.add_feed(path, person.name, feed_url, kind=feed_kind_added, title=feed_title)
        click.echo(f"added {feed_kind_added.value} feed for {person.name}: {feed_url}")
    if found.parsed is not None and found.parsed.entries:
        click.echo(f"  {len(found.parsed.entries)} entries now; `engage poll` will store them")


def _nobody(name: str, watchlist: Watchlist) -> str:
    import difflib

    names = [p.name for p in watchlist.everyone()]
    guess = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean '{guess[0]}'?" if guess else "pass --create to add them"
    return f"nobody called {name!r} in {watchlist.path or 'the watchlist'} ({hint})"


def _resolve(url: str, watchlist: Watchlist) -> Resolution:
    import asyncio

    import httpx

    from engage import __version__
    from engage.poll.discover import resolve

    settings = watchlist.settings
    agent = f"engage/{__version__} (+{settings.contact_url})"
    timeout = httpx.Timeout(min(settings.timeout_seconds, 30.0), connect=10.0)

    async def run() -> Resolution:
        async with httpx.AsyncClient(headers={"User-Agent": agent}, timeout=timeout) as client:
            # One overall deadline: httpx's read timeout is per chunk, a slow drip never trips it.
            async with asyncio.timeout(settings.timeout_seconds * 2):
                return await resolve(url, client=client, max_bytes=settings.max_body_bytes)

    try:
        return asyncio.run(run())
    except TimeoutError:
        raise EngageError(f"{url}: gave up after {settings.timeout_seconds * 2:g} s") from None


@click.command("import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--person-from",
    type=click.Choice(["folder", "title"]),
    default="folder",
    show_default=True,
    help="folder: each OPML folder is a person; title: each feed's title is a person.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default=FeedKind.BLOG.value,
    show_default=True,
    help="The kind given to every imported feed.",
)
@config_option
def import_opml(
    file: Path, person_from: str, dry_run: bool, kind: str, config_path: Path | None
) -> None:
    """Import feeds from an OPML export (a feed reader's or podcast app's subscriptions).

    With --person-from folder, feeds outside any folder go to a person named after the
    feed's title.

    \b
    Example:
      engage import-opml Subscriptions.opml --dry-run
      engage import-opml podcasts.opml --person-from title --kind podcast
    """
    from engage.poll.opml import read_opml

    outlines = read_opml(file.read_bytes())
    if not outlines:
        raise EngageError(f"{file}: no feeds (no outline with an xmlUrl)")
    people = group_outlines(outlines, person_from=person_from, kind=FeedKind(kind))
    if dry_run:
        for name, feeds in people:
            click.echo(f"{name}: {len(feeds)} feed{'s' if len(feeds) != 1 else ''}")
            for feed in feeds:
                click.echo(f"  {feed.url}")
        click.echo(f"dry run: {len(people)} people, {len(outlines)} feeds in {file}")
        return

    from engage import config

    path = resolve_config_path(config_path)
    load_watchlist(config_path)  # a clear error when there is no watchlist yet
    people_added, feeds_added = config.add_people(path, people)
    skipped = sum(len(feeds) for _, feeds in people) - feeds_added
    click.echo(
        f"imported {feeds_added} feeds ({people_added} new people) from {file}"
        + (f"; {skipped} already listed" if skipped else "")
    )


def group_outlines(
    outlines: Sequence[OpmlOutline], *, person_from: str, kind: FeedKind
) -> list[tuple[str, list[FeedRef]]]:
    """OPML outlines -> (person, feeds), in file order."""
    people: dict[str, list[FeedRef]] = {}
    for outline in outlines:
        if person_from == "folder" and outline.folder:
            name = outline.folder[-1]
        else:
            name = outline.title or outline.html_url or outline.url
        people.setdefault(name, []).append(FeedRef(outline.url, kind, outline.title))
    return list(people.items())


@click.command("export-opml")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@config_option
def export_opml(output: Path | None, config_path: Path | None) -> None:
    """Export every feed in the watchlist as OPML: one folder per person.

    \b
    Example:
      engage export-opml > engage.opml
      engage export-opml --output ~/backup/engage.opml
    """
    from engage.poll.opml import write_opml

    text = write_opml(load_watchlist(config_path))
    if output is None:
        click.echo(text, nl=False)
        return
    from engage.files import atomic_write

    try:
        atomic_write(output, text.encode("utf-8"))
    except OSError as exc:
        raise EngageError(f"{output}: cannot write it ({exc.strerror or exc})") from None
    count = text.count("xmlUrl=")
    click.echo(f"wrote {count} feeds to {output}", err=True)
