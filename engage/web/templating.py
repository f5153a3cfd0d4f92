"""Where the report's templates and static files come from, and how a page is rendered.

One list of folders, searched in order: the user's override folder first, then the one
shipped with the package (what `engage.templating.template_folders` lists; the facade
hands it over, since a surface does not read the disk itself). Templates live under
`web/` in those folders and static files under `web/static/`, so a user can restyle the
report by dropping an `engage.css` into their own `templates/web/static/`, the same way
they override a template, and an installed package carries its assets with its templates.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from engage import safe_html
from engage.urls import web_link
from engage.web import chart
from engage.web.security import CSRF_FIELD, csrf_token

STATIC_FOLDER = ("web", "static")
# A flat namespace of plain names: no path can reach outside the static folders.
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(css|js|svg|png|ico|woff2)$")
MEDIA_TYPES = {
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "ico": "image/x-icon",
    "woff2": "font/woff2",
}
NAV = (("people", "/", "People"), ("feeds", "/feeds", "Feeds"), ("digests", "/digests", "Digests"))


def template_environment(folders: Sequence[Path]) -> jinja2.Environment:
    """Jinja for HTML pages: autoescaped, and loud about a missing variable (a template
    typo must fail a test, not render an empty cell)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sanitize"] = _sanitize_filter
    env.filters["plain_text"] = safe_html.plain_text
    env.filters["web"] = web_link  # the digest's name for it too
    env.filters["score"] = _score
    env.filters["moment"] = _moment
    env.filters["day"] = _day
    env.globals["nav"] = NAV
    env.globals["csrf_field"] = CSRF_FIELD
    env.globals["meter_bar"] = _meter_bar
    env.globals["score_chart"] = _score_chart
    return env


def static_file(folders: Sequence[Path], name: str) -> tuple[Path, str] | None:
    """The file served as `/static/<name>` and its media type, from the first folder that
    has it; None for a name that is not a plain static file name or is nowhere."""
    match = STATIC_NAME.match(name)
    if match is None or ".." in name:
        return None
    for folder in folders:
        path = folder.joinpath(*STATIC_FOLDER, name)
        if path.is_file():
            return path, MEDIA_TYPES[match.group(1)]
    return None


class Pages:
    """Renders the report's pages with what every page needs (the CSRF token, the active
    tab), and its error pages."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)
        self.env = template_environment(self.folders)

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        active: str = "",
    ) -> HTMLResponse:
        values = {"csrf_token": csrf_token(request), "active": active, **(context or {})}
        html = self.env.get_template(name).render(values)
        return HTMLResponse(html, status_code=status_code)

    def error_html(self, status: int, message: str) -> str:
        """The error page, without a request: it is also used for refusals that happen
        before the app sees the request (a foreign Host, a missing CSRF token)."""
        template = self.env.get_template("web/error.html")
        return template.render(status=status, message=message, active="")


def _sanitize_filter(fragment: str | None, base: str | None = None) -> Markup:
    return Markup(safe_html.sanitize(fragment or "", base=base))


def _meter_bar(score: float, ready: float) -> Markup:
    return Markup(chart.meter_bar(score, ready))


def _score_chart(history: Sequence[tuple[str, float]], **options: Any) -> Markup:
    return Markup(chart.score_chart(history, **options))


def _score(value: float) -> str:
    return f"{value:.1f}"


def moment_words(then: datetime, now: datetime) -> str:
    """How long ago (or how soon) `then` is, as a person says it: "just now", "25 min
    ago", "in 3 hours", "yesterday", "12 days ago", "in 2 days"."""
    seconds = (then - now).total_seconds()
    future = seconds > 0
    size = abs(seconds)
    if size < 60:
        return "just now"
    if size < 3600:
        words = f"{int(size // 60)} min"
    elif size < 86400:
        hours = int(size // 3600)
        words = f"{hours} hour{'s' if hours != 1 else ''}"
    else:
        days = (then.astimezone(now.tzinfo).date() - now.date()).days
        if days == 1:
            return "tomorrow"
        if days == -1:
            return "yesterday"
        words = f"{abs(days)} days"
    return f"in {words}" if future else f"{words} ago"


@jinja2.pass_context
def _moment(context: Mapping[str, Any], then: datetime | None, never: str = "never") -> Markup:
    """A `<time>` saying how long ago `then` was, relative to the page's `now`, with the
    date and time in the page's zone as its tooltip."""
    if then is None:
        return Markup(html.escape(never))
    now: datetime = context["now"]
    local = then.astimezone(now.tzinfo)
    return Markup(
        f'<time datetime="{html.escape(then.isoformat())}" '
        f'title="{local:%Y-%m-%d %H:%M}">{html.escape(moment_words(then, now))}</time>'
    )


@jinja2.pass_context
def _day(context: Mapping[str, Any], then: datetime | None) -> str:
    """The date of `then` in the page's zone."""
    if then is None:
        return ""
    now: datetime = context["now"]
    return f"{then.astimezone(now.tzinfo):%Y-%m-%d}"
