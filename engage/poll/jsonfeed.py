"""JSON Feed 1.0 / 1.1 -> ParsedFeed, since feedparser 6 cannot read JSON Feed.

The same rules as the XML path apply (entry identity, plain titles, derived titles, sanitized
capped summaries, absolute links), through the helpers of the fields module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engage.clean import NAME_CHARS, clean_line
from engage.models import Enclosure, Entry, ParsedFeed
from engage.poll.fields import (
    CATEGORY_CHARS,
    MAX_CATEGORIES,
    absolute_links,
    clean_summary,
    derive_title,
    hash_id,
    html_text,
    http_url,
    parse_date,
    plain_text,
    positive_int,
)


def parse_json_feed(body: bytes, *, url: str) -> ParsedFeed:
    """Parse a JSON Feed body. Raises only on bugs; parse_feed wraps it."""
    try:
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except ValueError as exc:
        return ParsedFeed(error=f"not a feed: invalid JSON ({exc})"[:300])
    if not isinstance(data, Mapping) or "jsonfeed.org/version" not in str(data.get("version")):
        return ParsedFeed(error="not a feed: JSON without a JSON Feed version")
    link = http_url(data.get("home_page_url"), url)
    base = link or url
    feed_author = _author(data)
    items = data.get("items")
    entries: list[Entry] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            continue
        entry = _item(item, base=base, feed_author=feed_author, feed_link=link)
        if entry.id in seen:
            continue  # the first of duplicate ids wins
        seen.add(entry.id)
        entries.append(entry)
    return ParsedFeed(
        title=plain_text(data.get("title"), None) or None, link=link, entries=tuple(entries)
    )


def _author(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """JSON Feed 1.1 `authors` (a list) or 1.0 `author` (an object): (name, url)."""
    candidates: list[Any] = []
    if isinstance(obj.get("authors"), list):
        candidates.extend(obj["authors"])
    candidates.append(obj.get("author"))
    for author in candidates:
        if isinstance(author, Mapping) and (author.get("name") or author.get("url")):
            name = plain_text(author.get("name"), None, limit=NAME_CHARS) or None
            return name, http_url(author.get("url"), None)
    return None, None


def _item(
    item: Mapping[str, Any],
    *,
    base: str,
    feed_author: tuple[str | None, str | None],
    feed_link: str | None,
) -> Entry:
    link = http_url(item.get("url"), base) or http_url(item.get("external_url"), base)
    content_html = _str(item.get("content_html"))
    content_text = _str(item.get("content_text"))
    summary_src = _str(item.get("summary")) or content_html or _escape_text(content_text)
    text = html_text(summary_src) if summary_src else ""
    title = plain_text(item.get("title"), None) or derive_title(text)
    published = parse_date(_str(item.get("date_published"))) if item.get("date_published") else None
    updated = parse_date(_str(item.get("date_modified"))) if item.get("date_modified") else None
    name, author_url = _author(item)
    if name is None and author_url is None:
        name, author_url = feed_author
    raw_id = item.get("id")
    entry_id = (
        (str(raw_id).strip() if raw_id not in (None, "") else "")
        or link
        or hash_id(link, item.get("date_published"), title)
    )
    links = absolute_links((content_html, _str(item.get("summary"))), base)
    external = http_url(item.get("external_url"), base)
    if external and external != link and external not in links:
        links = (*links, external)  # a linked post: the link it points at is the point
    return Entry(
        id=entry_id,
        link=link,
        title=title or None,
        published=published or updated,
        updated=updated,
        author=name,
        author_url=author_url,
        summary=clean_summary(summary_src, base) if summary_src else "",
        links=links,
        enclosure=_attachment(item.get("attachments"), base),
        categories=_tags(item.get("tags")),
    )


def _attachment(attachments: object, base: str) -> Enclosure | None:
    if not isinstance(attachments, list):
        return None
    for attachment in attachments:
        if not isinstance(attachment, Mapping):
            continue
        url = http_url(attachment.get("url"), base)
        if url:
            return Enclosure(
                url=url,
                type=clean_line(_str(attachment.get("mime_type"))) or None,
                length=positive_int(attachment.get("size_in_bytes")),
                duration_seconds=positive_int(attachment.get("duration_in_seconds")),
            )
    return None


def _tags(tags: object) -> tuple[str, ...]:
    if not isinstance(tags, list):
        return ()
    found = dict.fromkeys(plain_text(t, None)[:CATEGORY_CHARS] for t in tags if isinstance(t, str))
    found.pop("", None)
    return tuple(found)[:MAX_CATEGORIES]


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _escape_text(text: str) -> str:
    import html

    return html.escape(text).replace("\n", "<br>\n") if text else ""
