"""No byte from a feed can drive the user's terminal, or land in the watchlist.

A local HTTP server plays a blog whose channel title, post titles, author, comments,
enclosure title, feed links and OPML carry terminal escape sequences: OSC 0 (sets the
window title), OSC 8 (a hidden hyperlink), CSI colours, a C1 CSI (U+009B), BEL and a
right-to-left override. It is polled, then shown through every command that prints data,
with output piped and under a pseudo-terminal (where rich adds its own colours: SGR
sequences are the only escape sequences allowed, and no OSC, BEL, C1 or bidi override at
all). The person who owns the blog is named "[red]Markup[/red] Person": rich must print
that literally everywhere.

A second part writes such text straight into the store, as an older version of engage
did, and checks that the same cleaning runs again on output.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from ruamel.yaml import YAML

from engage.clean import unsafe_characters
from engage.models import (
    DIRECTION,
    Comment,
    Enclosure,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    FeedState,
    FeedStatus,
    IntroEvidence,
    Post,
)
from engage.store import Store

ROOT = Path(__file__).resolve().parents[1]

OSC0 = "\x1b]0;pwned\x07"
OSC8 = "\x1b]8;;http://evil.example/\x07click here\x1b]8;;\x07"
CSI = "\x1b[31mRED\x1b[0m"
C1 = "\x9b32mGREEN"
BEL = "\x07"
BIDI = "\u202eevil\u202c"
# Sequences with no visible text: what a name may carry and still be recognised.
BIDI_ONLY = "\u202e\u2066"
CSI_ONLY = "\x1b[0m"
NASTY = OSC0 + OSC8 + CSI + C1 + BEL + BIDI
# The same as XML character references: what a feed that escapes its text sends.
NASTY_REFS = "".join(f"&#x{ord(c):x};" if not c.isprintable() else c for c in NASTY)

MARKUP = "[red]Markup[/red] Person"
ME = "Marian Novak"
CONTACT = "Lee Okafor"


def rss(base: str, now: datetime) -> str:
    """The blog's posts feed: every text field nasty, raw and as references."""
    stamp = (now - timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Channel {NASTY}</title><link>{base}/nasty/</link>
<item><title>Post {NASTY}</title><link>{base}/nasty/post-1/</link><guid>post-1</guid>
<dc:creator>Author {NASTY}</dc:creator>
<description>&lt;p&gt;Body {NASTY_REFS} and &amp;#x1b;]0;pwned&amp;#x7;&lt;/p&gt;</description>
<enclosure url="{base}/nasty/ep1.mp3" type="audio/mpeg" length="1000"/>
<media:title>Enclosure {NASTY}</media:title>
<media:content url="{base}/nasty/ep1.mp3" type="audio/mpeg">
  <media:title>Media {NASTY}</media:title></media:content>
<pubDate>{stamp}</pubDate></item>
</channel></rss>"""


def comments_rss(base: str, now: datetime) -> str:
    """Its comment feed: my comment, their reply to it, and a comment by my contact (an
    introduction clue), each body and author name carrying the sequences."""

    def at(days: float) -> str:
        return (now - timedelta(days=days)).strftime("%a, %d %b %Y %H:%M:%S +0000")

    def item(number: int, author: str, days: float) -> str:
        return f"""<item><title>Comment {number} {NASTY}</title>
<link>{base}/nasty/post-1/#comment-{number}</link><guid>c{number}</guid>
<dc:creator>{author}</dc:creator>
<description>Comment body {number} {NASTY_REFS}</description>
<content:encoded><![CDATA[<p>Comment body {number} {NASTY}</p>]]></content:encoded>
<pubDate>{at(days)}</pubDate></item>"""

    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Comments on {NASTY}</title><link>{base}/nasty/</link>
{item(1, ME + BIDI_ONLY, 1.5)}
{item(2, MARKUP + OSC0, 1.0)}
{item(3, CONTACT + CSI_ONLY + BEL, 0.5)}
</channel></rss>"""


def json_feed(base: str) -> str:
    """A JSON Feed carries every character as it is (JSON escapes them losslessly)."""
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON " + NASTY,
            "home_page_url": f"{base}/nasty/",
            "authors": [{"name": "JSON author " + NASTY}],
            "items": [
                {
                    "id": "json-1",
                    "url": f"{base}/nasty/json-1/",
                    "title": "JSON post " + NASTY,
                    "content_text": "JSON text " + NASTY,
                    "date_published": "2026-01-02T10:00:00Z",
                    "attachments": [
                        {"url": f"{base}/nasty/a.mp3", "mime_type": "audio/mpeg" + C1,
                         "title": "Attachment " + NASTY}
                    ],
                }
            ],
        }
    )  # fmt: skip


def page(base: str) -> str:
    """A web page where a feed was expected, and for `engage add`: its title and its feed
    links' titles and URLs carry the sequences."""
    return f"""<!doctype html><html><head><title>Page {NASTY_REFS}</title>
<link rel="alternate" type="application/rss+xml" title="Feed {NASTY_REFS}"
      href="{base}/nasty/feed2/?x=&#x1b;]0;pwned&#x7;">
<link rel="alternate" type="application/rss+xml" title="Comments {NASTY_REFS}"
      href="{base}/nasty/comments2/">
</head><body>hello</body></html>"""


def opml() -> str:
    """OPML with the sequences in folder names and titles (raw ESC makes it invalid XML:
    engage reads such files one outline at a time)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subs</title></head><body>
<outline text="Folder {NASTY} Name">
  <outline type="rss" text="Imported {NASTY}" title="Imported {NASTY}"
           xmlUrl="https://imported.example/feed/" htmlUrl="https://imported.example/"/>
</outline>
<outline type="rss" title="Loose {NASTY_REFS}" xmlUrl="https://loose.example/feed/"/>
</body></opml>"""


WATCHLIST = """\
me:
  name: {me}
  sites: ['{base}/me/']
people:
  - name: '{markup}'
    sites: ['{base}/nasty/']
    feeds:
      - '{base}/nasty/feed/'
      - {{url: '{base}/nasty/comments/feed/', kind: comments}}
      - '{base}/nasty/feed.json'
      - '{base}/nasty/page/'
contacts:
  - name: {contact}
    sites: ['{base}/lee/']
"""


@dataclass
class World:
    base: str
    config: Path
    data: Path
    cache: Path
    opml: Path

    def env(self, **more: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
                         "COLUMNS", "LINES", "ENGAGE_CONFIG", "ENGAGE_DATA")
        }  # fmt: skip
        env.update(ENGAGE_CACHE=str(self.cache), TERM="xterm-256color", **more)
        return env

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "engage", *args, "--config", str(self.config)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("nasty")
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        base = server.url_for("").rstrip("/")
        now = datetime.now(UTC)
        xml = "application/rss+xml; charset=utf-8"
        routes = {
            "/nasty/feed/": (rss(base, now), xml),
            "/nasty/comments/feed/": (comments_rss(base, now), xml),
            "/nasty/feed.json": (json_feed(base), "application/feed+json"),
            "/nasty/page/": (page(base), "text/html; charset=utf-8"),
            "/nasty/feed2/": (rss(base, now).replace("post-1", "post-2"), xml),
            "/nasty/comments2/": (comments_rss(base, now).replace("c1<", "x1<"), xml),
        }
        for path, (body, content_type) in routes.items():
            server.expect_request(path).respond_with_data(
                body.encode("utf-8"), content_type=content_type
            )
        config = folder / "feeds.yaml"
        config.write_text(
            WATCHLIST.format(me=ME, markup=MARKUP, contact=CONTACT, base=base), encoding="utf-8"
        )
        listing = folder / "subs.opml"
        listing.write_text(opml(), encoding="utf-8")
        made = World(base, config, folder / "data", folder / "cache", listing)
        Store(made.data)
        first = piped(made, "poll", "--all", data=True)
        assert "Traceback" not in first.text, first.text
        yield made
    finally:
        server.clear()
        server.stop()


@dataclass
class Output:
    raw: bytes  # stdout and stderr, as written
    code: int

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


def piped(world: World, *args: str, data: bool = False, **env: str) -> Output:
    argv = world.argv(*args, *(("--data", str(world.data)) if data else ()))
    done = subprocess.run(
        argv, capture_output=True, env=world.env(**env), cwd=ROOT, timeout=120, check=False
    )
    return Output(done.stdout + done.stderr, done.returncode)


def in_pty(world: World, *args: str, data: bool = False, columns: int = 80) -> Output:
    """The command on a pseudo-terminal of `columns` × 24, as a user at a terminal runs it
    (stdout and stderr both on the terminal)."""
    argv = world.argv(*args, *(("--data", str(world.data)) if data else ()))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
        env=world.env(COLUMNS=str(columns)), cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                process.kill()
                raise AssertionError(f"{args} hung")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=120)
    finally:
        os.close(master)
    return Output(b"".join(chunks), code)


# rich's own styling on a terminal: Select Graphic Rendition, `ESC [ params m`, only.
SGR = re.compile(rb"\x1b\[[0-9;]*m")
# What must never appear: ESC, BEL, C1 controls (UTF-8: C2 80..C2 9F), and the bidi
# embeddings, overrides and isolates (E2 80 AA..AE, E2 81 A6..A9).
FORBIDDEN = re.compile(rb"[\x1b\x07]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def assert_harmless(output: Output, *, terminal: bool) -> None:
    raw = output.raw
    assert b"\x1b]" not in raw and b"\x07" not in raw, "an OSC sequence reached the output"
    if terminal:
        raw = SGR.sub(b"", raw)
    found = FORBIDDEN.search(raw)
    if found is not None:
        around = raw[max(0, found.start() - 60) : found.end() + 60]
        raise AssertionError(f"{found.group()!r} reached the output: {around!r}")
    assert "Traceback" not in output.text


COMMANDS: dict[str, tuple[str, ...]] = {
    "poll -v": ("poll", "--all", "-v"),
    "posts": ("posts",),
    "posts --json": ("posts", "--json"),
    "events": ("events",),
    "events --json": ("events", "--json"),
    "status": ("status",),
    "explain": ("explain", MARKUP),
    "explain --json": ("explain", MARKUP, "--json"),
    "intro": ("intro", MARKUP),
    "feeds": ("feeds",),
    "feeds --json": ("feeds", "--json"),
    "digest --json": ("digest", "--json"),
    "export": ("export",),
}


def test_what_was_polled_is_stored_clean(world: World) -> None:
    for name in ("engage.json", "cache.json"):
        document = json.loads((world.data / name).read_text(encoding="utf-8"))
        assert not list(dirty_strings(document)), name
    posts = json.loads(piped(world, "posts", "--json", data=True).text)
    titles = {p["title"] for p in posts}
    # The visible text stays; the sequences (and the payload of an OSC) go.
    assert "Post click hereRED›32mGREENevil" in titles or "Post click hereREDGREENevil" in titles
    assert "JSON post click hereREDGREENevil" in titles
    authors = {p["author"] for p in posts}
    assert "JSON author click hereREDGREENevil" in authors


def test_detection_still_sees_the_names_under_the_sequences(world: World) -> None:
    events = json.loads(piped(world, "events", "--json", data=True).text)
    kinds = {e["kind"] for e in events}
    assert {"my_comment", "their_reply"} <= kinds
    intro = json.loads(piped(world, "intro", MARKUP, "--json", data=True).text)
    assert [path["via"] for path in intro["paths"]] == [[CONTACT]]


def shown(world: World, command: str, *, terminal: bool) -> Output:
    """One of COMMANDS, piped or on a terminal: it succeeds and writes nothing harmful."""
    output = (in_pty if terminal else piped)(world, *COMMANDS[command], data=True)
    assert output.code == 0, output.text
    assert_harmless(output, terminal=terminal)
    return output


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "pty"])
def test_no_command_lets_a_feed_drive_the_terminal(
    world: World, command: str, terminal: bool
) -> None:
    output = shown(world, command, terminal=terminal)
    if command in ("posts", "events", "status", "feeds", "explain", "intro", "poll -v"):
        assert "[red]Markup[/red]" in output.text  # printed as written, never as markup


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "pty"])
def test_add_and_import_opml_write_and_print_nothing_harmful(
    world: World, terminal: bool
) -> None:
    run = in_pty if terminal else piped
    added = run(world, "add", f"{world.base}/nasty/page/", "--person", MARKUP)
    assert added.code == 0, added.text
    assert_harmless(added, terminal=terminal)
    assert "[red]Markup[/red]" in added.text
    dry = run(world, "import-opml", str(world.opml), "--dry-run")
    assert dry.code == 0, dry.text
    assert_harmless(dry, terminal=terminal)
    imported = run(world, "import-opml", str(world.opml))
    assert imported.code == 0, imported.text
    assert_harmless(imported, terminal=terminal)
    listed = run(world, "feeds", data=True)
    assert_harmless(listed, terminal=terminal)

    text = world.config.read_text(encoding="utf-8")
    assert not list(unsafe_characters(text))
    for escape in ("\\e", "\\a", "\\x", "\\u", "\\N"):  # YAML's escapes for them
        assert escape not in text
    tree = YAML(typ="safe").load(text)
    assert not list(dirty_strings(tree))
    names = [p["name"] for p in tree["people"]]
    assert "Folder click hereREDGREENevil Name" in names
    titles = [f.get("title") for p in tree["people"] for f in p["feeds"] if isinstance(f, dict)]
    # The visible words stay (feedparser shows a C1 CSI in XML as "›", harmlessly).
    assert any(str(title).startswith("Channel click hereRED") for title in titles), titles
    assert "Imported click hereREDGREENevil" in titles


def dirty_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if list(unsafe_characters(value)):
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from dirty_strings(key)
            yield from dirty_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from dirty_strings(item)


# ---------------------------------------------------------------------------
# What an older version stored: cleaned again on the way out.


@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("old")
    base = "http://old.example"
    config = folder / "feeds.yaml"
    config.write_text(
        WATCHLIST.format(me=ME, markup=MARKUP, contact=CONTACT, base=base), encoding="utf-8"
    )
    made = World(base, config, folder / "data", folder / "cache", folder / "none.opml")
    now = datetime.now(UTC)
    feed = f"{base}/nasty/feed/"
    with Store(made.data).transaction(now) as tx:
        tx.put_feeds([
            FeedState(url=feed, person=MARKUP, title="Feed " + NASTY, status=FeedStatus.ERROR,
                      last_error="HTTP 500 " + NASTY, failures=3, moved_to=f"{base}/{OSC0}/",
                      last_poll=now),
        ])  # fmt: skip
        tx.put_posts([
            Post(person=MARKUP, feed=feed, id="old-" + NASTY, link=None, title="Old " + NASTY,
                 published=now - timedelta(days=1), author="Old author " + NASTY,
                 enclosure=Enclosure(url=f"{base}/a.mp3", type="audio/" + C1)),
        ])  # fmt: skip
        tx.put_comments([
            Comment(person=MARKUP, feed=feed, id="c-old", post_link=f"{base}/nasty/p/",
                    link=f"{base}/nasty/p/#c-{OSC0}", author="Old " + NASTY,
                    author_url=None, published=now, snippet="<p>" + NASTY + "</p>"),
        ])  # fmt: skip
        kind = EventKind.THEIR_REPLY
        tx.add_events([
            Event(id="auto:old", person=MARKUP, kind=kind, when=now - timedelta(hours=5),
                  direction=DIRECTION[kind], source=EventSource.AUTO,
                  url=f"{base}/nasty/p/#{OSC8}", evidence='comment: "' + NASTY + '"',
                  note="note " + NASTY),
        ])  # fmt: skip
        tx.put_intro_evidence([
            IntroEvidence(id="intro:old", contact=CONTACT, person=MARKUP,
                          kind="contact_commented", url=f"{base}/nasty/p/#{OSC0}",
                          when=now - timedelta(hours=3), evidence="said " + NASTY),
        ])  # fmt: skip
    return made


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "poll -v"])
@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "pty"])
def test_text_stored_by_an_older_version_is_cleaned_on_output(
    old_store: World, command: str, terminal: bool
) -> None:
    shown(old_store, command, terminal=terminal)


def test_the_export_keeps_old_text_exactly_but_escaped(old_store: World) -> None:
    output = piped(old_store, "export", data=True)
    assert not FORBIDDEN.search(output.raw)
    document = json.loads(output.raw)
    assert document["posts"][0]["title"] == "Old " + NASTY  # a backup loses nothing


# ---------------------------------------------------------------------------
# The feeds table in 80 columns


LONG_PATHS = [
    "/blogs/a-very-long-folder-name/another-level/feed/atom.xml",
    "/podcast/episodes/rss.xml",
    "/c/ok/feed/",
]


@pytest.fixture(scope="module")
def many_feeds(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("wide")
    base = "http://127.0.0.1:45678"
    config = folder / "feeds.yaml"
    lines = ["me:", f"  name: {ME}", "people:", f"  - name: '{MARKUP}'", "    feeds:"]
    lines += [f"      - '{base}{path}'" for path in LONG_PATHS]
    lines += ["  - name: Someone With A Rather Long Name Indeed", "    feeds:"]
    lines += ["      - 'https://feeds.example-podcast-host.com/shows/some-show/episodes.rss'"]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    made = World(base, config, folder / "data", folder / "cache", folder / "none.opml")
    now = datetime.now(UTC)
    with Store(made.data).transaction(now) as tx:
        tx.put_feeds([
            FeedState(url=f"{base}{LONG_PATHS[0]}", person=MARKUP, status=FeedStatus.ERROR,
                      last_error="connection refused (127.0.0.1:45678)", failures=4,
                      last_poll=now, next_check=now + timedelta(hours=4)),
            FeedState(url=f"{base}{LONG_PATHS[1]}", person=MARKUP, kind=FeedKind.BLOG,
                      status=FeedStatus.OK, last_success=now, last_poll=now,
                      next_check=now + timedelta(hours=1)),
        ])  # fmt: skip
    return made


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "pty"])
def test_the_feeds_table_fits_80_columns_and_shows_host_and_path(
    many_feeds: World, terminal: bool
) -> None:
    if terminal:
        output = in_pty(many_feeds, "feeds", data=True, columns=80)
        text = SGR.sub(b"", output.raw).decode()
    else:
        output = piped(many_feeds, "feeds", data=True, COLUMNS="80")
        text = output.text
    assert output.code == 0, text
    rows = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    assert max(len(line) for line in rows) <= 80, "\n".join(rows)
    assert "http://127.…" not in text and "http://" not in text  # the scheme says little
    feed_lines = [line for line in rows if line.startswith("[red]Markup[/red] ")]
    assert len(feed_lines) == 3, text  # one line per feed, the host whole
    # Each path's end is there; a long one is shortened in the middle, after the host.
    ends = ("127.0.0.1:45678…/feed/atom.xml", "…episodes/rss.xml", "127.0.0.1:45678/c/ok/feed/")
    for line, end in zip(feed_lines, ends, strict=True):
        assert "127.0.0.1:45678" in line and line.rstrip().endswith(end), line
    assert "feeds.example-podcas" in text and "isodes.rss" in text  # a long host: 2/3 of it
    assert "error ×4" in text  # the failures column folded into the status
    assert "connection refused" in text  # and the error itself under the feed


def test_a_wide_feeds_table_keeps_every_column(many_feeds: World) -> None:
    output = piped(many_feeds, "feeds", data=True)  # piped without COLUMNS: wide
    header = output.text.splitlines()[0].split()
    assert header == ["person", "kind", "status", "last", "success", "fails", "next", "check",
                      "feed"]  # fmt: skip
    assert "127.0.0.1:45678/blogs/a-very-long-folder-name/another-level/feed/atom.xml" in (
        output.text
    )


def test_the_daemon_log_is_cleaned_too() -> None:
    """`engage run --echo` writes its log to the terminal, and a line may quote a feed."""
    import logging

    from engage.daemon import CleanFormatter

    record = logging.LogRecord("engage.run", logging.ERROR, __file__, 1,
                               "poll failed: %s", (f"{NASTY}\nnext line",), None)  # fmt: skip
    line = CleanFormatter("%(levelname)s %(message)s").format(record)
    assert line == "ERROR poll failed: click hereREDGREENevil\nnext line"
