"""How blogs mark what a comment is: a threaded answer, a pingback, a comment permalink.

Pure and stdlib-only. The parser reads these marks when a feed arrives and detection reads
them again on comments stored by older versions; both must apply the same rule, so the
rule lives here once. Each rule keys on structure, never on words, because WordPress and
Blogger speak the blog's language: "In reply to", "En réponse à" and "Als Antwort auf" are
the same mark.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# WordPress starts an author's threaded answer with a few words ("In reply to", in the
# site's language) and a link to the answered comment's #comment-N, first thing in the body.
_WP_REPLY = re.compile(
    r"""^\s*(?:<p>)?[^<]{0,60}<a\s[^>]*?href\s*=\s*["']([^"']*#comment-\d+)["'][^>]*>[^<]*</a>""",
    re.IGNORECASE,
)
_COMMENT_FRAGMENT = re.compile(r"^(?:comment-\d+|c\d+|comments?)$")
# "[…] excerpt […]": WordPress builds pingback and trackback bodies this way, in any language.
_PINGBACK_TEXT = re.compile(r"^\s*\[(?:…|\.\.\.)\].*\[(?:…|\.\.\.)\]\s*$", re.DOTALL)
_PINGBACK_PREFIX = re.compile(r"^\s*(?:pingback|trackback)\s*:", re.IGNORECASE)
# The words and punctuation left between the reply link and the comment itself.
_AFTER_LEAD = re.compile(r"^\s*[.:,]?\s*(?:</p>\s*)?")


def reply_link(body: str) -> str | None:
    """The href of the comment a WordPress threaded answer starts by naming (raw, as written
    in the HTML: maybe relative, maybe with entities), or None."""
    match = _WP_REPLY.match(body)
    return match.group(1) if match else None


def without_reply_lead(body: str) -> str:
    """The comment's HTML without its "In reply to <a>Name</a>." lead: evidence quotes what
    they said, not the mark."""
    match = _WP_REPLY.match(body)
    if not match:
        return body
    rest = body[match.end() :]
    return rest[_AFTER_LEAD.match(rest).end() :]  # type: ignore[union-attr]


def is_comment_url(url: str) -> bool:
    """A URL that points at a comment inside a thread (#comment-N, #cNNN, ?showComment=)."""
    parts = urlsplit(url)
    return bool(_COMMENT_FRAGMENT.match(parts.fragment)) or "showcomment=" in parts.query.lower()


def is_pingback(text: str, title: str | None, author: str | None) -> bool:
    """A pingback or trackback: a link from another site, not a comment someone wrote."""
    if _PINGBACK_TEXT.match(text):
        return True
    return any(value and _PINGBACK_PREFIX.match(value) for value in (title, author, text))
