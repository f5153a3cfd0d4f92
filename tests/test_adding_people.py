"""Adding people without friction: `met/log --create`, `log URL KIND` (the person found
from the URL's site), `add URL --person me`, and `engage init`. Commands run in-process
through engage.cli.main; `add` fetches from a local HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FEEDS
from inprocess import EngageCLI
from pytest_httpserver import HTTPServer

from engage import config

WATCHLIST = """\
# my watchlist; this comment must survive edits
me:
  name: Marian Novak
  sites: [https://marian.example/]
people:
  - name: Will Cooke   # writes about SIP phones
    aliases: [will]
    sites: [https://whizzy.example/]
  - name: Dov Teaselby
    feeds:
      - {url: "https://social.example.net/@dov.rss", kind: social}
  - name: Twin One
    sites: [https://twins.example/one/]
  - name: Twin Two
    sites: [https://twins.example/one/]
"""


class Engage(EngageCLI):
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
        super().__init__(tmp_path, capsys, text or None)


@pytest.fixture
def engage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    return Engage(tmp_path, capsys, WATCHLIST)


def test_met_create_adds_five_people_from_a_conference_in_five_commands(engage: Engage) -> None:
    names = ["Sergio Vela", "Ana Beltrán", "Hugo Lenz", "Ida Marsh", "Jun Park"]
    for name in names:
        code, out, err = engage("met", name, "--event", "PyCon", "--when", "yesterday", "--create")
        assert code == 0, err
        assert out.startswith(f"added {name} to people in {engage.config}\nlogged met_in_person")
    watchlist = config.load(engage.config)
    assert [p.name for p in watchlist.people][-5:] == names
    assert sorted(e["person"] for e in engage.events()) == sorted(names)
    text = engage.config.read_text(encoding="utf-8")
    assert "# my watchlist; this comment must survive edits" in text
    assert "# writes about SIP phones" in text
    assert engage("check")[0] == 0
    # Met again: they are in the watchlist now, nobody is added twice.
    code, out, _ = engage("met", "sergio vela", "--event", "PyCon", "--create")
    assert code == 0 and not out.startswith("added")


def test_without_create_an_unknown_person_is_refused_and_says_how(engage: Engage) -> None:
    before = engage.config.read_text(encoding="utf-8")
    code, _, err = engage("met", "Sergio Vela", "--event", "PyCon")
    assert code == 2
    assert "no person or contact named 'Sergio Vela'" in err and "pass --create" in err
    assert engage.config.read_text(encoding="utf-8") == before
    assert engage.events() == []


def test_log_create_adds_then_logs_and_a_mistyped_kind_adds_nobody(engage: Engage) -> None:
    before = engage.config.read_text(encoding="utf-8")
    code, _, err = engage("log", "Ana Beltrán", "shar", "--create")
    assert code == 2 and "unknown kind" in err
    assert engage.config.read_text(encoding="utf-8") == before
    code, out, err = engage("log", "Ana Beltrán", "dm-out", "--create")
    assert code == 0, err
    assert out.startswith("added Ana Beltrán to people")
    logged = [(e["person"], e["kind"]) for e in engage.events()]
    assert logged == [("Ana Beltrán", "my_email_or_dm")]


# (situation, URL, the person found, or the words of the error)
BY_URL = [
    ("a post on their site", "https://www.whizzy.example/2024/05/sip/", "Will Cooke"),
    ("the host of a feed only they have", "https://social.example.net/@dov/110431",
     "Dov Teaselby"),
    ("a site two people share", "https://twins.example/one/post",
     "could be Twin One or Twin Two's"),
    ("a site nobody has", "https://elsewhere.example/x",
     "nobody in {config} has the site elsewhere.example"),
    ("my own site", "https://marian.example/notes/", "is on your own site"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), [pytest.param(*r[1:], id=r[0]) for r in BY_URL])
def test_log_url_kind_finds_the_person_from_the_site(
    engage: Engage, url: str, expected: str
) -> None:
    code, out, err = engage("log", url, "their_share", "--when", "yesterday")
    if expected.endswith(("'s", "example", "site")):
        assert code == 2
        assert expected.format(config=engage.config) in err
        assert "engage log NAME KIND --url URL" in err
        assert engage.events() == []
    else:
        assert code == 0, err
        assert out.startswith(f"logged their_share with {expected}")
        (event,) = engage.events()
        assert (event["person"], event["url"]) == (expected, url)


def test_add_with_person_me_adds_my_feed_as_add_feed_me_does(
    engage: Engage, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed/").respond_with_data(
        (FEEDS / "blogs" / "wp_whizzy_feed.xml").read_bytes(), content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed/")
    code, out, err = engage("add", url, "--person", "me")
    assert code == 0, err
    assert f"added blog feed for Marian Novak: {url}" in out
    me = config.load(engage.config).me
    assert [f.url for f in me.feeds] == [url]
    assert "# my watchlist; this comment must survive edits" in engage.config.read_text("utf-8")


def test_init_writes_a_starter_that_passes_check_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engage = Engage(tmp_path, capsys, "")
    code, out, err = engage(
        "init", "--name", "Sam Rivera", "--alias", "Sam R.", "--site", "https://sam.example.net/",
            )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"Wrote {engage.config}.")
    written = engage.config.read_text(encoding="utf-8")
    watchlist = config.load(engage.config)
    assert (watchlist.me.name, watchlist.me.aliases, watchlist.me.sites) == (
        "Sam Rivera",
        ("Sam R.",),
        ("https://sam.example.net/",),
    )
    assert written.startswith("# engage watchlist")
    code, _, err = engage("check")
    assert code == 0 and "warning" not in err
    # Never over an existing file.
    code, _, err = engage("init", "--name", "Someone Else")
    assert code == 2 and "already exists" in err
    assert engage.config.read_text(encoding="utf-8") == written
    # The commands fill it in and keep its comments.
    code, _, err = engage("met", "Dana Reyes", "--event", "PyCon", "--create")
    assert code == 0, err
    after = engage.config.read_text(encoding="utf-8")
    assert "Dana Reyes" in after and "# The people I want to meet" in after
    assert "# People I already know" in after
    code, _, err = engage("add-feed", "me", "https://sam.example.net/feed/")
    assert code == 0, err
    assert "  feeds:\n    - https://sam.example.net/feed/\n  # Posts about these" in (
        engage.config.read_text(encoding="utf-8")
    )
    assert engage("check")[0] == 0


def test_init_refuses_a_bad_site_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engage = Engage(tmp_path, capsys, "")
    code, _, err = engage("init", "--name", "Sam", "--site", "sam.example.net")
    assert code == 2 and "site URL" in err
    assert not engage.config.exists()
