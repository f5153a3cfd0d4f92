"""The web scaffold in a real browser: the system Chromium, headless, against a live server.

Whether a script ran is decided by what only a running script can do (a dialog, a console
message, an uncaught error, a policy violation report), never by searching the HTML.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import LiveServer, Seen, attribute_names, link_schemes, poke
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from webdemo import Demo, running_demo
from xss import CORPUS, HOSTILE_TEXT

from engage.safe_html import sanitize
from engage.web.security import CONTENT_SECURITY_POLICY


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("override")) as demo:
        yield demo


def test_a_page_loads_with_the_policy_and_no_console_error(
    page: Page, seen: Seen, demo: Demo
) -> None:
    response = page.goto(demo.at("/"), wait_until="networkidle")

    assert response is not None and response.status == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert seen.console == [] and seen.script_errors == [] and seen.dialogs == []
    assert seen.blocked_requests == []
    # The stylesheet and the script came from this server and are in effect.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font
    assert page.locator("#copy").is_visible()  # engage.js shows the copy button
    assert page.locator('nav a[aria-current="page"]').inner_text() == "People"
    # A hostile name is text on the page, not markup.
    assert page.get_by_text(HOSTILE_TEXT).count() == 2


def test_the_policy_is_enforced_on_inline_script_and_style(
    page: Page, seen: Seen, demo: Demo
) -> None:
    page.goto(demo.at("/probe"), wait_until="networkidle")

    assert page.title() != "inline script ran"
    color = page.evaluate("getComputedStyle(document.getElementById('styled')).color")
    assert color != "rgb(255, 0, 0)"
    assert len(seen.csp_violations) >= 2, seen.console  # the script and the style


def test_the_chart_shows_the_score_its_thresholds_and_the_events(page: Page, demo: Demo) -> None:
    page.goto(demo.at("/chart"))

    chart = page.locator("svg.score-chart")
    assert chart.is_visible()
    ready = chart.locator(".threshold.ready line")
    leave = chart.locator(".threshold.leave-ready line")
    assert ready.count() == 1 and leave.count() == 1
    assert chart.locator(".threshold.ready text").text_content() == "ready 12"
    ready_box, leave_box = ready.bounding_box(), leave.bounding_box()
    chart_box = chart.bounding_box()
    assert ready_box and leave_box and chart_box
    assert ready_box["width"] > chart_box["width"] / 2  # drawn across the plot
    assert ready_box["y"] < leave_box["y"]  # the higher threshold is higher up
    assert chart.locator(".score-line").count() == 1
    assert chart.locator(".events .event").count() == 3
    assert chart.locator("title").first.text_content() == "Score over the last 180 days"


def test_our_own_form_is_accepted(page: Page, seen: Seen, demo: Demo) -> None:
    """Under Referrer-Policy: no-referrer Chromium sends `Origin: null` with our own form:
    the server must still take it."""
    page.goto(demo.at("/"))
    page.fill("#note", "replied to their post about feeds")
    before = len(demo.state.logged)

    with page.expect_navigation():
        page.click("#log")

    assert page.locator("#logged").is_visible()
    assert len(demo.state.logged) == before + 1
    assert demo.state.logged[-1] == {"note": "replied to their post about feeds"}
    assert seen.console_errors == []


def test_record_anyway_asks_before_sending(page: Page, seen: Seen, demo: Demo) -> None:
    page.goto(demo.at("/"))
    before = len(demo.state.logged)

    page.click("#anyway")  # the confirm is dismissed: nothing is sent
    page.wait_for_timeout(300)  # time for a navigation that must not happen
    assert seen.dialogs == ["confirm: This would be a cold invitation. Record it anyway?"]
    assert len(demo.state.logged) == before
    assert "logged" not in page.url

    seen.accept_dialogs = True
    with page.expect_navigation():
        page.click("#anyway")
    assert len(demo.state.logged) == before + 1
    assert demo.state.logged[-1]["anyway"] == "1"


def test_the_copy_button_copies_the_drafted_note(page: Page, demo: Demo) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.at(""))
    page.goto(demo.at("/"))

    page.click("#copy")

    page.wait_for_selector("#copy[data-copied=true]")
    assert page.evaluate("navigator.clipboard.readText()") == (
        "Hi Lee, would you introduce me to Ada?"
    )
    assert page.locator(".copy-status").inner_text() == "Copied"


@pytest.mark.parametrize(
    ("attacker_host", "referrer_meta"),
    [
        ("127.0.0.1", ""),  # same site (cookies ignore ports): only the Origin check stops it
        ("127.0.0.1", '<meta name="referrer" content="no-referrer">'),  # Origin: null
        ("localhost", ""),  # another site: the SameSite cookie stays home too
    ],
    ids=["same-host-other-port", "same-host-no-referrer", "other-site"],
)
def test_a_form_on_another_site_is_refused(
    page: Page, demo: Demo, attacker_host: str, referrer_meta: str
) -> None:
    """A hostile page posts to the report with a token it somehow learned."""
    page.goto(demo.at("/"))
    token = page.locator('input[name="csrf_token"]').input_value()
    target = demo.at("/log")

    async def hostile(request: Request) -> HTMLResponse:
        return HTMLResponse(
            f"<!doctype html><html><head>{referrer_meta}</head><body>"
            f'<form method="post" action="{target}">'
            f'<input type="hidden" name="csrf_token" value="{token}">'
            '<input type="hidden" name="note" value="forged">'
            '<button id="go">Win a prize</button></form></body></html>'
        )

    before = len(demo.state.logged)
    with LiveServer(lambda port: Starlette(routes=[Route("/", hostile)])) as attacker:
        page.goto(f"http://{attacker_host}:{attacker.port}/")
        with page.expect_navigation() as navigation:
            page.click("#go")

    response = navigation.value
    assert response is not None and response.status == 403
    assert len(demo.state.logged) == before
    assert page.get_by_text("Reload the page and try again").is_visible()


def test_sanitized_feed_content_runs_no_script(page: Page, seen: Seen, demo: Demo) -> None:
    """The corpus through the `sanitize` filter, under the policy. A leftover handler or
    `javascript:` link would either run (a dialog) or be blocked (a violation report):
    both are failures, so the sanitizer alone must have removed everything."""
    page.goto(demo.at("/content"), wait_until="networkidle")
    assert poke(page, "article.feed-content, article.feed-content *") > len(CORPUS)
    page.wait_for_timeout(300)  # time for a late timer or navigation

    assert seen.ran_script() == []
    assert set(link_schemes(page, "article.feed-content")) <= {"http:", "https:"}
    assert attribute_names(page, "article.feed-content") <= {"href", "title", "rel"}
    assert page.title() == "Posts · engage"
    assert page.get_by_role("heading", name=HOSTILE_TEXT).count() == len(CORPUS) + 1


@pytest.fixture(scope="module")
def no_policy() -> Iterator[LiveServer]:
    """The corpus served with no security headers at all, raw and sanitized."""

    def page_of(fragments: list[str]) -> HTMLResponse:
        items = "".join(f"<div class=item>{fragment}</div>" for fragment in fragments)
        return HTMLResponse(f"<!doctype html><html><body>{items}</body></html>")

    async def raw(request: Request) -> HTMLResponse:
        return page_of(list(CORPUS))

    async def sanitized(request: Request) -> HTMLResponse:
        return page_of([sanitize(fragment) for fragment in CORPUS])

    routes = [Route("/raw", raw), Route("/sanitized", sanitized)]
    with LiveServer(lambda port: Starlette(routes=routes)) as server:
        yield server


def test_sanitized_content_runs_no_script_even_without_the_policy(
    page: Page, seen: Seen, no_policy: LiveServer
) -> None:
    """The sanitizer on its own: the page has no Content-Security-Policy."""
    response = page.goto(no_policy.at("/sanitized"), wait_until="networkidle")
    assert response is not None and "content-security-policy" not in response.headers
    poke(page, "div.item, div.item *")
    page.wait_for_timeout(300)

    assert seen.ran_script() == []
    assert set(link_schemes(page, "div.item")) <= {"http:", "https:"}


def test_the_raw_corpus_does_run_script_without_the_policy(
    page: Page, seen: Seen, no_policy: LiveServer
) -> None:
    """The control: the listeners see the corpus run when nothing stops it."""
    page.goto(no_policy.at("/raw"), wait_until="networkidle")
    poke(page, "div.item, div.item *")
    page.wait_for_timeout(300)

    alerts = " ".join(seen.dialogs)
    for loads_alone in ("xss-1", "xss-2", "xss-3"):
        assert loads_alone in alerts
    for needs_a_click in ("xss-7", "xss-8", "xss-9"):
        assert needs_a_click in alerts
    assert any("xss-33" in text for text in seen.console_errors)


def test_the_policy_alone_stops_unsanitized_content(page: Page, seen: Seen, demo: Demo) -> None:
    """Defence in depth: a template that forgot to sanitize still runs nothing, and the
    browser reports what it blocked."""
    page.goto(demo.at("/raw"), wait_until="networkidle")
    poke(page, "article.feed-content, article.feed-content *")
    page.wait_for_timeout(300)

    assert seen.dialogs == []
    assert seen.script_errors == []
    assert seen.csp_violations != []
    assert not any("xss-33" in text and "Content Security" not in text for text in seen.console)
