"""`engage rename` and `engage merge`: change who someone is in feeds.yaml and keep every
interaction they had with you (docs/design.md, "Identity")."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from engage.cli.common import records
from engage.cli.output import echo
from engage.launch import config_option, data_option, open_app


def _duplicates(counts: Mapping[str, int]) -> str:
    dropped = counts.get("duplicates", 0)
    if not dropped:
        return ""
    return f"; {dropped} duplicate{'s' if dropped != 1 else ''} (seen on both sides) dropped"


@click.command("rename")
@click.argument("old")
@click.argument("new")
@click.option(
    "--no-alias",
    "no_alias",
    is_flag=True,
    help="Do not keep the old name as an alias (it stops matching comment authors).",
)
@config_option
@data_option
def rename(
    old: str, new: str, no_alias: bool, config_path: Path | None, data_dir: Path | None
) -> None:
    """Rename OLD to NEW in feeds.yaml and keep their whole history.

    The file is edited in place (comments and layout kept); OLD stays as an alias unless
    --no-alias, and every `knows:` naming OLD follows. Their events, feeds, posts and
    introductions stay theirs, and the next poll adds nothing twice.

    OLD may also be a name that is only in the stored history: someone renamed by hand
    in feeds.yaml without keeping the old name as an alias. That history then becomes
    NEW's (`engage check` and `engage status` name such histories).

    \b
    Example:
      engage rename "Dana" "Dana Reyes"
      engage rename "Dana Reyes" "Dana Reyes-Okafor" --no-alias
    """
    app = open_app(config_path, data_dir)
    done = app.rename(old, new, keep_alias=not no_alias)
    where = app.config_path
    alias = f" ({done.old!r} kept as an alias)" if done.alias_added else ""
    events = f"{done.events} event{'s' if done.events != 1 else ''}"
    if done.linked:
        own = done.carried.get("events", 0)
        theirs = f", {own} of them {done.new}'s own" if own else ""
        echo(
            f"The history stored for {done.old!r} is now {done.new}'s: {events} in all"
            f"{theirs}{_duplicates(done.carried)}{alias}."
        )
        return
    follow = f"; their {events} follow{'s' if done.events == 1 else ''} them" if done.events else ""
    echo(f"Renamed {done.old} to {done.new} in {where}{alias}{follow}.")


@click.command("merge")
@click.argument("keep")
@click.argument("gone")
@config_option
@data_option
def merge(keep: str, gone: str, config_path: Path | None, data_dir: Path | None) -> None:
    """Make two entries that turn out to be one person one: GONE's feeds, aliases, sites,
    handles, tags, notes and knows join KEEP's in feeds.yaml (GONE's name becomes an
    alias and its entry goes), and GONE's history becomes KEEP's. The same interaction
    seen on both (the same kind and link, or the same id) is kept once.

    \b
    Example:
      engage merge "Dana Reyes" "Dana R."
    """
    app = open_app(config_path, data_dir)
    done = app.merge(keep, gone)
    echo(
        f"Merged {done.merged} into {done.kept} in {app.config_path}: "
        f"{records(done.carried)} moved{_duplicates(done.carried)}."
    )
    for handle in done.dropped_handles:
        echo(
            f"  {done.kept} already had a {handle.split(':', 1)[0]} handle; "
            f"{done.merged}'s ({handle.split(':', 1)[1].strip()}) was not kept."
        )
