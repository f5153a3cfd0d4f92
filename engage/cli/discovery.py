"""Commands that find feeds: add (autodiscovery), import-opml, export-opml.

httpx and the parse/discover modules (feedparser, nh3) are imported only when the
application fetches, so listing commands or running `engage log` does not pay for them."""

from __future__ import annotations

from pathlib import Path

import click

from engage.cli.output import echo
from engage.launch import config_option, open_app
from engage.models import FeedKind

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
    done = open_app(config_path).add(url, person_name, kind=kind, comments=comments, create=create)
    if done.created:
        echo(f"added {done.person} to people")
        for feed in done.feeds:
            echo(f"  {feed.kind.value:8} {feed.url}")
    for feed in done.feeds if not done.created else ():
        if feed.listed_for is not None:
            echo(f"already listed for {feed.listed_for}: {feed.url}")
        else:
            echo(f"added {feed.kind.value} feed for {done.person}: {feed.url}")
    if done.handle is not None:
        network, handle = done.handle
        if done.kept_handle is not None:
            echo(
                f"{done.person} already has {network}: {done.kept_handle} under handles: "
                f"(kept; edit feeds.yaml to follow {handle} instead)"
            )
        else:
            echo(f"{network}: {handle} is under {done.person}'s handles: (their replies "
                 "and mentions are read from its API)")  # fmt: skip
    if done.feed_error is not None:
        echo(f"no profile feed added: {done.feed_error}")
    if done.entries and not done.created:
        echo(f"  {done.entries} entries now; `engage poll` will store them")


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
    done = open_app(config_path).import_opml(
        file.read_bytes(), label=str(file), person_from=person_from, kind=kind, dry_run=dry_run
    )
    if dry_run:
        for name, feeds in done.people:
            echo(f"{name}: {len(feeds)} feed{'s' if len(feeds) != 1 else ''}")
            for feed in feeds:
                echo(f"  {feed.url}")
        echo(f"dry run: {len(done.people)} people, {done.outlines} feeds in {file}")
        return
    echo(
        f"imported {done.feeds_added} feeds ({done.people_added} new people) from {file}"
        + (f"; {done.skipped} already listed" if done.skipped else "")
    )


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
    app = open_app(config_path)
    text = app.export_opml()
    if output is None:
        echo(text, nl=False)
        return
    app.write_file(output, text, "it")
    count = text.count("xmlUrl=")
    echo(f"wrote {count} feeds to {output}", err=True)
