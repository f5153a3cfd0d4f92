"""`engage export`, `engage import` and `engage forget`: the user's own data, all of it
out and back in (a new machine, a restore), or one person's gone."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from engage import launch
from engage.cli import common
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
    import json

    app = launch.open_app(config_path, data_dir)
    document = app.export()
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    app.write_file(output, text, "the export")
    click.echo(
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
    click.echo(f"Imported {common.records(done.added, zeros=True)} into {app.data_dir}{already}.")


@click.command()
@click.argument("person")
@launch.config_option
@launch.data_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def forget(person: str, config_path: Path | None, data_dir: Path | None, yes: bool) -> None:
    """Remove every record about PERSON from the data folder: events, feeds and their
    state, posts, comments (on their blog and by them), their Mastodon and Bluesky
    accounts' state and statuses, undo markers, intro evidence naming them, and their
    LinkedIn contact entry. feeds.yaml is not changed.

    \b
    Example:
      engage forget "Dana Example"
      engage forget "Dana Example" --yes --data ~/engage-data
    """
    app = launch.open_app(config_path, data_dir)
    if not yes:
        folder = app.existing_store().folder
        click.confirm(
            f"Remove every record about {person} from {folder}? This cannot be undone",
            abort=True,
            err=True,
        )
    done = app.forget(person)
    total = sum(done.counts.values())
    if total:
        details = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in done.counts.items() if n)
        click.echo(f"Forgot {person}: removed {total} records ({details}).")
    else:
        near = f" (did you mean {done.near!r}?)" if done.near else ""
        click.echo(f"Nothing about {person} was stored; nothing removed.{near}")
    if done.listed is not None:
        where = app.watchlist.path or "feeds.yaml"
        click.echo(
            f"{done.listed.name} is still listed in {where}: remove them there too, or the next "
            "poll will start collecting their posts again."
        )
    elif not done.had_watchlist:
        click.echo(
            f"If {person} is listed in your feeds.yaml, remove them there too, or the next "
            "poll will start collecting their posts again."
        )
