"""A small report built from the web scaffold alone, for the security and browser tests.

Its pages live in a test's override folder, searched before the shipped templates, the
way a user's `templates/` folder is: they extend the shipped `web/base.html` and use the
shipped stylesheet and script. Nothing here reads a store: the pages show fixed values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from browser import LiveServer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp
from xss import CORPUS, HOSTILE_TEXT

from engage.errors import EngageError
from engage.web.security import posted_form
from engage.web.server import create_app
from engage.web.templating import Pages

SHIPPED_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
TODAY = date(2026, 5, 1)
SECRET = b"a fixed secret, so a test can compute a valid token"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')

PAGES = {
    "people.html": """{% extends "web/base.html" %}
{% block title %}People{% endblock %}
{% block main %}
<h1>People</h1>
{% if logged %}<p class="notice success" id="logged">Logged: {{ logged }}</p>{% endif %}
<table class="responsive">
<thead><tr><th>Person</th><th>Stage</th><th>Score</th><th>Why</th></tr></thead>
<tbody>
{% for row in people %}
<tr><td data-label="Person"><a href="/chart">{{ row.name }}</a></td>
<td data-label="Stage"><span class="stage stage-{{ row.stage }}">{{ row.stage }}</span></td>
<td data-label="Score"><div class="meter-cell">{{ meter_bar(row.score, 12) }}
<span class="meter-value">{{ row.score | score }}</span></div></td>
<td data-label="Why">{{ row.reason }}</td></tr>
{% endfor %}
</tbody></table>
<h2>Log an interaction</h2>
<form class="card stack" method="post" action="/log" id="log-form">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">
<div class="field"><label for="note">Note</label>
<input type="text" id="note" name="note" value="commented on the post"></div>
<button type="submit" id="log">Log it</button>
<button type="submit" class="secondary" id="anyway" name="anyway" value="1"
 data-confirm="This would be a cold invitation. Record it anyway?">Record anyway</button>
</form>
<h2>Drafted note</h2>
<div class="draft card"><pre id="intro-note">Hi Lee, would you introduce me to Ada?</pre>
<button type="button" class="secondary" id="copy" data-copy-target="intro-note" hidden>
Copy the note</button></div>
{% endblock %}
""",
    "chart.html": """{% extends "web/base.html" %}
{% block title %}Ada Lanternfield{% endblock %}
{% block main %}
<h1>Ada Lanternfield</h1>
<figure class="card chart">{{ score_chart(history, today=today, ready=12, leave_ready=10,
  events=events) }}</figure>
{% endblock %}
""",
    "content.html": """{% extends "web/base.html" %}
{% block title %}Posts{% endblock %}
{% block main %}
<h1>{{ title }}</h1>
{% for fragment in corpus %}
<article class="card feed-content" data-index="{{ loop.index }}">
<h2>{{ title }}</h2>{{ fragment | sanitize("https://ada.example.org/blog/") }}
<p>{% if fragment | web %}<a href="{{ fragment | web }}">evidence</a>{% endif %}
{{ fragment | plain_text }}</p></article>
{% endfor %}
{% endblock %}
""",
    "raw.html": """{% extends "web/base.html" %}
{% block main %}
{% for fragment in corpus %}<article class="card feed-content">{{ fragment | safe }}</article>
{% endfor %}
{% endblock %}
""",
    "probe.html": """{% extends "web/base.html" %}
{% block main %}
<p id="styled" style="color: rgb(255, 0, 0)">styled inline</p>
<script>document.title = "inline script ran";</script>
{% endblock %}
""",
}


@dataclass
class DemoState:
    """What the demo's POST endpoint received."""

    logged: list[dict[str, str]] = field(default_factory=list)


def write_pages(folder: Path) -> Path:
    """The demo's templates in `folder/web/`, as a user's override folder holds them."""
    (folder / "web").mkdir(parents=True, exist_ok=True)
    for name, text in PAGES.items():
        (folder / "web" / name).write_text(text, encoding="utf-8")
    return folder


def history() -> list[tuple[str, float]]:
    """A rise to ready and a slow decay, with a gap of a few days."""
    days = []
    for back in range(180):
        day = TODAY - timedelta(days=back)
        if 40 <= back < 44:
            continue
        days.append((day.isoformat(), max(0.0, 16 - abs(back - 30) * 0.15)))
    return days[::-1]


def events() -> list[tuple[datetime, str, str]]:
    at = datetime(2026, 4, 1, 12, tzinfo=UTC)
    return [
        (at, "my_comment", "out"),
        (at + timedelta(days=3), "their_reply", "in"),
        (at + timedelta(days=10), "met_in_person", "both"),
    ]


def demo_app(port: int, override: Path, state: DemoState) -> ASGIApp:
    pages = Pages([override, SHIPPED_TEMPLATES])

    async def people(request: Request) -> Response:
        rows = [
            {"name": "Ada Lanternfield", "stage": "ready", "score": 17.0, "reason": "Ready."},
            {"name": HOSTILE_TEXT, "stage": "noticed", "score": 1.9, "reason": HOSTILE_TEXT},
        ]
        context = {"people": rows, "logged": request.query_params.get("logged", "")}
        return pages.render(request, "web/people.html", context, active="people")

    async def log(request: Request) -> Response:
        form = dict(posted_form(request))
        state.logged.append(form)
        return RedirectResponse(f"/?logged={len(state.logged)}", status_code=303)

    async def chart_page(request: Request) -> Response:
        context = {"history": history(), "today": TODAY, "events": events()}
        return pages.render(request, "web/chart.html", context, active="people")

    async def content(request: Request) -> Response:
        context = {"corpus": CORPUS, "title": HOSTILE_TEXT}
        return pages.render(request, "web/content.html", context)

    async def raw(request: Request) -> Response:
        # What a template that forgot to sanitize would send: only the policy stands
        # between this page and the corpus.
        return pages.render(request, "web/raw.html", {"corpus": CORPUS})

    async def probe(request: Request) -> Response:
        return pages.render(request, "web/probe.html")

    async def mistake(request: Request) -> Response:
        raise EngageError("no one called <Zed> in feeds.yaml (did you mean 'Ada Lanternfield'?)")

    async def boom(request: Request) -> Response:
        raise RuntimeError("internal detail 7f3a that must not reach the page")

    routes = [
        Route("/", people),
        Route("/log", log, methods=["POST"]),
        Route("/chart", chart_page),
        Route("/content", content),
        Route("/raw", raw),
        Route("/probe", probe),
        Route("/mistake", mistake),
        Route("/boom", boom),
    ]
    return create_app(routes, pages=pages, port=port, secret=SECRET)


class Demo:
    """The demo report, served; what it received; its override folder."""

    def __init__(self, server: LiveServer, state: DemoState, folder: Path) -> None:
        self.server = server
        self.state = state
        self.folder = folder

    def at(self, path: str) -> str:
        return self.server.at(path)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, follow_redirects=False, timeout=30)

    def visit(self) -> tuple[str, str]:
        """(the cookie header a browser would send back, the page's form token)."""
        with self.client() as client:
            response = client.get("/")
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].split(";")[0]
        match = TOKEN.search(response.text)
        assert match is not None
        return cookie, match.group(1)


@contextmanager
def running_demo(folder: Path) -> Iterator[Demo]:
    write_pages(folder)
    state = DemoState()
    with LiveServer(lambda port: demo_app(port, folder, state)) as server:
        yield Demo(server, state, folder)
