"""`engage export` and `engage forget`: the user's own data, all of it out, or one
person's gone."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engage.cli import common

if TYPE_CHECKING:
    from engage.models import Watchlist
    from engage.store import Snapshot, Store

EXPORT_FORMAT = 1


def _watchlist_if_any(config_path: Path | None, data_dir: Path | None) -> Watchlist | None:
    """The watchlist when there is one to find. It may name the data folder
    (settings.data_dir), so without --data a broken one is an error, not a guess at
    another folder; with --data it only feeds hints, and a broken one is skipped."""
    from engage.errors import EngageError

    if config_path is None and not common.resolve_config_path(None).exists():
        return None
    try:
        return common.load_watchlist(config_path)
    except EngageError:
        if data_dir is not None and config_path is None:
            return None
        raise


def _existing_store(data_dir: Path | None, watchlist: Watchlist | None) -> Store:
    """The store, refusing a folder without one: opening it would create an empty store,
    and a mistyped --data would then export nothing, or forget nothing, without a word."""
    from engage.errors import EngageError
    from engage.store import PRECIOUS

    folder = common.resolve_data_dir(data_dir, watchlist)
    if not (folder / PRECIOUS).exists():
        raise EngageError(f"{folder}: no engage data here (no {PRECIOUS}); check --data")
    return common.open_store(data_dir, watchlist)


def export_document(snapshot: Snapshot) -> dict[str, Any]:
    """Everything the store holds, as one JSON-ready object."""
    from engage.codec import to_json

    return {
        "engage_export": EXPORT_FORMAT,
        "schema": snapshot.schema,
        "meta": to_json(snapshot.meta),
        "feeds": to_json(snapshot.feeds),
        "events": to_json(snapshot.events),
        "tombstones": sorted(snapshot.tombstones),
        "intro_evidence": to_json(snapshot.intro_evidence),
        "linkedin_contacts": to_json(snapshot.linkedin_contacts),
        "posts": to_json(snapshot.posts),
        "comments": to_json(snapshot.comments),
    }


@click.command()
@common.config_option
@common.data_option
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

    watchlist = _watchlist_if_any(config_path, data_dir)
    store = _existing_store(data_dir, watchlist)
    document = export_document(store.snapshot())
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    from engage.errors import EngageError
    from engage.files import atomic_write

    try:
        atomic_write(output, text.encode("utf-8"))
    except OSError as exc:
        raise EngageError(f"{output}: cannot write the export ({exc.strerror})") from exc
    click.echo(
        f"Exported {len(document['events'])} events, {len(document['feeds'])} feeds, "
        f"{len(document['posts'])} posts and {len(document['comments'])} comments to {output}",
        err=True,
    )


@click.command()
@click.argument("person")
@common.config_option
@common.data_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def forget(person: str, config_path: Path | None, data_dir: Path | None, yes: bool) -> None:
    """Remove every record about PERSON from the data folder: events, feeds and their
    state, posts, comments (on their blog and by them), undo markers, intro evidence
    naming them, and their LinkedIn contact entry. feeds.yaml is not changed.

    \b
    Example:
      engage forget "Dana Example"
      engage forget "Dana Example" --yes --data ~/engage-data
    """
    watchlist = _watchlist_if_any(config_path, data_dir)
    store = _existing_store(data_dir, watchlist)
    if not yes:
        click.confirm(
            f"Remove every record about {person} from {store.folder}? This cannot be undone",
            abort=True,
            err=True,
        )
    with store.transaction() as tx:
        counts = tx.forget(person)
    total = sum(counts.values())
    if total:
        details = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items() if n)
        click.echo(f"Forgot {person}: removed {total} records ({details}).")
    else:
        click.echo(f"Nothing about {person} was stored; nothing removed.{_near(store, person)}")
    listed = watchlist.find(person) if watchlist is not None else None
    if listed is not None:
        where = watchlist.path if watchlist is not None and watchlist.path else "feeds.yaml"
        click.echo(
            f"{listed.name} is still listed in {where}: remove them there too, or the next "
            "poll will start collecting their posts again."
        )
    elif watchlist is None:
        click.echo(
            f"If {person} is listed in your feeds.yaml, remove them there too, or the next "
            "poll will start collecting their posts again."
        )


def _near(store: Store, person: str) -> str:
    """A misspelt name forgets nothing: name the stored person it was probably meant to be."""
    import difflib

    snapshot = store.load_precious_only()
    names = {e.person for e in snapshot.events} | {f.person for f in snapshot.feeds}
    close = difflib.get_close_matches(person, sorted(names), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""
