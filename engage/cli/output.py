"""Every byte the CLI writes goes through here, so no command can forget the two rules:

- Text is cleaned again as it is written (engage.clean): titles stored by an older
  version, a note the user typed, an error that quotes a server. Whatever the data holds,
  no escape sequence, control character or bidirectional override reaches the terminal.
- rich never reads data as markup: table cells are `rich.text.Text`, never markup strings,
  so a person named "[red]Markup[/red] Person" prints as typed.

`tests/test_output.py` fails on a CLI module that writes by any other way (click.echo,
print, sys.stdout, a rich Console of its own).

rich is imported only by the commands that draw a table.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from engage.clean import clean_text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

PIPED_WIDTH = 200  # piped tables are for grep and less: wide, unless COLUMNS says otherwise


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print one message (stdout, or stderr with `err`)."""
    click.echo(clean_text(text), err=err, nl=nl)


def echo_json(data: Any) -> None:
    """A JSON answer (`--json`): every string in it cleaned the same way."""
    click.echo(json.dumps(_cleaned(data), indent=2, ensure_ascii=False))


def _cleaned(data: Any) -> Any:
    if isinstance(data, str):
        return clean_text(data)
    if isinstance(data, dict):
        return {key: _cleaned(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_cleaned(value) for value in data]
    return data


# JSON escapes C0 controls itself; DEL, C1 and the bidi overrides it writes as they are.
_JSON_ESCAPES = {
    code: f"\\u{code:04x}"
    for code in (0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def json_document(data: Any) -> str:
    """A JSON document that must keep the data exactly (`engage export`, a backup): every
    unsafe character is written as a \\u escape, which JSON readers turn back into it."""
    return json.dumps(data, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES) + "\n"


def write_raw(text: str) -> None:
    """A whole document to stdout (an export), already made safe by `json_document`."""
    sys.stdout.write(text)


def confirm(question: str) -> None:
    """Ask before something that cannot be undone; aborts on no."""
    click.confirm(clean_text(question), abort=True, err=True)


def choose(question: str, choices: Iterable[str]) -> str:
    """Ask a question answered by one of `choices` (`engage review -i`)."""
    answer: str = click.prompt(
        clean_text(question), type=click.Choice(list(choices)), show_choices=False
    )
    return answer


def cell(text: str, style: str | None = None) -> Text:
    """A table cell: plain text, never markup."""
    from rich.text import Text

    return Text(clean_text(text), style=style or "")


def lines(*parts: tuple[str, str | None]) -> Text:
    """A cell of several styled pieces: (text, style or None)."""
    from rich.text import Text

    return Text.assemble(*((clean_text(text), style or "") for text, style in parts))


def table(columns: Iterable[str], *, plain: bool = True) -> Table:
    """A table in the house style; `plain`: no box, no edge padding (lists of records)."""
    from rich.table import Table

    made = Table(box=None, pad_edge=False) if plain else Table()
    for column in columns:
        made.add_column(column)
    return made


def console() -> Console:
    """Where tables go: the terminal's width, or PIPED_WIDTH when piped (COLUMNS wins)."""
    from rich.console import Console

    columns, lines = os.environ.get("COLUMNS", ""), os.environ.get("LINES", "")
    width = int(columns) if columns.isdigit() else None
    if width is None and not sys.stdout.isatty():
        width = PIPED_WIDTH
    # rich takes a width only with a height: else a TERM=dumb (CI, an editor's shell)
    # makes every table 80 columns whatever COLUMNS says.
    height = (int(lines) if lines.isdigit() else 25) if width is not None else None
    return Console(width=width, height=height, highlight=False, markup=False, emoji=False)


def bar_console() -> Console:
    """Where a progress bar draws: stderr, so what stdout carries (a pipe, a file) stays
    clean, and nothing of the bar lands in `engage poll -v > log`."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False, emoji=False)


def print_table(made: Table, *, on: Console | None = None) -> None:
    (on or console()).print(made)


def feed_label(url: str) -> tuple[str, int]:
    """What identifies a feed to a reader: host and path (and query: YouTube's channel id
    is in it), without the scheme. Returns the label and the length of its host."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url, 0
    label = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return label, len(parts.netloc)


def shorten_middle(text: str, width: int, *, keep: int = 0) -> str:
    """`text` in `width` characters, cut in the middle with "…": the start (the first
    `keep` characters, a host, when they fit in two thirds) and the end (the file name)
    say more than the middle of a path."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    room = width - 1
    head = min(keep, room * 2 // 3) if keep else room // 2
    tail = text[len(text) - (room - head) :]
    # A path reads better cut at a slash: "host…/feed/atom.xml", not "host…vel/feed/atom.xml".
    slash = tail.find("/", 1)
    if head == keep and 0 < slash <= len(tail) // 3:
        tail = tail[slash:]
    return text[:head] + "…" + tail


class MiddleCut:
    """A table cell that shortens itself in the middle to the width the table gives it
    (rich only cuts at the end, which leaves every URL as "http://127.…")."""

    def __init__(self, text: str, *, keep: int = 0, least: int = 24) -> None:
        self.text = clean_text(text)
        self.keep = keep
        self.least = least

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        size = len(self.text)
        return Measurement(min(size, self.least), size).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        yield Text(shorten_middle(self.text, options.max_width, keep=self.keep), no_wrap=True)


def url_cell(url: str, *notes: str) -> Any:
    """A feed's URL as host and path, shortened in the middle to fit; `notes` (an error,
    a move) wrap below it, dimmed."""
    label, host = feed_label(url)
    cut = MiddleCut(label, keep=host)
    if not any(notes):
        return cut
    from rich.console import Group

    return Group(cut, *(cell(note, "dim") for note in notes if note))


def fit_columns(total: int, wants: list[int], floors: list[int], order: list[int]) -> list[int]:
    """Widths for columns that want `wants` in `total` characters (padding excluded): each
    gets its floor (or less, if it wants less), then what is left goes to the columns in
    `order`, each up to what it wants. rich alone shrinks the widest column first, which
    in the feeds table is the one that says which feed it is."""
    widths = [min(want, floor) for want, floor in zip(wants, floors, strict=True)]
    room = total - sum(widths)
    for index in order:
        extra = max(0, min(room, wants[index] - widths[index]))
        widths[index] += extra
        room -= extra
    return widths
