"""What every CLI command shares: turning user mistakes into one clear message with exit
code 2, and quoting names back the way a shell wants them. The --config and --data options
and opening the application are in engage.launch, shared with the daemon's command."""

from __future__ import annotations

import sys
from typing import Any

import click

from engage.errors import EngageError


def run_main(group: click.Group, argv: list[str]) -> Any:
    """Run the CLI; an EngageError becomes its message on stderr and exit code 2."""
    try:
        return group.main(args=argv, prog_name="engage", standalone_mode=False)
    except EngageError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


def quote(name: str) -> str:
    """A name as the user would type it in a shell command."""
    import shlex

    return shlex.quote(name)
