"""The digest as a page and as text, from the day's agenda and the templates in
`templates/digest/` (a user's own templates of the same name win).

Feed text is untrusted: titles, names and excerpts are escaped by the HTML template's
autoescape, excerpts are plain text (the stored summary's tags are dropped), and a link
survives only as an absolute http(s) URL (`urls.web_link`), so neither a `javascript:`
link, however it was encoded, nor a tag from a feed reaches the page or the e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engage.agenda import Agenda, FollowUp, follow_up_words
from engage.poll.fields import html_text
from engage.urls import web_link

if TYPE_CHECKING:
    import jinja2

EXCERPT_CHARS = 220


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


def render_digest(
    agenda: Agenda, *, html_env: jinja2.Environment, text_env: jinja2.Environment
) -> RenderedDigest:
    """Both parts of the digest. The environments come from the application (the user's
    template folder first); the HTML one autoescapes."""
    day_long = f"{agenda.day:%A} {agenda.day.day} {agenda.day:%B %Y}"
    subject = f"engage · {agenda.day:%a} {agenda.day.day} {agenda.day:%b}: {agenda.headline()}"
    context = {
        "agenda": agenda,
        "subject": subject,
        "day_long": day_long,
        "headline": agenda.headline(),
        "since_text": _moment(agenda.since, agenda.now),
        "at_text": f"{agenda.now:%H:%M}",
        "follow_up": lambda item: _follow_up(item, agenda.now),
    }
    parts = []
    for env, name in ((html_env, "digest/digest.html.j2"), (text_env, "digest/digest.txt.j2")):
        env.filters["web"] = web_link
        env.filters["excerpt"] = excerpt
        env.filters["day"] = lambda value: _moment(value, agenda.now, with_time=False)
        parts.append(env.get_template(name).render(**context))
    return RenderedDigest(subject, parts[0], parts[1])


def excerpt(summary: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a stored (sanitized) summary as plain text, cut at a word."""
    text = html_text(summary) if summary else ""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def _follow_up(item: FollowUp, now: datetime) -> str:
    return follow_up_words(item, now)


def _moment(value: datetime, now: datetime, *, with_time: bool = True) -> str:
    local = value.astimezone(now.tzinfo)
    text = f"{local:%a} {local.day} {local:%b}"
    if local.year != now.year:
        text += f" {local.year}"
    return f"{text} {local:%H:%M}" if with_time else text
