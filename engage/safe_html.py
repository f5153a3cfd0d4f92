"""Untrusted HTML (feed summaries, comment snippets, evidence) made safe to show.

One allowlist for every surface that puts someone else's writing on a page (the web
report, the digest): a few text-level tags, links only to http(s) URLs, nothing that can
run, load or submit anything. nh3 parses the fragment the way a browser does, so an
entity-encoded scheme (`jav&#x61;script:`) is decoded before the scheme is checked; the
tests prove it in a real browser, not by searching strings.

What comes out of `sanitize` may be inserted into a page unescaped; what comes out of
`plain_text` is text and must still be escaped (Jinja's autoescape does it). A URL kept as
a value (a post's link, an event's evidence) becomes an href only through
`urls.web_link`.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3

from engage.urls import web_link

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "em", "i", "li", "ol",
        "p", "pre", "q", "s", "small", "strong", "sub", "sup", "u", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https"})
# A link out of the user's own report must not hand the target a window handle or
# credit for the link.
LINK_REL = "nofollow noopener noreferrer"
# Dropped with everything inside them, not just unwrapped: their text is code or CSS,
# never something the user wants to read.
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "template", "noscript"})

# nh3 wants plain sets; made once, since the poller sanitizes every entry it keeps.
_TAGS = set(TAGS)
_DROP = set(DROP_WITH_CONTENT)
_ATTRIBUTES = {tag: set(names) for tag, names in ATTRIBUTES.items()}
_SCHEMES = set(URL_SCHEMES)

# A page we rendered ourselves from others' writing (a stored digest) keeps its structure
# too: headings, sections, tables. Still no style: the report's policy forbids inline
# style and its own stylesheet applies. The head goes, with its title and styles.
PAGE_TAGS = TAGS | {
    "h1", "h2", "h3", "h4", "div", "span", "section", "article", "header", "footer", "hr",
    "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd",
}  # fmt: skip
PAGE_DROP = DROP_WITH_CONTENT | {"head", "title"}
_PAGE_TAGS = set(PAGE_TAGS)
_PAGE_DROP = set(PAGE_DROP)

_SPACE = re.compile(r"\s+")
# Where a browser would break the line, so "<p>one</p><p>two</p>" reads "one two".
_BREAK = re.compile(
    r"<(?=/?(?:p|br|div|li|ul|ol|h[1-6]|blockquote|pre|tr|td|th|table|section|article)\b)",
    re.IGNORECASE,
)


def sanitize(fragment: str, *, base: str | None = None) -> str:
    """`fragment` with only the allowlisted tags and http(s) links. A relative link is made
    absolute against `base` when it is an http(s) URL, and dropped otherwise: the report's
    own origin must never be the target of a feed's link."""
    if not fragment:
        return ""
    relative: Any = ("rewrite_with_base", base) if web_link(base) else "deny"
    return nh3.clean(
        fragment,
        tags=_TAGS,
        clean_content_tags=_DROP,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=LINK_REL,
        url_relative=relative,
    ).strip()


def sanitize_page(document: str) -> str:
    """The body of a whole HTML page of our own (a stored digest), under the same rules
    as `sanitize` plus a page's structure; relative links are dropped."""
    if not document:
        return ""
    return nh3.clean(
        document,
        tags=_PAGE_TAGS,
        clean_content_tags=_PAGE_DROP,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel=LINK_REL,
        url_relative="deny",
    ).strip()


def plain_text(fragment: str) -> str:
    """The words of an HTML fragment: tags gone, entities decoded, spaces collapsed."""
    if not fragment:
        return ""
    spaced = _BREAK.sub(" <", fragment)
    text = nh3.clean(spaced, tags=set(), clean_content_tags=_DROP)
    return _SPACE.sub(" ", html.unescape(text)).strip()
