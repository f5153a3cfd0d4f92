"""How a feed's fields become our values: plain text, titles, sanitized summaries, links,
ids, numbers and dates. Pure; shared by the XML path (parse) and the JSON Feed path
(jsonfeed), so both read a title, a link or a date the same way.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from engage import safe_html
from engage.clean import TITLE_CHARS, clean_line, clean_text, clean_url

SUMMARY_TEXT_CHARS = 1000  # a digest snippet, not an archive of their writing
# 3,000 made the cache 55 MB for 1,000 feeds and a no-change poll read all of it (measured)
DERIVED_TITLE_CHARS = 80  # derived titles (Mastodon, Bluesky, Scripting News items have none)
PINGBACK_MAX_CHARS = 1200  # WordPress pingback excerpts are a sentence or two
MAX_CATEGORIES = 12  # enough to match interests; a tag cloud of hundreds is noise
CATEGORY_CHARS = 60
BLUESKY_PLACEHOLDER = "[contains quote post or other embedded content]"

_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z/!?]")
_ORIGIN = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)
_ABSOLUTE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

# Bluesky's native RSS: "14 Jan 2026 16:33 +0000" (no weekday, no seconds).
_LOOSE_DATE = re.compile(
    r"^\s*(?:[^\W\d_]{2,4}\.?,?\s+)?(\d{1,2})\.?\s+([^\W\d_]{3})[^\W\d_]*\.?\s+(\d{2,4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|GMT|UT|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
)}  # fmt: skip
# Localized feeds (UOL: "Seg, 24 Set 2018") write month names in their language.
_MONTHS.update({
    "fev": 2, "abr": 4, "mai": 5, "ago": 8, "set": 9, "out": 10, "dez": 12,  # pt
    "ene": 1, "dic": 12,  # es
    "mrz": 3, "mär": 3, "okt": 10,  # de
    "fév": 2, "avr": 4, "jui": 6, "aoû": 8, "déc": 12,  # fr
})  # fmt: skip


def plain_text(
    value: object, detail: Mapping[str, Any] | None, *, limit: int | None = TITLE_CHARS
) -> str:
    """Titles and names as plain text: HTML stripped, entities unescaped, then cleaned of
    what could drive a terminal (engage.clean), spaces collapsed, cut at `limit`."""
    if not value:
        return ""
    text = str(value)
    is_html = bool(detail and "html" in str(detail.get("type") or ""))
    # Entities are decoded once more than the markup needs: CDATA authors like
    # "Song Book &#124; Blog" arrive with the entity literal.
    if is_html or _TAG.search(text):
        text = safe_html.plain_text(text)
        if "&" in text:
            text = html.unescape(text)
    elif "&" in text:
        text = html.unescape(html.unescape(text))
    # Cleaning comes last: "&#27;" only becomes an escape character once decoded.
    return clean_line(text, limit)


def html_text(fragment: str) -> str:
    return plain_text(fragment, {"type": "text/html"}, limit=None)


def lead_text(fragment: str | None) -> str:
    """Plain text of a short body, or of the start of a long one: enough for a derived title
    and the pingback test (pingback bodies are short), without stripping a whole article."""
    if not fragment:
        return ""
    if len(fragment) <= PINGBACK_MAX_CHARS:
        return html_text(fragment)
    return html_text(fragment[:PINGBACK_MAX_CHARS])[: DERIVED_TITLE_CHARS * 4] + " …"


def derive_title(text: str) -> str:
    text = text.replace(BLUESKY_PLACEHOLDER, " ").strip()
    text = _SPACE.sub(" ", text)
    if not text:
        return ""
    if len(text) <= DERIVED_TITLE_CHARS:
        return text
    cut = text[:DERIVED_TITLE_CHARS]
    space = cut.rfind(" ")
    if space > DERIVED_TITLE_CHARS // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def clean_summary(fragment: str, base: str) -> str:
    """Sanitized, capped HTML. Cut first (on a tag boundary), then clean: cleaning closes any
    element the cut left open, so the result is valid HTML whatever the length."""
    if len(fragment) > SUMMARY_TEXT_CHARS:
        cut = fragment[:SUMMARY_TEXT_CHARS]
        open_tag = cut.rfind("<")
        if open_tag > cut.rfind(">"):
            cut = cut[:open_tag]
        fragment = cut + "…"
    # nh3 turns "&#27;" into the character itself: cleaning comes after it.
    return clean_text(safe_html.sanitize(fragment, base=base))


def absolute_links(fragments: Iterable[str | None], base: str) -> tuple[str, ...]:
    """Absolute http(s) hrefs, in order, deduplicated: "their post links to my site".

    Most hrefs are already absolute; urljoin is only paid for the others (it was half of
    the per-entry cost on podcast show notes full of links, measured)."""
    found: dict[str, None] = {}
    raw_seen: set[str] = set()
    origin = _origin(base)
    for fragment in fragments:
        if not fragment or "href" not in fragment:
            continue
        for match in _HREF.finditer(fragment):
            href = (match.group(1) or match.group(2) or "").strip()
            if href in raw_seen or not href or href[0] == "#":
                continue
            raw_seen.add(href)
            if "&" in href:
                href = html.unescape(href)
            if _ABSOLUTE.match(href):
                found.setdefault(href, None)
                continue
            if origin and href[0] == "/" and not href.startswith("//") and "/." not in href:
                found.setdefault(origin + href, None)  # the common "/path": no urljoin needed
                continue
            absolute = http_url(href, base)
            if absolute:
                found.setdefault(absolute, None)
    return tuple(dict.fromkeys(clean_url(url) for url in found))


def is_absolute_http(text: str) -> bool:
    """An absolute http(s) URL with a host, as written (no resolving)."""
    return bool(_ABSOLUTE.match(text))


def _origin(base: str) -> str | None:
    match = _ORIGIN.match(base)
    return match.group(0) if match else None


def http_url(value: object, base: str | None) -> str | None:
    """An absolute http(s) URL, or None: javascript:, data: and friends never leave here,
    and a control character in it is percent-encoded (engage.clean)."""
    if not value:
        return None
    text = str(value).strip()
    if _ABSOLUTE.match(text):
        return clean_url(text)
    try:
        absolute = urljoin(base, text) if base else text
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return clean_url(absolute) if scheme in ("http", "https") else None


def hash_id(link: str | None, date: object, title: str | None) -> str:
    key = "\n".join((link or "", str(date or ""), title or ""))
    return "sha1:" + hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()


def parse_date(value: str) -> datetime | None:
    """Fallback for dates feedparser could not read; always timezone-aware (UTC if none)."""
    try:
        result = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        result = None
    if result is None:
        result = _loose_date(value)
    if result is None:
        try:
            result = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def _loose_date(value: str) -> datetime | None:
    match = _LOOSE_DATE.match(value)
    if not match:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name[:3].lower())
    if month is None:
        return None
    year_number = int(year)
    if year_number < 100:
        year_number += 2000 if year_number < 70 else 1900
    tz = UTC
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(offset if zone[0] == "+" else -offset)
    try:
        return datetime(
            year_number, month, int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
        )
    except ValueError:
        return None


def positive_int(value: object, *, zero: bool = False) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 or (zero and number == 0) else None
