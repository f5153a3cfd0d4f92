"""`engage export`, `engage import` and `engage forget`: the user's own data, all of it
out and back in (a new machine, a restore), or one person's gone."""

from __future__ import annotations

from pathlib import Path

import click

from engage import launch
from engage.cli import common
from engage.cli.output import confirm, echo, json_document, write_raw
from engage.errors import EngageError


@click.command()
@launch.config_option
@launch.data_option
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export(config_path: Path | None, data_dir: Path | None, output: Path | None) -> None:
    """Write everything engage keeps (events, feeds, posts, comments, intro evidence,
    LinkedIn contacts, the schema version) as one JSON document.

    \b
    Example:
      engage export > engage-export.json
      engage export --data ~/engage-data --output backup.json
    """
    app = launch.open_app(config_path, data_dir)
    document = app.export()
    text = json_document(document)
    if output is None:
        write_raw(text)
        return
    app.write_file(output, text, "the export")
    echo(
        f"Exported {len(document['events'])} events, {len(document['feeds'])} feeds, "
        f"{len(document['posts'])} posts and {len(document['comments'])} comments to {output}",
        err=True,
    )


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@launch.config_option
@launch.data_option
def import_(file: Path, config_path: Path | None, data_dir: Path | None) -> None:
    """Restore FILE, written by `engage export`, into the data folder: into an empty one
    (a new machine, a restore after a disk failure), or into one that already holds some
    of it, which gains only what it lacks (the ids decide; nothing is counted twice, an
    interaction undone on either side stays undone). Everything is written at once, or
    nothing. A file from a newer engage is refused; an older one is brought up to date.

    \b
    Example:
      engage export > engage-backup.json          # on the old machine
      engage import engage-backup.json            # on the new one
      engage import backup.json --data ~/engage-data
    """
    app = launch.open_app(config_path, data_dir)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise EngageError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    done = app.import_export(data, label=str(file))
    here = sum(done.offered.get(n, 0) - done.added.get(n, 0) for n in common.RECORD_WORDS)
    already = f"; {here} already here" if here else ""
    echo(f"Imported {common.records(done.added, zeros=True)} into {app.data_dir}{already}.")


@click.command()
@click.argument("person")
@launch.config_option
@launch.data_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--from-watchlist",
    is_flag=True,
    help="Take them out of feeds.yaml too (and out of everyone's knows:), comments kept.",
)
def forget(
    person: str, config_path: Path | None, data_dir: Path | None, yes: bool, from_watchlist: bool
) -> None:
    """Remove everything engage keeps about PERSON (a name or an alias, as every command
    takes it; or the name their data is stored under once they left feeds.yaml): their
    events and undo markers, their feeds with their state, posts and comments, the
    comments they wrote, intro evidence naming them, their LinkedIn entry, their Mastodon
    and Bluesky accounts' state and statuses (and statuses that answer, share or name
    them), other people's posts and comments that name them, their name in the notes that
    stay, and all of it
    in the backup copies and digest pages of the data folder. feeds.yaml is changed only
    with --from-watchlist.

    \b
    Example:
      engage forget "Dana Example"
      engage forget dana --yes --from-watchlist --data ~/engage-data
    """
    from engage.cli.common import quote

    app = launch.open_app(config_path, data_dir)
    if not yes:
        folder = app.existing_store().folder
        where = f"{folder} and from {app.config_path}" if from_watchlist else str(folder)
        confirm(f"Remove every record about {person} from {where}? This cannot be undone")
    done = app.forget(person, from_watchlist=from_watchlist)
    details = ", ".join(f"{n} {kind}" for kind, n in done.counts.items() if n)
    if details:
        asked = f" ({person!r})" if person != done.person else ""
        echo(f"Forgot {done.person}{asked}: {details}.")
    else:
        near = f" (did you mean {done.near!r}?)" if done.near else ""
        echo(f"Nothing about {person} was stored; nothing removed.{near}")
    for path in done.left:
        echo(f"{path} still names them: engage does not manage that file; edit or delete it.")
    if done.unlisted:
        echo(f"Removed {done.person} from {app.config_path} (and from every knows: list).")
    elif done.listed is not None:
        where = app.watchlist.path or "feeds.yaml"
        echo(
            f"{done.listed.name} is still listed in {where}: remove them there too "
            f"(`engage forget {quote(done.listed.name)} --from-watchlist`), or the next poll "
            "will start collecting their posts again."
        )
    elif not done.had_watchlist:
        echo(
            f"If {person} is listed in your feeds.yaml, remove them there too, or the next "
            "poll will start collecting their posts again."
        )
