"""The `engage` command. Thin: each command lives in a submodule that is imported
only when that command runs, so `engage --version` and `engage log` start fast."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from engage import __version__

# command name -> "module:attribute": a submodule of engage.cli, or (with a dot) a module
# of another surface that owns its command (the daemon's `run`, the web report's `serve`).
# Loaded on first use by name, so the command line needs none of them to start, and no
# surface imports another.
COMMANDS: dict[str, str] = {
    "check": "watchlist:check",
    "add-person": "watchlist:add_person",
    "add-feed": "watchlist:add_feed",
    "add": "discovery:add",
    "import-opml": "discovery:import_opml",
    "export-opml": "discovery:export_opml",
    "export": "data:export",
    "import": "data:import_",
    "rename": "people:rename",
    "merge": "people:merge",
    "forget": "data:forget",
    "poll": "polling:poll",
    "feeds": "polling:feeds",
    "posts": "polling:posts",
    "detect": "polling:detect",
    "log": "interactions:log",
    "met": "interactions:met",
    "events": "interactions:events",
    "undo": "interactions:undo",
    "ask": "meter:ask",
    "outcome": "interactions:outcome",
    "status": "meter:status",
    "explain": "meter:explain",
    "intro": "meter:intro",
    "import-linkedin": "meter:import_linkedin",
    "digest": "daily:digest",
    "run": "engage.daemon:command",
    "serve": "engage.web.serve:command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._available(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        full = _module(module_name)
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name == full:
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None

    def _available(self, name: str) -> bool:
        return importlib.util.find_spec(_module(COMMANDS[name].split(":")[0])) is not None


def _module(name: str) -> str:
    return name if "." in name else f"engage.cli.{name}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="engage")
def cli() -> None:
    """Follow the people you want to meet, take part in their conversation, and ask
    to connect only once a real two-way dialogue exists.

    \b
    Example:
      engage check --config feeds.yaml
      engage poll
      engage status
    """


def main(argv: list[str] | None = None) -> Any:
    from engage.cli.common import run_main

    return run_main(cli, argv if argv is not None else sys.argv[1:])
