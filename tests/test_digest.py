"""`engage digest`: a digest built from a prepared store (each section's items, in order),
sent to a real SMTP server (plain and STARTTLS), a send that fails (the page is kept), and
hostile feed content rendered into it and opened in headless Chromium (no script runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import trustme
from browser import chromium_page
from pytest_httpserver import HTTPServer
from test_digest_mail import smtp_server

from engage.cli import main
from engage.models import (
    DIRECTION,
    Event,
    EventKind,
    EventSource,
    FeedState,
    FeedStatus,
    Post,
)
from engage.store import Store

K = EventKind
DAY = "2026-03-10"
END = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)

WATCHLIST = """\
me:
  name: Wren Inkwell
  sites: [https://wren.example.net/]
  interests: [feeds, small web]
people:
  - name: Ada Lanternfield
  - name: Bram Quillhaven
    feeds: [https://gone.example.org/feed/]
  - name: Cyra Moonwhistle
    knows: [Hollis Pennywhistle]
  - name: Fenn Marrowby
    feeds: [https://broken.example.org/feed/]
contacts:
  - name: Hollis Pennywhistle
    strength: 0.8
    knows: [Cyra Moonwhistle]
settings:
  digest:
    time: "07:30"
"""


def ev(who: str, kind: EventKind, days_before: float, url: str | None = None) -> Event:
    return Event(
        id=f"test:{who}:{kind.value}:{days_before}",
        person=who,
        kind=kind,
        when=END - timedelta(days=days_before),
        direction=DIRECTION[kind],
        source=EventSource.AUTO,
        url=url,
        evidence=f"{kind.value.replace('_', ' ')} by {who}" if kind.value[:5] == "their" else "",
    )


EVENTS = [
    # Ada: ready to ask; her comment on my blog 3 days ago is the thread to mention.
    ev("Ada Lanternfield", K.MY_COMMENT, 20), ev("Ada Lanternfield", K.MY_COMMENT, 14),
    ev("Ada Lanternfield", K.MY_SHARE, 10),
    ev("Ada Lanternfield", K.THEIR_REPLY, 13, "https://ada.example.org/p1#comment-2"),
    ev("Ada Lanternfield", K.MY_COMMENT, 4),
    ev("Ada Lanternfield", K.THEIR_COMMENT_ON_MINE, 3, "https://wren.example.net/post#c9"),
    ev("Ada Lanternfield", K.MY_COMMENT, 2),
    # Bram: met yesterday, no follow-up yet.
    ev("Bram Quillhaven", K.MET_IN_PERSON, 1),
    # Cyra: replied to my comment 9 days ago and I have not answered: a reply I owe.
    ev("Cyra Moonwhistle", K.MY_COMMENT, 12),
    ev("Cyra Moonwhistle", K.THEIR_REPLY, 9, "https://cyra.example.org/tapes#comment-5"),
    # Fenn: a dialogue long ago: gone cold.
    ev("Fenn Marrowby", K.MY_COMMENT, 101), ev("Fenn Marrowby", K.THEIR_REPLY, 100),
]  # fmt: skip


def post(who: str, slug: str, title: str, hours_before: float, summary: str = "") -> Post:
    when = END - timedelta(hours=hours_before)
    return Post(
        person=who,
        feed=f"https://{slug.split('-')[0]}.example.org/feed/",
        id=slug,
        link=f"https://{slug.split('-')[0]}.example.org/{slug}/",
        title=title,
        published=when,
        summary=summary,
        first_seen=when,
    )


POSTS = [
    post("Ada Lanternfield", "ada-feeds", "Why feeds are a promise", 5, "<p>On feeds.</p>"),
    post("Fenn Marrowby", "fenn-back", "Back from a long break", 30),
    post("Cyra Moonwhistle", "cyra-ferry", "Field recordings from the ferry", 8),
    post("Cyra Moonwhistle", "cyra-old", "An old post", 24 * 30),  # before the window
]
FEEDS = [
    FeedState(url="https://gone.example.org/feed/", person="Bram Quillhaven",
              status=FeedStatus.GONE, gone=True, last_error="HTTP 410 Gone"),
    FeedState(url="https://broken.example.org/feed/", person="Fenn Marrowby",
              status=FeedStatus.ERROR, last_error="HTTP 500 Internal Server Error", failures=2),
]  # fmt: skip


class Engage:
    """`engage ARGS --config … --data …` in-process, with the prepared store."""

    def __init__(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], watchlist: str
    ) -> None:
        self.config = tmp_path / "feeds.yaml"
        self.config.write_text(watchlist, encoding="utf-8")
        self.data = tmp_path / "data"
        self.capsys = capsys
        store = Store(self.data)
        with store.transaction() as tx:
            tx.add_events(EVENTS)
            tx.put_posts(POSTS)
            tx.put_feeds(FEEDS)

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main([*args, "--config", str(self.config), "--data", str(self.data)])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def engage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Engage:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("ENGAGE_CACHE", str(tmp_path / "cache"))
    return Engage(tmp_path, capsys, WATCHLIST)


def sections(text: str) -> dict[str, list[str]]:
    """The text part's sections: heading -> its item lines ('* …')."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.isupper() and "(" in line:
            current = line.split(" (")[0]
            found[current] = []
        elif current and line.startswith("* "):
            found[current].append(line[2:])
    return found


def test_a_digest_from_a_prepared_store_has_each_section_in_order(engage: Engage) -> None:
    code, out, err = engage("digest", "--date", DAY)
    assert code == 0, err
    page = Path(out.strip())
    assert page == engage.data / "digests" / f"{DAY}.html"
    assert (engage.data / "digests" / "latest.html").read_bytes() == page.read_bytes()
    text = page.with_suffix(".txt").read_text(encoding="utf-8")
    assert text.splitlines()[1] == (
        "1 ready to ask · 2 follow-ups · 3 new posts · 1 warm introduction · 1 going cold"
        " · 2 feeds need attention"
    )
    got = sections(text)
    assert list(got) == [
        "READY TO ASK", "FOLLOW-UPS DUE", "JOIN THE CONVERSATION", "WARM INTRODUCTIONS",
        "GOING COLD", "FEEDS THAT NEED ATTENTION",
    ]  # fmt: skip
    # In: 5·2^(−13/30) + 6·2^(−3/30) = 3.70 + 5.60; out: 1.26 + 1.45 + 1.19 + 1.82 + 1.91
    # = 7.63, capped at 6: 15.3.
    assert got["READY TO ASK"] == ["Ada Lanternfield (score 15.3)"]
    assert "The thread to mention: their comment on mine by Ada Lanternfield" in text
    assert "Would you be open to connecting?" in text  # the drafted ask
    # A reply I owe (Cyra's, 9 days: 1.29 of its 7-day period), then the follow-up the
    # day after a meeting (Bram's, due since midnight: 1.0 of its 1-day period). Ada's
    # comment on my blog is answered: my comment came after it.
    assert got["FOLLOW-UPS DUE"] == [
        "Cyra Moonwhistle: Answer their reply of 1 Mar (9 days ago).",
        "Bram Quillhaven: Send the follow-up to your meeting yesterday.",
    ]
    # Ada: an interest (2) and ready (3); Cyra: in dialogue (2); Fenn: gone quiet (1.5).
    assert [line.split(" · ")[0] for line in got["JOIN THE CONVERSATION"]] == [
        "Why feeds are a promise",
        "Field recordings from the ferry",
        "Back from a long break",
    ]
    # Me–Hollis 0.8 (stated); Hollis–Cyra: each says they know the other, 0.5 twice as a
    # noisy-or, 1 − 0.5·0.5 = 0.75; the path 0.8 × 0.75 = 0.60.
    assert got["WARM INTRODUCTIONS"] == [
        "Hollis Pennywhistle could introduce you to Cyra Moonwhistle (strength 0.60)"
    ]
    assert got["GOING COLD"][0].startswith("Fenn Marrowby: Gone quiet: no contact for 100 days")
    assert [line.split(":")[1].strip() for line in got["FEEDS THAT NEED ATTENTION"]] == [
        "gone — HTTP 410 Gone", "failing — HTTP 500 Internal Server Error (2 times in a row)",
    ]  # fmt: skip


def test_the_digest_says_how_many_detections_wait_for_review(engage: Engage) -> None:
    code, out, _err = engage("digest", "--date", DAY)
    assert code == 0
    assert "wait for your review" not in Path(out.strip()).with_suffix(".txt").read_text("utf-8")
    stranger = Event(
        id="auto:namesake", person="Ada Lanternfield", kind=K.MY_COMMENT,
        when=END - timedelta(days=6), direction=DIRECTION[K.MY_COMMENT],
        source=EventSource.AUTO, confirmed=False,
        name_matches=(("ada.example.org", "wren"),),
    )  # fmt: skip
    with Store(engage.data).transaction() as tx:
        tx.add_events([stranger])
    code, out, _err = engage("digest", "--date", DAY)
    assert code == 0
    page = Path(out.strip())
    note = (
        "1 detection rests on a name alone and waits for your review; until then it counts "
        "as contact, not towards ready: engage review"
    )
    assert f"! {note}" in page.with_suffix(".txt").read_text(encoding="utf-8")
    assert note in page.read_text(encoding="utf-8")


def test_the_next_digest_shows_only_posts_that_arrived_since(engage: Engage) -> None:
    assert engage("digest", "--date", DAY)[0] == 0
    store = Store(engage.data)
    with store.transaction() as tx:
        tx.put_posts([post("Bram Quillhaven", "bram-new", "A new one", -10)])
    code, out, _err = engage("digest", "--date", "2026-03-11")
    assert code == 0
    got = sections(Path(out.strip()).with_suffix(".txt").read_text(encoding="utf-8"))
    assert [line.split(" · ")[0] for line in got["JOIN THE CONVERSATION"]] == ["A new one"]


def received_digest(mailbox_messages: list[EmailMessage]) -> EmailMessage:
    [message] = mailbox_messages
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert message["Subject"].startswith("engage · Tue 10 Mar: 1 ready to ask · 2 follow-ups")
    assert message["To"] == "wren@wren.example.net"
    assert "READY TO ASK (1)" in parts[0].get_content()
    assert "<h2" in parts[1].get_content()
    return message


def mail_settings(port: int, security: str) -> str:
    return WATCHLIST.replace(
        '    time: "07:30"\n',
        f'    time: "07:30"\n    to: wren@wren.example.net\n    smtp_host: 127.0.0.1\n'
        f"    smtp_port: {port}\n    security: {security}\n",
    )


def test_send_delivers_both_parts_to_a_real_smtp_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    with smtp_server() as (mailbox, port):
        engage = Engage(tmp_path, capsys, mail_settings(port, "none"))
        code, out, err = engage("digest", "--date", DAY, "--send")
    assert code == 0, err
    assert out.splitlines()[1] == "e-mailed to wren@wren.example.net"
    received_digest(mailbox.messages)
    assert mailbox.over_tls == [False]


def test_send_over_starttls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ssl

    monkeypatch.setenv("TZ", "UTC")
    ca = trustme.CA()
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    trust = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(trust))
    monkeypatch.setenv("SSL_CERT_FILE", str(trust))  # what ssl's default context trusts
    with smtp_server(tls_context=server_tls, require_starttls=True) as (mailbox, port):
        engage = Engage(tmp_path, capsys, mail_settings(port, "starttls"))
        code, _out, err = engage("digest", "--date", DAY, "--send")
    assert code == 0, err
    received_digest(mailbox.messages)
    assert mailbox.over_tls == [True]


def test_a_failed_send_keeps_the_page_and_says_why_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_digest_mail import free_port

    monkeypatch.setenv("TZ", "UTC")
    engage = Engage(tmp_path, capsys, mail_settings(free_port(), "none"))  # nothing listens
    code, out, err = engage("digest", "--date", DAY, "--send")
    assert code != 0
    assert Path(out.strip()).is_file()
    assert len(err.strip().splitlines()) == 1
    assert "e-mail not sent" in err and "Traceback" not in err


XSS_FEED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Mallory's &lt;script&gt;alert('chan')&lt;/script&gt;</title>
<link>{base}/</link>
<item><title>&lt;script&gt;alert('title')&lt;/script&gt;
&lt;img src=x onerror=alert('img')&gt;</title>
<link>javascript:alert('link')</link><guid>x1</guid><pubDate>{date}</pubDate>
<category>feeds</category>
<description><![CDATA[<p>Hi <script>alert('body')</script><img src=x onerror="alert('onerror')">
<a href="jav&#x61;script:alert('entity')">entity-encoded</a>
<a href="javascript:alert('plain')">plain</a>
<form action="javascript:alert('form')"><button>go</button></form>
<iframe src="javascript:alert('iframe')"></iframe>
<svg onload="alert('svg')"><script>alert('svgscript')</script></svg>
<a href="data:text/html,<script>alert('data')</script>">data</a></p>]]></description></item>
<item><title>Innocent</title><link>{base}/innocent</link><guid>x2</guid>
<pubDate>{date}</pubDate><description>&lt;a href="jav&amp;#x61;script:alert('double')"&gt;
double-escaped&lt;/a&gt;</description></item>
</channel></rss>"""


def test_hostile_feed_content_runs_no_script_in_the_digest(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("ENGAGE_CACHE", str(tmp_path / "cache"))
    base = httpserver.url_for("").rstrip("/")
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    httpserver.expect_request("/feed").respond_with_data(
        XSS_FEED.format(base=base, date=now), content_type="application/rss+xml"
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "me:\n  name: Wren\n  interests: [feeds]\npeople:\n  - name: Mallory <b>Bold</b>\n"
        f"    feeds: ['{base}/feed']\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"

    def run(*args: str) -> None:
        try:
            main([*args, "--config", str(config), "--data", str(data)])
        except SystemExit as exc:
            assert exc.code in (0, None), capsys.readouterr()

    run("poll", "--all")
    page = tmp_path / "digest.html"
    run("digest", "--out", str(page))
    html = page.read_text(encoding="utf-8")
    # Both posts are in the digest; the hostile one's title was markup only, so what is
    # shown is the start of its text.
    assert "Innocent" in html and "Hi entity-encoded plain go data" in html
    with chromium_page() as (browser_page, seen):
        browser_page.goto(page.as_uri())
        for link in browser_page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert href.startswith(("http://", "https://")), href
        # Click every link that stays on this page's origin would be navigation; the
        # hostile ones never became links, so there is nothing to click that runs script.
        browser_page.wait_for_timeout(300)
    assert seen.dialogs == []
    assert seen.script_errors == []
    assert seen.console == []


def test_the_browser_sees_a_script_that_runs(tmp_path: Path) -> None:
    # The listeners above must be able to fail: the same check on a page with a script.
    page = tmp_path / "bad.html"
    page.write_text(
        "<p>x</p><script>alert('ran'); console.log('hi'); nope();</script>", encoding="utf-8"
    )
    with chromium_page() as (browser_page, seen):
        browser_page.goto(page.as_uri())
        browser_page.wait_for_timeout(300)
    assert seen.dialogs == ["alert: ran"]
    assert seen.console == ["log: hi"]
    assert len(seen.script_errors) == 1 and "nope" in seen.script_errors[0]


def test_the_daemon_guard_refuses_a_second_run(tmp_path: Path) -> None:
    from engage.app import Engage as App
    from engage.errors import EngageError

    app = App(tmp_path / "feeds.yaml", tmp_path / "data")
    second = App(tmp_path / "feeds.yaml", tmp_path / "data")
    with (
        app.single_instance("run"),
        pytest.raises(EngageError, match="engage run is already running on"),
        second.single_instance("run"),
    ):
        pass


def test_a_screenshot_of_the_digest_for_the_readme(engage: Engage, tmp_path: Path) -> None:
    """docs/digest.png, from the prepared store's fixed day: the README shows it, and the
    test suite's browser keeps it true to the templates."""
    page = tmp_path / "digest.html"
    code, _out, err = engage("digest", "--date", DAY, "--out", str(page))
    assert code == 0, err
    docs = Path(__file__).resolve().parents[1] / "docs"
    with chromium_page(width=760, height=900) as (browser_page, seen):
        browser_page.goto(page.as_uri())
        browser_page.screenshot(path=str(docs / "digest.png"), full_page=True)
    assert seen.console == [] and seen.script_errors == []
    assert (docs / "digest.png").stat().st_size > 10_000
