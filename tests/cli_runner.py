"""Running `engage` in-process, as the `engage` script would (exit codes included)."""

from __future__ import annotations

import pytest

from engage.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """Run `engage ARGV` and return (exit code, stdout, stderr) of that run alone."""
    capsys.readouterr()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
