"""The report's pages and JSON endpoints, over one `Engage`.

`create_report(app, port)` is the whole ASGI app for a server on 127.0.0.1:`port`: these
routes inside `server.create_app` (static files, friendly error pages, `LocalOnly`).

- Pages: People `/`, a person `/people/<slug>`, Feeds `/feeds`, Digests `/digests` and
  one digest `/digests/<YYYY-MM-DD>`.
- Forms (POST; `LocalOnly` has checked the Origin and the CSRF token): log an interaction,
  "I commented on this", undo an event, apply a feed's move. Each answers 303 back to the
  page it came from, with `?flash=<id>` naming what happened (kept on the server).
- JSON with the CLI's shapes (engage.views): `/api/people`, `/api/people/<slug>`,
  `/api/feeds`, `/api/events`.

The facade's work (and the rendering) runs in a worker thread, so the event loop, which
may be the daemon's, stays free while a page is built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from engage.app import stage_words
from engage.errors import EngageError
from engage.models import Stage
from engage.safe_html import sanitize_page
from engage.web.report import Flash, Report, kind_label
from engage.web.security import posted_form
from engage.web.server import create_app
from engage.web.templating import Pages

if TYPE_CHECKING:
    from engage.app import Engage

T = TypeVar("T")
STAGES = frozenset(stage.value for stage in Stage)


def create_report(app: Engage, port: int, *, secret: bytes | None = None) -> ASGIApp:
    """The report of `app`'s watchlist and data folder, for a server on 127.0.0.1:`port`."""
    pages = Pages(app.template_folders())
    pages.env.globals.update(kind_label=kind_label, stage_words=stage_words)
    report = Report(app)
    routes = Routes(report, pages)
    return create_app(routes.table(), pages=pages, port=port, secret=secret)


class Routes:
    def __init__(self, report: Report, pages: Pages) -> None:
        self.report = report
        self.pages = pages

    def table(self) -> list[Route]:
        return [
            Route("/", self.people, methods=["GET", "HEAD"]),
            Route("/people/{slug}", self.person, methods=["GET", "HEAD"]),
            Route("/people/{slug}/log", self.log, methods=["POST"]),
            Route("/people/{slug}/commented", self.commented, methods=["POST"]),
            Route("/events/undo", self.undo, methods=["POST"]),
            Route("/feeds", self.feeds, methods=["GET", "HEAD"]),
            Route("/feeds/move", self.move, methods=["POST"]),
            Route("/digests", self.digests, methods=["GET", "HEAD"]),
            Route("/digests/{day}", self.digest, methods=["GET", "HEAD"]),
            Route("/api/people", self.api_people, methods=["GET", "HEAD"]),
            Route("/api/people/{slug}", self.api_person, methods=["GET", "HEAD"]),
            Route("/api/feeds", self.api_feeds, methods=["GET", "HEAD"]),
            Route("/api/events", self.api_events, methods=["GET", "HEAD"]),
        ]

    async def _page(
        self,
        request: Request,
        template: str,
        build: Callable[[], dict[str, Any] | None],
        *,
        active: str,
    ) -> Response:
        def render() -> Response:
            context = build()
            if context is None:
                raise HTTPException(404)
            context["flash"] = self.report.flashes.get(request.query_params.get("flash"))
            return self.pages.render(request, template, context, active=active)

        return await run_in_threadpool(render)

    # -- pages

    async def people(self, request: Request) -> Response:
        stage = request.query_params.get("stage", "")
        stage = stage if stage in STAGES else ""
        query = request.query_params.get("q", "").strip()[:200]
        return await self._page(
            request,
            "web/people.html",
            lambda: self.report.people(stage=stage, query=query),
            active="people",
        )

    async def person(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        everything = request.query_params.get("all") == "1"
        return await self._page(
            request,
            "web/person.html",
            lambda: self.report.person(slug, everything=everything),
            active="people",
        )

    async def feeds(self, request: Request) -> Response:
        return await self._page(request, "web/feeds.html", self.report.feeds, active="feeds")

    async def digests(self, request: Request) -> Response:
        return await self._page(
            request, "web/digests.html", self.report.digests, active="digests"
        )

    async def digest(self, request: Request) -> Response:
        day = _day(request.path_params["day"])

        def build() -> dict[str, Any] | None:
            page = self.report.digest(day)
            if page is None:
                return None
            # Our own page, but built from feed data: shown through the same allowlist as
            # everything else, inside the report's own page, under the same policy (its
            # inline styles would be refused by it anyway).
            return {"day": day, "content": Markup(sanitize_page(page))}

        return await self._page(request, "web/digest.html", build, active="digests")

    # -- forms: each answers 303 back

    async def log(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        form = dict(posted_form(request))
        flash = await self._write(lambda: self.report.log(slug, form))
        return self._redirect(f"/people/{quote(slug)}", flash, "flash")

    async def commented(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        url = posted_form(request).get("url", "")
        flash = await self._write(lambda: self.report.commented(slug, url))
        return self._redirect(f"/people/{quote(slug)}", flash, "flash")

    async def undo(self, request: Request) -> Response:
        form = posted_form(request)
        event_id = form.get("id", "")
        back = form.get("back", "")
        person, flash = await self._write(lambda: self.report.undo(event_id))
        slug = await run_in_threadpool(self.report.slug_of, person) if person else None
        if slug is None and back:
            slug = back
        if slug is None:
            return self._redirect("/", flash)
        return self._redirect(f"/people/{quote(slug)}", flash, "flash")

    async def move(self, request: Request) -> Response:
        url = posted_form(request).get("url", "")
        flash = await self._write(lambda: self.report.move(url))
        return self._redirect("/feeds", flash)

    async def _write(self, action: Callable[[], T]) -> T:
        try:
            return await run_in_threadpool(action)
        except LookupError:
            raise HTTPException(404) from None

    def _redirect(self, path: str, flash: Flash, anchor: str = "") -> Response:
        key = self.report.flashes.add(flash)
        target = f"{path}?flash={key}" + (f"#{anchor}" if anchor else "")
        return RedirectResponse(target, status_code=303)

    # -- JSON

    async def api_people(self, request: Request) -> Response:
        at = request.query_params.get("at") or None
        return await _json(lambda: self.report.api_people(at))

    async def api_person(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        at = request.query_params.get("at") or None
        return await _json(lambda: self.report.api_person(slug, at))

    async def api_feeds(self, request: Request) -> Response:
        return await _json(self.report.api_feeds)

    async def api_events(self, request: Request) -> Response:
        params = request.query_params
        return await _json(
            lambda: self.report.api_events(
                params.get("person") or None, params.get("kind") or None,
                params.get("since") or None,
            )
        )  # fmt: skip


async def _json(build: Callable[[], object]) -> Response:
    """A JSON answer; a user's mistake (an unknown person, a bad date) is a JSON error
    with its one line, and an unknown page a JSON 404."""
    try:
        found = await run_in_threadpool(build)
    except EngageError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if found is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse(found)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(404) from None
