"""The web report in a real browser: the system Chromium, headless, driving the real
report (`engage.web.endpoints.create_report`) on a live local server over a fixed world
(tests/reportworld.py), and the same server over plain HTTP for its refusals and its JSON.

Whether a script ran is decided by what only a running script can do (a dialog, a console
message, an uncaught error, a policy violation report), never by searching the HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Seen
from playwright.sync_api import Page
from reportworld import (
    MOVED_FROM,
    MOVED_TO,
    NOW,
    Report,
    serving,
    write_world,
)

from engage.models import EventKind
from engage.store import Store
from engage.views import event_json, explanation_json, feed_json, reading_json
from engage.web.security import CONTENT_SECURITY_POLICY, CSRF_FIELD

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ("/", "/people/ada-lanternfield", "/people/hollis-pennywhistle", "/feeds", "/digests")


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Report]:
    monkeypatch.setenv("ENGAGE_CACHE", str(tmp_path / "cache"))
    config, data = write_world(tmp_path)
    with serving(config, data) as served:
        yield served


def meter_value(page: Page) -> float:
    return float(page.locator(".person-meter .meter-value").inner_text())


def timeline_kinds(page: Page) -> list[str]:
    return page.locator("#timeline .event-item").evaluate_all(
        "items => items.map(item => item.dataset.kind)"
    )


def test_people_shows_everyone_what_needs_action_first_and_the_follow_ups(
    page: Page, seen: Seen, report: Report
) -> None:
    response = page.goto(report.at("/"), wait_until="networkidle")
    assert response is not None and response.status == 200

    names = page.locator("table.people td.person-name").all_inner_texts()
    assert names[0] == "Ada Lanternfield"  # ready: ask now
    assert set(names) == {
        "Ada Lanternfield", "Bram Quillhaven", "Cyra Moonwhistle", "Dov Teaselby",
        "Fenn Marrowby",
    }  # fmt: skip
    stages = dict(
        zip(names, page.locator("table.people tr.person-row").evaluate_all(
            "rows => rows.map(row => row.dataset.stage)"), strict=True)
    )  # fmt: skip
    assert stages["Ada Lanternfield"] == "ready"
    assert stages["Dov Teaselby"] == "cold"
    assert stages["Fenn Marrowby"] == "went_cold"
    # The meter bar: the ready tick, and Ada's bar past it.
    ada = page.locator("tr.person-row").first
    assert ada.locator("svg.meter.ready .meter-mark").count() == 1
    follow_ups = page.locator(".follow-ups li").all_inner_texts()
    assert any(t.startswith("Cyra Moonwhistle — Answer their reply") for t in follow_ups)
    assert any(t.startswith("Bram Quillhaven — Send the follow-up") for t in follow_ups)
    assert "3 days ago" in ada.locator(".last-contact").inner_text()
    assert seen.console == [] and seen.script_errors == []


def test_people_filters_by_stage_and_finds_by_name_or_alias(page: Page, report: Report) -> None:
    page.goto(report.at("/"))
    page.select_option("#stage", "went_cold")
    with page.expect_navigation():
        page.click(".filters button")
    assert page.locator("td.person-name").all_inner_texts() == ["Fenn Marrowby"]

    page.goto(report.at("/?q=ADA"))  # an alias, in another case
    assert page.locator("td.person-name").all_inner_texts() == ["Ada Lanternfield"]
    page.goto(report.at("/?q=nobody+at+all"))
    assert page.get_by_text("Nobody matches").is_visible()


def test_log_an_interaction_see_it_and_the_meter_move_then_undo_it(
    page: Page, seen: Seen, report: Report
) -> None:
    page.goto(report.at("/"))
    with page.expect_navigation():
        page.click("text=Bram Quillhaven")
    assert page.locator("h1").inner_text() == "Bram Quillhaven"
    before = meter_value(page)
    assert timeline_kinds(page) == ["met_in_person"]

    page.select_option("#log-kind", "their_email_or_dm")
    page.fill("#log-note", "thanks for the intro to the meetup crowd")
    with page.expect_navigation():
        page.click("#log-submit")

    assert "Logged their e-mail or message with Bram Quillhaven." in page.locator(
        "#flash"
    ).inner_text()
    assert timeline_kinds(page) == ["their_email_or_dm", "met_in_person"]
    assert "thanks for the intro" in page.locator("#timeline .event-item").first.inner_text()
    after = meter_value(page)
    assert after == pytest.approx(before + 6.0, abs=0.05)  # 6 points, logged now
    stored = [e for e in Store(report.data).events() if e.person == "Bram Quillhaven"]
    assert {e.kind for e in stored} == {EventKind.MET_IN_PERSON, EventKind.THEIR_EMAIL_OR_DM}

    with page.expect_navigation():
        page.locator("#timeline .event-item").first.locator("button.undo").click()
    assert timeline_kinds(page) == ["met_in_person"]
    assert meter_value(page) == pytest.approx(before)
    assert seen.console == [] and seen.script_errors == [] and seen.dialogs == []


def test_the_ask_guard_explains_and_records_only_when_told_to(
    page: Page, seen: Seen, report: Report
) -> None:
    page.goto(report.at("/people/dov-teaselby"))
    page.select_option("#log-kind", "my_ask")
    page.fill("#log-note", "asked over e-mail")
    with page.expect_navigation():
        page.click("#log-submit")

    guard = page.locator("#ask-guard")
    assert guard.is_visible()
    assert "cold invitation" in page.locator("#flash").inner_text()
    warning = guard.locator(".ask-warning").inner_text()
    assert warning == report.app.ask("Dov Teaselby").warning  # the facade's words
    assert timeline_kinds(page) == []  # nothing recorded

    page.click("#record-anyway")  # the confirm is dismissed: nothing is sent
    page.wait_for_timeout(300)
    assert seen.dialogs == ["confirm: This would be a cold invitation. Record the ask anyway?"]
    assert timeline_kinds(page) == []

    seen.accept_dialogs = True
    with page.expect_navigation():
        page.click("#record-anyway")
    assert timeline_kinds(page) == ["my_ask"]
    assert "asked over e-mail" in page.locator("#timeline .event-item").first.inner_text()
    assert page.locator(".person-head .stage").inner_text() == "asked"


def test_one_click_i_commented_on_this(page: Page, report: Report) -> None:
    page.goto(report.at("/people/ada-lanternfield"))
    post = page.locator("li.post", has_text="Why a feed is a promise")
    assert post.locator("text=post ·").count() == 1
    episode = page.locator("li.post", has_text="Episode 12")
    assert episode.inner_text().count("episode ·") == 1  # a podcast's post is an episode
    # My comment on the blogroll post is in the timeline already.
    blogroll = page.locator("li.post", has_text="What a blogroll is for")
    assert blogroll.locator(".commented").is_visible()

    with page.expect_navigation():
        post.locator("button.commented-button").click()

    assert timeline_kinds(page)[0] == "my_comment"
    first = page.locator("#timeline .event-item").first
    assert first.locator("a").get_attribute("href") == "https://ada.example.org/promise/"
    assert page.locator("li.post", has_text="Why a feed is a promise").locator(
        ".commented"
    ).is_visible()


def test_the_person_page_shows_the_reading_the_chart_and_an_intro_note(
    page: Page, seen: Seen, report: Report
) -> None:
    page.goto(report.at("/people/ada-lanternfield"), wait_until="networkidle")
    gates = page.locator(".gates li.gate")
    assert gates.count() == 5
    assert page.locator(".gates li.failed").count() == 0  # ready: every gate passes
    assert "Reciprocity" in gates.first.inner_text()
    chart = page.locator("svg.score-chart")
    assert chart.is_visible()
    assert chart.locator(".threshold.ready line").count() == 1
    assert chart.locator(".threshold.ready text").text_content() == "ready 12"
    assert chart.locator(".threshold.leave-ready line").count() == 1
    assert chart.locator(".events .event").count() == 6
    assert page.locator("#feeds tbody tr").count() == 2

    page.goto(report.at("/people/cyra-moonwhistle"))
    assert page.locator(".paths li.path").first.inner_text().startswith("Hollis Pennywhistle")
    note = page.locator("#intro-note").inner_text()
    assert "Hollis" in note and "Cyra" in note
    assert page.locator("#copy-intro").is_visible()  # engage.js showed the copy button
    assert seen.console == [] and seen.script_errors == []


def test_a_moved_feeds_button_applies_that_move(page: Page, report: Report) -> None:
    page.goto(report.at("/feeds"))
    row = page.locator("tr.feed-row", has_text=MOVED_FROM)
    assert row.locator(".moved-to").inner_text() == MOVED_TO
    assert page.locator("tr.feed-row.attention").count() == 2  # the move and the failure

    with page.expect_navigation():
        row.locator("button.apply-move").click()

    assert f"feeds.yaml now follows {MOVED_TO}" in page.locator("#flash").inner_text()
    text = report.config.read_text(encoding="utf-8")
    assert MOVED_TO in text and MOVED_FROM not in text
    urls = {s.url for s in Store(report.data).feeds()}
    assert MOVED_TO in urls and MOVED_FROM not in urls
    assert page.locator("button.apply-move").count() == 0


@pytest.mark.parametrize("path", [*PAGES, "/people/nobody", "/digests/2026-03-09"])
def test_every_page_loads_under_the_policy_without_a_console_error(
    page: Page, seen: Seen, report: Report, path: str
) -> None:
    report.app.build_digest("2026-03-09")
    response = page.goto(report.at(path), wait_until="networkidle")
    assert response is not None
    missing = "nobody" in path
    assert response.status == (404 if missing else 200)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    # Chromium reports a page that answers 404 on the console, and nothing else may be.
    said = ["error: Failed to load resource: the server responded with a status of 404 "
            "(Not Found)"] if missing else []  # fmt: skip
    assert seen.console == said and seen.script_errors == [] and seen.dialogs == []
    assert seen.blocked_requests == []
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in font  # the stylesheet came from this server


def test_a_digest_is_shown_from_the_archive(page: Page, seen: Seen, report: Report) -> None:
    report.app.build_digest("2026-03-09")
    page.goto(report.at("/digests"))
    with page.expect_navigation():
        page.click("text=Monday 9 March 2026")
    digest = page.locator("#digest")
    assert "Ready to ask" in digest.inner_text()
    assert "Ada Lanternfield" in digest.inner_text()
    # Its inline styles are gone (the policy would refuse them), so nothing was refused.
    assert page.locator("#digest [style]").count() == 0
    assert seen.csp_violations == []


def test_screenshots_of_people_and_a_person_for_the_readme(page: Page, report: Report) -> None:
    """docs/report-people.png and docs/report-person.png, from the fixed world: the
    README shows them, and the test suite's browser keeps them true to the templates."""
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(report.at("/"), wait_until="networkidle")
    page.screenshot(path=str(DOCS / "report-people.png"), full_page=True)
    page.goto(report.at("/people/ada-lanternfield"), wait_until="networkidle")
    page.screenshot(path=str(DOCS / "report-person.png"), full_page=True)
    for name in ("report-people.png", "report-person.png"):
        assert (DOCS / name).stat().st_size > 20_000


# -- over plain HTTP: the refusals and the JSON


def test_a_post_without_the_token_is_refused(report: Report) -> None:
    cookie, _token = report.visit("/people/bram-quillhaven")
    with report.client() as client:
        response = client.post(
            "/people/bram-quillhaven/log",
            data={"kind": "call", "note": "forged"},
            headers={"cookie": cookie, "origin": report.server.url},
        )
    assert response.status_code == 403
    assert len(Store(report.data).events()) == 11


def test_a_post_from_another_origin_is_refused(report: Report) -> None:
    cookie, token = report.visit("/people/bram-quillhaven")
    with report.client() as client:
        response = client.post(
            "/people/bram-quillhaven/log",
            data={CSRF_FIELD: token, "kind": "call", "note": "forged"},
            headers={"cookie": cookie, "origin": "http://evil.example"},
        )
    assert response.status_code == 403
    assert len(Store(report.data).events()) == 11


def test_a_foreign_host_is_refused(report: Report) -> None:
    with report.client() as client:
        response = client.get("/people/ada-lanternfield", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "Ada" not in response.text


def test_every_post_answers_303_back(report: Report) -> None:
    cookie, token = report.visit("/people/bram-quillhaven")
    headers = {"cookie": cookie, "origin": report.server.url}
    with report.client() as client:
        logged = client.post(
            "/people/bram-quillhaven/log",
            data={CSRF_FIELD: token, "kind": "call", "date": "2026-03-08"},
            headers=headers,
        )
        mistake = client.post(
            "/people/bram-quillhaven/log",
            data={CSRF_FIELD: token, "kind": "call", "date": "2027-01-01"},
            headers=headers,
        )
        followed = client.get(mistake.headers["location"])
        unknown = client.post(
            "/people/nobody/log", data={CSRF_FIELD: token, "kind": "call"}, headers=headers
        )
    assert logged.status_code == 303
    assert logged.headers["location"].startswith("/people/bram-quillhaven?flash=")
    assert mistake.status_code == 303
    assert "is in the future" in followed.text  # the facade's one line, on the page
    assert unknown.status_code == 404
    calls = [e for e in Store(report.data).events() if e.kind is EventKind.CALL]
    assert [e.when.date().isoformat() for e in calls] == ["2026-03-08"]


def test_the_json_endpoints_have_the_clis_shapes(report: Report) -> None:
    at = NOW.isoformat()
    app = report.app
    with report.client() as client:
        people = client.get("/api/people").json()
        ada = client.get("/api/people/ada-lanternfield").json()
        feeds = client.get("/api/feeds").json()
        events = client.get("/api/events", params={"person": "ada"}).json()
        missing = client.get("/api/people/nobody")
        mistake = client.get("/api/events", params={"kind": "hug"})
    assert people == [reading_json(r) for r in app.status(at)]
    assert ada == json.loads(json.dumps(explanation_json(app.explain("Ada Lanternfield", at))))
    assert feeds == [feed_json(s) for s in app.feeds()]
    assert events == [event_json(e) for e in app.events("Ada Lanternfield")]
    assert len(events) == 6
    assert missing.status_code == 404
    assert mistake.status_code == 400 and "unknown kind" in mistake.json()["error"]
