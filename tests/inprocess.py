"""`engage ARGS` run in-process through engage.cli.main (the `engage` script's entry point,
exit codes included) against a tmp watchlist and data folder, keeping what it printed: the
harness the CLI tests share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engage.cli import main
from engage.store import Store

# Commands about the watchlist alone: they take --config, not --data.
WATCHLIST_ONLY = frozenset(
    {"check", "init", "add", "add-person", "add-feed", "import-opml", "export-opml"}
)


class EngageCLI:
    """`engage(*args)` → (exit code, stdout, stderr); `.json(*args)` parses `--json`."""

    def __init__(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], watchlist: str | None
    ) -> None:
        self.config = tmp_path / "feeds.yaml"
        if watchlist is not None:
            self.config.write_text(watchlist, encoding="utf-8")
        self.data = tmp_path / "data"
        self.capsys = capsys
        self.store = Store(self.data)  # an existing store: no "starting a new…" notice

    def __call__(self, *args: str) -> tuple[int, str, str]:
        argv = [*args, "--config", str(self.config)]
        if args[0] not in WATCHLIST_ONLY:
            argv += ["--data", str(self.data)]
        self.capsys.readouterr()
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    def events(self, *args: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.json("events", *args)
        return result
