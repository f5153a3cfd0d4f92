"""Text from the network made harmless, before it is stored, written to the watchlist or
printed.

A terminal is an interpreter: an escape sequence in a feed's title can set the window
title (OSC 0), draw a link to a site the user never sees (OSC 8), recolour or clear the
screen (CSI), and a C1 control (U+009B is a one-character CSI) does the same in terminals
that read them. A bidirectional override (U+202E) makes "moc.elpmaxe" read as
"example.com", so one name can pass for another. None of these belong in a title, a name
or a comment, so they go:

- C0 controls except tab and newline, and DEL;
- C1 controls (U+0080–U+009F);
- the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).

A whole escape sequence goes at once (CSI `ESC [ … m`, OSC `ESC ] … BEL`, DCS and the
other strings, and their one-character C1 forms), so a title reads "Hello click", not
"Hello ]8;;https://evil.example click". The parameters of an OSC (a window title, a
hidden link target) are never text the user was meant to read.

Names and titles are one line (a newline in a name could forge a second line of output,
or a second key in the watchlist) and capped: `NAME_CHARS` and `TITLE_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Longer than any real name; a pingback's "author" is "Post title – Site name", which
# detection splits to find a person, so it must survive whole.
NAME_CHARS = 200
# Longer than any real headline (the longest in the test corpus is under 200); beyond
# this a "title" is a paragraph some feed put in the wrong element.
TITLE_CHARS = 300

_UNSAFE_RANGES = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_UNSAFE_RANGES}]")
# Everything unsafe, tab and newline included: what a name may never hold.
_UNSAFE_IN_LINE = re.compile(f"[\t\n{_UNSAFE_RANGES}]")
# ECMA-48: CSI (ESC [ or U+009B) parameters, intermediates, one final byte; a control
# string (OSC, DCS, SOS, PM, APC, in ESC or C1 form) up to its terminator (BEL, ESC \ or
# U+009C); any other escape is ESC, intermediates and one final byte.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    r"|(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"
)
_SPACE = re.compile(r"\s+")
_UNSAFE_CODES = (
    *range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
    *range(0x202A, 0x202F), *range(0x2066, 0x206A),
)  # fmt: skip
_PERCENT = {
    code: "".join(f"%{byte:02X}" for byte in chr(code).encode())
    for code in (*_UNSAFE_CODES, 0x09, 0x0A, 0x20)
}


def clean_text(text: str) -> str:
    """Bodies, snippets, summaries, notes: unsafe characters out; tabs and newlines kept."""
    if not _UNSAFE.search(text):
        return text  # nearly always: one scan, no copy
    return _UNSAFE.sub("", _SEQUENCE.sub("", text))


def clean_line(text: str, limit: int | None = None) -> str:
    """One line of text (a name, a title): cleaned, spaces collapsed, cut at `limit`."""
    text = _SPACE.sub(" ", clean_text(text)).strip()
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def clean_name(text: str) -> str:
    """A person's or an author's name from the network."""
    return clean_line(text, NAME_CHARS)


def clean_title(text: str) -> str:
    """A feed's, a post's or a page's title from the network."""
    return clean_line(text, TITLE_CHARS)


def clean_url(url: str) -> str:
    """A URL keeps its identity: unsafe characters (and white space) are percent-encoded,
    as a browser's URL parser would write them, not dropped."""
    if url.isascii() and url.isprintable() and " " not in url:
        return url
    return url.translate(_PERCENT)


def unsafe_characters(text: str, *, in_line: bool = False) -> Iterator[tuple[int, str]]:
    """(index, character) of each unsafe character; with `in_line`, tabs and newlines too
    (a name is one line)."""
    pattern = _UNSAFE_IN_LINE if in_line else _UNSAFE
    for match in pattern.finditer(text):
        yield match.start(), match.group()


_SHORT_NAMES = {0x07: "BEL", 0x09: "tab", 0x0A: "newline", 0x0D: "carriage return",
                0x1B: "ESC", 0x7F: "DEL", 0x9B: "CSI"}  # fmt: skip


def describe(character: str) -> str:
    """How a message names an invisible character: U+001B (ESC), U+202E (RIGHT-TO-LEFT
    OVERRIDE)."""
    import unicodedata

    code = ord(character)
    name = _SHORT_NAMES.get(code) or unicodedata.name(character, "") or "a control character"
    return f"U+{code:04X} ({name})"
