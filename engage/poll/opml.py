"""OPML: the subscription lists feed readers and podcast apps import and export.

Pure: bytes in, outlines out; a watchlist in, OPML text out. Hand-edited exports often
break XML (a bare &, an HTML entity), so an unreadable file is read again one outline tag
at a time before it is refused.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engage.clean import clean_name, clean_title, clean_url
from engage.errors import EngageError
from engage.models import FeedKind, FeedRef, Watchlist
from engage.poll.pages import tag_attributes
from engage.poll.xmlsafe import EntityDeclarations, without_entity_declarations


@dataclass(frozen=True)
class OpmlOutline:
    """One feed of an OPML file; `folder` is the path of enclosing outlines, outermost first."""

    url: str
    title: str | None = None
    html_url: str | None = None
    folder: tuple[str, ...] = ()


def read_opml(data: bytes) -> list[OpmlOutline]:
    """Feed outlines (those with an xmlUrl) with their folder path; others are folders."""
    try:
        data, _removed = without_entity_declarations(data)
    except EntityDeclarations as exc:
        raise EngageError(f"not a readable OPML file: {exc}") from None
    try:
        root = ET.fromstring(data.lstrip())
    except ET.ParseError as exc:
        # Hand-edited exports break XML (a bare &, an HTML entity); their outlines are still
        # readable one tag at a time.
        loose = _read_loose(data)
        if loose:
            return loose
        raise EngageError(f"not a readable OPML file: {exc}") from exc
    body = next((child for child in root if _local(child.tag) == "body"), root)
    found: list[OpmlOutline] = []
    _walk(body, (), found)
    return found


_OUTLINE_TAG = re.compile(r"<(/?)outline\b([^>]*?)(/?)>", re.IGNORECASE)


def _read_loose(data: bytes) -> list[OpmlOutline]:
    text = data.decode("utf-8", errors="replace")
    found: list[OpmlOutline] = []
    folders: list[str | None] = []
    for match in _OUTLINE_TAG.finditer(text):
        closing, raw_attrs, self_closing = match.groups()
        if closing:
            if folders:
                folders.pop()
            continue
        attrs = tag_attributes(raw_attrs)
        label, url = _label_and_url(attrs)
        if url:
            folder = tuple(f for f in folders if f)
            found.append(_outline(url, label, attrs.get("htmlurl"), folder))
        if not self_closing:
            folders.append(None if url else clean_name(label) or None)
    return found


def _walk(node: ET.Element, folder: tuple[str, ...], found: list[OpmlOutline]) -> None:
    for child in node:
        if _local(child.tag) != "outline":
            continue
        attrs = {key.lower(): value for key, value in child.attrib.items()}
        label, url = _label_and_url(attrs)
        if url:
            found.append(_outline(url, label, attrs.get("htmlurl"), folder))
        name = clean_name(label)
        _walk(child, (*folder, name) if not url and name else folder, found)


def _label_and_url(attrs: Mapping[str, str]) -> tuple[str, str]:
    return attrs.get("title") or attrs.get("text") or "", (attrs.get("xmlurl") or "").strip()


def _outline(url: str, label: str, html_url: str | None, folder: tuple[str, ...]) -> OpmlOutline:
    """An outline as engage keeps it: the file's titles and URLs are text from the network,
    cleaned here (engage.clean) before they can reach the watchlist or a terminal."""
    return OpmlOutline(
        url=clean_url(url),
        title=clean_title(label) or None,
        html_url=clean_url(html_url.strip()) if html_url and html_url.strip() else None,
        folder=folder,
    )


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def write_opml(watchlist: Watchlist) -> str:
    """One folder per person with feeds (me first), each feed an outline; valid, escaped XML."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = "engage watchlist"
    body = ET.SubElement(opml, "body")
    for person in watchlist.everyone():
        if not person.feeds:
            continue
        name = clean_name(person.name)
        folder = ET.SubElement(body, "outline", text=name, title=name)
        site = person.sites[0] if person.sites else None
        for feed in person.feeds:
            # XML has no room for control characters, even escaped ones (feeds.yaml may).
            label = clean_title(feed.title or "") or name
            attrs = {"type": "rss", "text": label, "title": label, "xmlUrl": feed.url}
            if site:
                attrs["htmlUrl"] = site
            ET.SubElement(folder, "outline", attrs)
    ET.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n"


def group_outlines(
    outlines: Sequence[OpmlOutline], *, person_from: str, kind: FeedKind
) -> list[tuple[str, list[FeedRef]]]:
    """OPML outlines -> (person, feeds), in file order: each folder is a person
    (`person_from="folder"`; feeds outside any folder go to a person named after the feed's
    title), or each feed's title is a person (`"title"`)."""
    people: dict[str, list[FeedRef]] = {}
    for outline in outlines:
        if person_from == "folder" and outline.folder:
            name = outline.folder[-1]
        else:
            name = clean_name(outline.title or outline.html_url or outline.url)
        people.setdefault(name, []).append(FeedRef(outline.url, kind, outline.title))
    return list(people.items())
