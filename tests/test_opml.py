"""OPML import and export, and the `add`, `import-opml`, `export-opml` commands, run as a
user runs them: a real process, a real feeds.yaml, a real local HTTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import FEEDS
from pytest_httpserver import HTTPServer

from engage import config
from engage.errors import EngageError
from engage.models import FeedKind, FeedRef, Person, Watchlist
from engage.poll.opml import OpmlOutline, group_outlines, read_opml, write_opml

OPML = FEEDS / "opml"

WATCHLIST = """\
# my watchlist; this comment must survive edits
me:
  name: Robin Quill
  feeds:
    - https://robin.example.net/feed/

people:
  - name: Dana Vell   # met at a meetup
    feeds:
      - https://dana.example.org/feed/
"""


def engage(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ENGAGE_CONFIG", "ENGAGE_DATA")}
    return subprocess.run(
        [sys.executable, "-c", "from engage.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def same_feed(url: str) -> str:
    return url.rstrip("/").lower()


@pytest.fixture
def watchlist_file(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(WATCHLIST, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "feeds", "folders"),
    [
        ("netnewswire_subs.opml", 207, {"Programming", "Macintosh", "Weblogs", "Writers"}),
        ("antennapod_podcasts.opml", 8, set()),
        ("google_reader.opml", 22, {"Presse", "Culture", "Droits du net"}),
    ],
    ids=["netnewswire-nested-folders", "antennapod-flat", "google-reader-folders"],
)
def test_real_opml_exports_are_read(name: str, feeds: int, folders: set[str]) -> None:
    outlines = read_opml((OPML / name).read_bytes())
    assert len(outlines) == feeds  # MANIFEST: feed outlines with an xmlUrl
    assert folders <= {o.folder[-1] for o in outlines if o.folder}
    assert all(o.url.startswith(("http://", "https://")) for o in outlines)


def test_google_reader_details_are_kept() -> None:
    outlines = read_opml((OPML / "google_reader.opml").read_bytes())
    reflets = outlines[0]
    assert reflets == OpmlOutline(
        url="http://reflets.info/feed/",
        title="Reflets",
        html_url="http://reflets.info",
        folder=("Presse",),
    )
    # &amp; in an attribute is one & in the URL
    assert any("feeds.feedburner.com%2Fdrgoulu&rl=false" in o.url for o in outlines)


def test_nested_folders_give_the_full_path() -> None:
    data = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
      <outline text="Work"><outline text="Team A">
        <outline text="Ana" xmlUrl="https://ana.example/feed"/></outline></outline>
      <outline text="Loose" XMLURL="https://loose.example/rss"/>
    </body></opml>"""
    ana, loose = read_opml(data)
    assert ana.folder == ("Work", "Team A") and ana.title == "Ana"
    assert loose.folder == () and loose.url == "https://loose.example/rss"


def test_broken_xml_opml_is_read_tag_by_tag() -> None:
    data = b"""<opml version="1.0"><body>
      <outline text="Tech &amp; Stuff"><outline text="R&D blog" xmlUrl="https://rd.example/feed?a=1&b=2"/>
      </outline><outline text="Top&nbsp;level" xmlUrl="https://top.example/rss"/>
    </body></opml>"""
    rd, top = read_opml(data)
    assert rd.folder == ("Tech & Stuff",) and rd.url == "https://rd.example/feed?a=1&b=2"
    assert top.folder == () and top.url == "https://top.example/rss"


@pytest.mark.parametrize(
    "data",
    [b"", b"<opml><body><outline", b"not xml at all"],
    ids=["empty", "truncated", "not-xml"],
)
def test_unreadable_opml_is_a_user_error(data: bytes) -> None:
    with pytest.raises(EngageError, match="not a readable OPML file"):
        read_opml(data)


def test_write_opml_escapes_and_groups_by_person() -> None:
    watchlist = Watchlist(
        me=Person(name="Me & Co", feeds=(FeedRef("https://me.example/feed?a=1&b=2"),)),
        people=(
            Person(
                name='Dana "DV" <Vell>',
                sites=("https://dana.example/",),
                feeds=(
                    FeedRef("https://dana.example/feed/", FeedKind.BLOG, "Dana's blog"),
                    FeedRef("https://dana.example/comments/feed/", FeedKind.COMMENTS),
                ),
            ),
            Person(name="No Feeds Yet"),
        ),
    )
    text = write_opml(watchlist)
    root = ET.fromstring(text.encode())  # valid XML
    folders = root.findall("./body/outline")
    assert [f.get("text") for f in folders] == ["Me & Co", 'Dana "DV" <Vell>']
    dana_feeds = folders[1].findall("outline")
    assert [f.get("xmlUrl") for f in dana_feeds] == [
        "https://dana.example/feed/",
        "https://dana.example/comments/feed/",
    ]
    assert {f.get("htmlUrl") for f in dana_feeds} == {"https://dana.example/"}
    assert {f.get("type") for f in dana_feeds} == {"rss"}
    assert dana_feeds[0].get("title") == "Dana's blog"
    again = read_opml(text.encode())
    assert again[0].url == "https://me.example/feed?a=1&b=2"
    assert again[1].folder == ('Dana "DV" <Vell>',)


@pytest.mark.parametrize(
    "name", ["netnewswire_subs.opml", "antennapod_podcasts.opml", "google_reader.opml"]
)
def test_round_trip_read_import_export_read(name: str, watchlist_file: Path) -> None:
    outlines = read_opml((OPML / name).read_bytes())
    people = group_outlines(outlines, person_from="folder", kind=FeedKind.BLOG)
    config.add_people(watchlist_file, people)
    exported = write_opml(config.load(watchlist_file))
    urls_back = [o.url for o in read_opml(exported.encode())]
    originals = ["https://robin.example.net/feed/", "https://dana.example.org/feed/"]
    # The watchlist keeps one of two spellings of a feed (NetNewsWire lists Katie Floyd's
    # feed with and without a trailing slash), so compare spelling-blind, and count too.
    assert len(urls_back) == len(set(map(same_feed, urls_back)))
    assert set(map(same_feed, urls_back)) == {same_feed(o.url) for o in outlines} | set(
        map(same_feed, originals)
    )
    assert "this comment must survive edits" in watchlist_file.read_text(encoding="utf-8")


def test_group_by_title_makes_one_person_per_feed() -> None:
    outlines = read_opml((OPML / "antennapod_podcasts.opml").read_bytes())
    people = group_outlines(outlines, person_from="title", kind=FeedKind.PODCAST)
    assert len(people) == 8
    assert people[0] == (
        "Alice Isn't Dead",
        [FeedRef("http://aliceisntdead.libsyn.com/rss", FeedKind.PODCAST, "Alice Isn't Dead")],
    )


# ---------------------------------------------------------------------------
# The commands


def test_cli_import_opml_dry_run_changes_nothing(watchlist_file: Path) -> None:
    before = watchlist_file.read_text(encoding="utf-8")
    result = engage(
        "import-opml", str(OPML / "google_reader.opml"), "--dry-run", cwd=watchlist_file.parent
    )
    assert result.returncode == 0, result.stderr
    assert "Presse: 1 feed" in result.stdout
    assert "dry run: 7 people, 22 feeds" in result.stdout
    assert watchlist_file.read_text(encoding="utf-8") == before


def test_cli_import_then_export(watchlist_file: Path) -> None:
    cwd = watchlist_file.parent
    result = engage("import-opml", str(OPML / "antennapod_podcasts.opml"),
                    "--person-from", "title", "--kind", "podcast", cwd=cwd)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "imported 8 feeds (8 new people)" in result.stdout
    again = engage("import-opml", str(OPML / "antennapod_podcasts.opml"), cwd=cwd)
    assert again.returncode == 0 and "imported 0 feeds" in again.stdout
    assert "8 already listed" in again.stdout
    loaded = config.load(watchlist_file)
    assert loaded.find("PodCastle") is not None
    assert all(f.kind == FeedKind.PODCAST for p in loaded.people[1:] for f in p.feeds)

    out = cwd / "out.opml"
    exported = engage("export-opml", "--output", str(out), cwd=cwd)
    assert exported.returncode == 0, exported.stderr
    assert len(read_opml(out.read_bytes())) == 10  # 8 podcasts + mine + Dana's
    to_stdout = engage("export-opml", cwd=cwd)
    assert to_stdout.stdout == out.read_text(encoding="utf-8")


def test_cli_add_a_page_adds_its_feed_and_comments_feed(
    httpserver: HTTPServer, watchlist_file: Path
) -> None:
    httpserver.expect_request("/").respond_with_data(
        (FEEDS / "discovery" / "whizzy_home.html").read_bytes(), content_type="text/html"
    )
    httpserver.expect_request("/feed/").respond_with_data(
        (FEEDS / "blogs" / "wp_whizzy_feed.xml").read_bytes(), content_type="application/rss+xml"
    )
    result = engage("add", httpserver.url_for("/"), "--person", "dana vell",
                    cwd=watchlist_file.parent)  # fmt: skip
    assert result.returncode == 0, result.stderr
    dana = config.load(watchlist_file).find("Dana Vell")
    assert dana is not None
    added = {(f.url, f.kind) for f in dana.feeds}
    assert (httpserver.url_for("/feed/"), FeedKind.BLOG) in added
    assert (httpserver.url_for("/comments/feed/"), FeedKind.COMMENTS) in added
    user_agents = {request.headers.get("User-Agent", "") for request, _ in httpserver.log}
    assert all(agent.startswith("engage/") and "+http" in agent for agent in user_agents)
    assert "# met at a meetup" in watchlist_file.read_text(encoding="utf-8")


def test_cli_add_creates_a_person_only_when_asked(
    httpserver: HTTPServer, watchlist_file: Path
) -> None:
    httpserver.expect_request("/podcast.rss").respond_with_data(
        (FEEDS / "podcasts" / "prx_itunes_feedburner.xml").read_bytes(), content_type="text/xml"
    )
    cwd = watchlist_file.parent
    refused = engage("add", httpserver.url_for("/podcast.rss"), "--person", "Dana Vel", cwd=cwd)
    assert refused.returncode == 2
    assert "did you mean 'Dana Vell'?" in refused.stderr and "Traceback" not in refused.stderr

    created = engage("add", httpserver.url_for("/podcast.rss"), "--person", "Cecil Palmer",
                     "--create", cwd=cwd)  # fmt: skip
    assert created.returncode == 0, created.stderr
    cecil = config.load(watchlist_file).find("Cecil Palmer")
    assert cecil is not None
    assert [(f.url, f.kind) for f in cecil.feeds] == [
        (httpserver.url_for("/podcast.rss"), FeedKind.PODCAST)
    ]


def test_cli_add_nothing_found_is_one_clear_line(
    httpserver: HTTPServer, watchlist_file: Path
) -> None:
    httpserver.expect_request("/").respond_with_data(
        "<html><head></head><body>no feeds</body></html>", content_type="text/html"
    )
    before = watchlist_file.read_text(encoding="utf-8")
    result = engage("add", httpserver.url_for("/"), "--person", "Dana Vell",
                    cwd=watchlist_file.parent)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("no feed found at ")
    assert result.stderr.count("\n") == 1
    assert watchlist_file.read_text(encoding="utf-8") == before


def test_cli_help_has_examples(tmp_path: Path) -> None:
    for command in ("add", "import-opml", "export-opml"):
        result = engage(command, "--help", cwd=tmp_path)
        assert result.returncode == 0 and "Example:" in result.stdout
