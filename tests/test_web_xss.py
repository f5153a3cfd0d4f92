"""Hostile feed content, polled over real local HTTP into the store, runs no script on any
page of the report: scripts, on* handlers, javascript: and entity-encoded javascript:
links, SVG, iframes and forms in post summaries, titles, links, comments (and so in the
evidence of the interactions found in them) and a feed's title; and the digest built from
them, shown from the archive.

Checked in headless Chromium by what only a running script can cause (tests/browser.py):
a dialog, a console message, an uncaught error, or a policy violation report, which would
mean the sanitizer let something through and only the policy stopped it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from browser import Seen, link_schemes, poke
from playwright.sync_api import Page
from pytest_httpserver import HTTPServer
from reportworld import Report, serving
from xss import CORPUS, HOSTILE_TEXT

from engage.models import EventKind

SITE = "https://ada.example.org"
PER_POST = 6  # corpus payloads per post summary, so every one is on the person's page


def rfc822(days_ago: float) -> str:
    return format_datetime(datetime.now(UTC) - timedelta(days=days_ago))


def text(value: str) -> str:
    """`value` as the text of a feed's title: escaped for the XML, and once more for the
    HTML a title may hold, so the title is these very characters, not markup."""
    return escape(escape(value))


def posts_feed(base: str) -> str:
    chunks = [CORPUS[i : i + PER_POST] for i in range(0, len(CORPUS), PER_POST)]
    items = []
    for n, chunk in enumerate(chunks):
        items.append(
            f"<item><title>{text(HOSTILE_TEXT)} {n}</title><link>{SITE}/p{n}/</link>"
            f"<dc:creator>{text(HOSTILE_TEXT)}</dc:creator><guid>p{n}</guid>"
            f"<pubDate>{rfc822(1 + n / 10)}</pubDate>"
            f"<description><![CDATA[{''.join(chunk)}]]></description></item>"
        )
    for n, link in enumerate(
        ("javascript:alert('xss-link')", "jav&amp;#x61;script:alert('xss-link')")
    ):
        items.append(
            f"<item><title>A post whose link is a script {n}</title><link>{link}</link>"
            f"<guid>js{n}</guid><pubDate>{rfc822(0.5)}</pubDate>"
            f"<description>{escape(CORPUS[6])}</description></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{text(HOSTILE_TEXT)}</title><link>{SITE}/</link>"
        f"<description>x</description>{''.join(items)}</channel></rss>"
    )


def comments_feed(base: str) -> str:
    """My comment on the first post and Ada's threaded answer, both hostile."""
    mine = f"{SITE}/p0/#comment-1"
    items = [
        ("Wren Inkwell", mine, 2.0, CORPUS[0] + CORPUS[7] + "<p>I commented here.</p>"),
        (
            "Ada Lanternfield",
            f"{SITE}/p0/#comment-2",
            1.5,
            f'<p>In reply to <a href="{mine}">Wren</a>.</p>{CORPUS[1]}{CORPUS[8]}{HOSTILE_TEXT}',
        ),
    ]
    body = "".join(
        f"<item><title>Comment by {author}</title><link>{link}</link>"
        f"<dc:creator>{author}</dc:creator><guid>{link}</guid>"
        f"<pubDate>{rfc822(days)}</pubDate>"
        f"<description><![CDATA[{html}]]></description>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        for author, link, days, html in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Comments</title><link>{SITE}/</link><description>x</description>"
        f"{body}</channel></rss>"
    )


@pytest.fixture
def hostile(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Report]:
    monkeypatch.setenv("ENGAGE_CACHE", str(tmp_path / "cache"))
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed/").respond_with_data(
        posts_feed(base), content_type="application/rss+xml"
    )
    httpserver.expect_request("/comments/feed/").respond_with_data(
        comments_feed(base), content_type="application/rss+xml"
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""\
me:
  name: Wren Inkwell
  sites: [https://wren.example.net/]
people:
  - name: Ada Lanternfield
    sites: ['{SITE}/']
    feeds:
      - '{base}/feed/'
      - {{url: '{base}/comments/feed/', kind: comments}}
""",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    # The real commands, in their own process: Playwright's loop runs in this thread.
    env = {**os.environ, "ENGAGE_CACHE": str(tmp_path / "cache")}
    for command in (["poll", "--all"], ["digest"]):
        done = subprocess.run(
            [sys.executable, "-m", "engage", *command, "--config", str(config),
             "--data", str(data)],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    with serving(config, data, now=None) as report:
        yield report


def test_the_corpus_reached_the_store_and_the_pages(hostile: Report, page: Page) -> None:
    """The control: the hostile content is there to be shown, so the next test can fail."""
    kinds = {e.kind for e in hostile.app.events()}
    assert {EventKind.MY_COMMENT, EventKind.THEIR_REPLY} <= kinds
    page.goto(hostile.at("/people/ada-lanternfield?all=1"))
    assert page.get_by_text(f"{HOSTILE_TEXT} 0").count() == 1  # a title, as text
    assert page.locator(".summary").count() >= len(CORPUS) // PER_POST
    assert page.get_by_text("entity-encoded javascript link").count() >= 1
    evidence = page.locator(".event-evidence").all_inner_texts()
    assert any("I commented here." in text for text in evidence)
    page.goto(hostile.at("/feeds"))
    assert page.get_by_text(HOSTILE_TEXT).count() >= 1  # the feed's title


@pytest.mark.parametrize(
    "path",
    ["/", "/people/ada-lanternfield?all=1", "/feeds", "/digests", "/digests/{today}",
     "/api/people/ada-lanternfield", "/no/such/page"],
)  # fmt: skip
def test_no_page_runs_a_script_from_a_feed(
    hostile: Report, page: Page, seen: Seen, path: str
) -> None:
    today = hostile.app.now().date().isoformat()
    response = page.goto(hostile.at(path.format(today=today)), wait_until="networkidle")
    assert response is not None and response.status in (200, 404)
    # Hover, focus and click everything a reader could, but the report's own buttons
    # (they post forms); links to http(s) pages are checked for their scheme instead.
    poke(page, "body *:not(form):not(form *)")
    page.wait_for_timeout(300)  # time for a late timer or navigation

    assert seen.dialogs == [] and seen.script_errors == []
    errors = [t for t in seen.console_errors if "status of 404" not in t]
    assert errors == []  # a policy violation would be here: the sanitizer missed something
    assert set(link_schemes(page, "body")) <= {"http:", "https:"}
    assert page.url.startswith(hostile.server.url)  # nothing navigated away
