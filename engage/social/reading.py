"""Reading what a social API sends without trusting its shape: JSON, fields, links,
times and text.

Pure. Every helper answers None (or "") for a value of the wrong type or form, so the
parsers can skip what they cannot read with a reason instead of raising. A status is
someone else's writing: we keep a snippet big enough for the digest, never an archive
(docs/design.md, privacy), and never markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from engage.clean import clean_line
from engage.poll.fields import html_text

SNIPPET_CHARS = 280  # one digest line's worth; a toot is 500, a Bluesky post 300 graphemes

# Mastodon writes paragraphs and line breaks as elements: without a space where they were,
# "<p>Thanks!</p><p>See you</p>" would read "Thanks!See you".
_BREAKS = re.compile(r"<(?:br|/p|/li|/blockquote|/h\d|/pre)\b[^>]*>", re.IGNORECASE)
_LONGEST_TIME = 64  # "2026-11-03T14:15:00.123456789+00:00" is 35; anything longer is junk


def html_snippet(fragment: str, limit: int = SNIPPET_CHARS) -> str:
    """Untrusted HTML (a toot's content) -> one line of plain text, at most `limit` chars."""
    # Cut the input first: nh3 and unescape need not read 100 KB to make 280 chars.
    return cut(_one_line(html_text(_BREAKS.sub(" ", fragment[: limit * 20]))), limit)


def plain_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """Plain text (a Bluesky post) -> one line, at most `limit` chars.

    Not passed through nh3: it is not HTML, and an HTML cleaner would eat "a<b" as a tag.
    Whatever renders it later escapes it like every other snippet."""
    return cut(_one_line(text[: limit * 20]), limit)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word where one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: max(1, limit - 1)]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:.-") + "…"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 / ISO 8601 time as an aware datetime (UTC when it names no zone), or
    None for anything else. Both APIs document their times as RFC 3339; a record's
    createdAt on Bluesky is written by the poster's client and may be anything."""
    if not isinstance(value, str) or not value or len(value) > _LONGEST_TIME:
        return None
    text = value.strip()
    if len(text) < 16 or not text[:4].isdigit():  # a date alone is not a moment
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 minus an offset
        return None


def _one_line(text: str) -> str:
    return clean_line(text)  # the one cleaning of network text: engage.clean


def load_json(body: bytes) -> tuple[Any, str | None]:
    """The decoded body, or (None, the reason it is not JSON)."""
    if not body or not body.strip():
        return None, "the response was empty"
    try:
        return orjson.loads(body), None
    except orjson.JSONDecodeError as exc:
        return None, f"the response is not JSON ({str(exc)[:80]})"


def field(data: object, key: str) -> Any:
    """`data[key]` when `data` is a JSON object, else None."""
    return data.get(key) if isinstance(data, Mapping) else None


def text_field(data: object, key: str) -> str | None:
    """A string field, non-empty; numbers pass as their digits (ids are strings in the
    documented shapes, but some servers send numbers)."""
    value = field(data, key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and value else None


def http_url(value: object) -> str | None:
    """An absolute http(s) URL with a host, or None: only such links may reach a page."""
    if not isinstance(value, str) or not value or len(value) > 2048:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value
