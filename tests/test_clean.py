"""engage.clean, the one cleaning step for text from the network, and where it is applied:
the feed parsers, page discovery, OPML, the watchlist editor and the watchlist loader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engage.clean import (
    NAME_CHARS,
    TITLE_CHARS,
    clean_line,
    clean_name,
    clean_text,
    clean_title,
    clean_url,
    describe,
    unsafe_characters,
)
from engage.config import add_people, add_person, control_character_warnings, load_text
from engage.errors import ConfigError, EngageError
from engage.models import FeedKind, FeedRef
from engage.poll.fields import clean_summary, http_url, plain_text
from engage.poll.jsonfeed import parse_json_feed
from engage.poll.opml import group_outlines, read_opml
from engage.poll.pages import discover_feed_links

ESC, BEL = "\x1b", "\x07"

CLEAN_TEXT = [
    # (situation, text, cleaned)
    ("plain text is returned as it is", "Hello, world — café", "Hello, world — café"),
    ("tabs and newlines stay in a body", "a\tb\nc", "a\tb\nc"),
    ("a CSI colour goes whole", f"{ESC}[31mRED{ESC}[0m", "RED"),
    ("an OSC 0 window title goes with its payload", f"T{ESC}]0;pwned{BEL}", "T"),
    ("an OSC 8 link keeps its visible text only",
     f"{ESC}]8;;http://evil.example/{BEL}click{ESC}]8;;{BEL}", "click"),
    ("an OSC ended by ST goes whole", f"a{ESC}]0;x{ESC}\\b", "ab"),
    ("a C1 CSI goes whole", "a\x9b1;31mb", "ab"),
    ("a C1 OSC ended by a C1 ST goes whole", "a\x9d0;x\x9cb", "ab"),
    ("a lone escape (ESC c resets the terminal) goes", f"a{ESC}cb", "ab"),
    ("an unterminated OSC loses its introducer", f"a{ESC}]0;x", "a0;x"),
    ("BEL, NUL, DEL and CR go", f"a{BEL}b\x00c\x7fd\re", "abcde"),
    ("every C1 control goes", "a" + "".join(map(chr, range(0x80, 0xA0))) + "b", "ab"),
    ("bidi overrides go", "\u202egnp.exe\u202c", "gnp.exe"),
    ("bidi isolates go", "\u2066a\u2067b\u2068c\u2069", "abc"),
    ("bidi marks are not overrides and stay", "a\u200fb", "a\u200fb"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "cleaned"), [r[1:] for r in CLEAN_TEXT],
                         ids=[r[0] for r in CLEAN_TEXT])  # fmt: skip
def test_clean_text(text: str, cleaned: str) -> None:
    assert clean_text(text) == cleaned
    assert not list(unsafe_characters(clean_text(text)))


def test_a_name_or_title_is_one_line_and_capped() -> None:
    assert clean_line(f"  Dana\n\tReyes {ESC}[1m ") == "Dana Reyes"
    long = "word " * 200
    assert len(clean_name(long)) == NAME_CHARS and clean_name(long).endswith("…")
    assert len(clean_title(long)) == TITLE_CHARS and clean_title(long).endswith("…")
    assert clean_title("Short") == "Short"


def test_a_url_keeps_its_identity_percent_encoded() -> None:
    assert clean_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    assert clean_url(f"http://x/a{ESC}]0;b c\u202e") == "http://x/a%1B]0;b%20c%E2%80%AE"


def test_unsafe_characters_and_their_names() -> None:
    assert list(unsafe_characters(f"a\nb{ESC}")) == [(3, ESC)]
    assert list(unsafe_characters(f"a\nb{ESC}", in_line=True)) == [(1, "\n"), (3, ESC)]
    assert describe(ESC) == "U+001B (ESC)"
    assert describe("\u202e") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert describe("\x85") == "U+0085 (a control character)"


# ---------------------------------------------------------------------------
# Where text enters


def test_feed_fields_are_cleaned_after_entities_are_decoded() -> None:
    # "&#27;" only becomes an escape character once unescaped: cleaning must come after.
    assert plain_text("Title &amp;#27;]0;pwned&amp;#7; end", None) == "Title ]0;pwned end"
    assert plain_text(f"A {ESC}]0;x{BEL}<b>bold</b>", None) == "A bold"
    assert plain_text("x" * 500, None) == "x" * (TITLE_CHARS - 1) + "…"
    assert plain_text("x" * 500, None, limit=NAME_CHARS).endswith("…")
    assert clean_summary(f"<p>a&#x1b;]0;x&#x7;b {ESC}[31mc</p>", "https://e.org/") == "<p>ab c</p>"
    assert http_url(f"https://e.org/p{ESC}q", None) == "https://e.org/p%1Bq"
    assert http_url(f"/p{BEL}", "https://e.org/") == "https://e.org/p%07"


def test_a_json_feed_carries_every_character_and_is_cleaned() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "T\\u001b]0;x\\u0007",'
        b' "items": [{"id": "1", "title": "P\\u009b31m\\u202e", "content_text": "B\\u001b[1m",'
        b' "authors": [{"name": "A\\u2066"}],'
        b' "attachments": [{"url": "https://e.org/a.mp3", "mime_type": "audio/mpeg\\u0085"}]}]}'
    )
    parsed = parse_json_feed(body, url="https://e.org/feed.json")
    entry = parsed.entries[0]
    assert (parsed.title, entry.title, entry.author) == ("T", "P", "A")
    assert entry.summary == "B"
    assert entry.enclosure is not None and entry.enclosure.type == "audio/mpeg"


def test_discovered_feed_titles_and_urls_are_cleaned() -> None:
    page = (
        '<link rel="alternate" type="application/rss+xml" '
        f'title="Feed {ESC}[31mred\u202e" href="/feed{ESC}/">'
    )
    (found,) = discover_feed_links(page, "https://e.org/")
    assert found.title == "Feed red"
    assert found.url == "https://e.org/feed%1B/"


def test_opml_titles_folders_and_urls_are_cleaned() -> None:
    text = (
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="Folder \u202eName\u202c">'
        '<outline title="Feed \x9b1m" xmlUrl="https://e.org/f\u202e/"/></outline>'
        "</body></opml>"
    )
    (outline,) = read_opml(text.encode())
    assert outline.folder == ("Folder Name",)
    assert outline.title == "Feed"
    assert outline.url == "https://e.org/f%E2%80%AE/"
    loose = f'<opml><body><outline title="T{ESC}]0;x{BEL}" xmlUrl="https://e.org/f"/>'
    (outline,) = read_opml(loose.encode())  # not XML (a raw ESC): read one tag at a time
    assert outline.title == "T"
    grouped = group_outlines(read_opml(loose.encode()), person_from="title", kind=FeedKind.BLOG)
    assert [name for name, _ in grouped] == ["T"]


# ---------------------------------------------------------------------------
# The watchlist: names refused, other text warned about, the editor writes clean text


BASE = "me:\n  name: Sam Rivera\npeople:\n"


@pytest.mark.parametrize(
    ("entry", "where", "character"),
    [
        ('  - name: "Evil\\nName: x"\n', "4:11: people[0].name", "U+000A (newline)"),
        ('  - name: Dana\n    aliases: ["d\\e]0;x\\a"]\n', "5:15: people[0].aliases[0]",
         "U+001B (ESC)"),
        ("  - name: Dana\u202e\n", "4:11: people[0].name", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ('  - name: "Tab\\tName"\n', "4:11: people[0].name", "U+0009 (tab)"),
    ],
    ids=["newline", "escape in an alias", "raw bidi override", "tab"],
)  # fmt: skip
def test_a_name_or_alias_with_a_control_character_is_refused_where_it_is(
    entry: str, where: str, character: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(BASE + entry, "feeds.yaml")
    assert caught.value.lines[0].startswith(f"feeds.yaml:{where}: ")
    assert f"holds {character}: a name is one line of plain text" in caught.value.lines[0]


def test_a_raw_control_character_is_reported_with_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(BASE + f"  - name: Dana\n    notes: a{ESC}b\n", "feeds.yaml")
    assert caught.value.lines == [
        "feeds.yaml:5:13: U+001B (ESC) is a control character, which YAML does not allow "
        "(remove it)"
    ]


def test_check_warns_about_control_characters_in_other_values_and_comments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        BASE + '  - name: Dana\n    notes: "see \\e[31mred"\n'
        "    feeds:\n      - {url: 'https://e.org/f', title: \"T\\x9b\"}\n"
        "# a comment with \u202e in it\n",
        encoding="utf-8",
    )
    load_text(path.read_text(encoding="utf-8"))  # loads: a warning, not an error
    warnings = control_character_warnings(path)
    assert [w.split(": warning: ")[0] for w in warnings] == [
        f"{path}:5:12", f"{path}:7:41", f"{path}:8:18",
    ]  # fmt: skip
    assert "people[0].notes holds U+001B (ESC)" in warnings[0]
    assert "people[0].feeds[0].title holds U+009B (CSI)" in warnings[1]
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) on this line" in warnings[2]
    done = subprocess.run(
        [sys.executable, "-m", "engage", "check", "--config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0
    assert done.stderr.splitlines() == warnings
    assert f"{path}: OK" in done.stdout


def test_add_person_refuses_a_name_with_a_control_character(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE, encoding="utf-8")
    with pytest.raises(EngageError, match=r"a name 'Evil\\nName: x' holds U\+000A \(newline\)"):
        add_person(path, "Evil\nName: x")
    with pytest.raises(EngageError, match=r"an alias '\\u202eevil' holds U\+202E"):
        add_person(path, "Dana", aliases=["\u202eevil"])
    assert path.read_text(encoding="utf-8") == BASE
    done = subprocess.run(
        [sys.executable, "-m", "engage", "add-person", "Evil\nName: x", "--config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "holds U+000A (newline)" in done.stderr
    assert path.read_text(encoding="utf-8") == BASE


def test_the_editor_cleans_names_titles_and_urls_from_the_network(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BASE, encoding="utf-8")
    feed = FeedRef(f"https://e.org/f{ESC}/", FeedKind.PODCAST, f"Show {ESC}]0;x{BEL}\u202e")
    assert add_people(path, [(f"Folder {ESC}[1mName\n", [feed])]) == (1, 1)
    text = path.read_text(encoding="utf-8")
    assert not list(unsafe_characters(text))
    assert "\\e" not in text and "\\u" not in text and "\\x" not in text
    person = load_text(text).people[0]
    assert person.name == "Folder Name"
    assert person.feeds[0].title == "Show"
    assert person.feeds[0].url == "https://e.org/f%1B/"
