"""parse_feed on the real corpus in ../shared/feeds and ../shared/robustness.

Expectations were worked out by reading the files and MANIFEST.tsv, not by running the code.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import pytest
from conftest import FEEDS, ROBUSTNESS, finishes

from engage.models import ParsedFeed
from engage.poll.parse import parse_feed


def parse(relative: str, url: str = "https://example.org/feed") -> ParsedFeed:
    return parse_feed((FEEDS / relative).read_bytes(), url=url)


def manifest() -> list[dict[str, str]]:
    with (FEEDS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


FEED_ROWS = [
    row
    for row in manifest()
    if row["kind"].split("/")[0] in ("blog", "podcast", "social", "comments", "broken", "edge")
]
# Entries that share a GUID count once (Scripting News repeats two items' GUIDs, read from
# the file); JSON Feed counts come from the MANIFEST notes ("items=48"), not feedparser's 0.
EXPECTED_COUNTS = {
    "blogs/scriptingnews.rss": 48,
    "blogs/daringfireball.json": 48,
    "blogs/jsonfeed_cowboyprogrammer.json": 10,
}


@pytest.mark.parametrize("row", FEED_ROWS, ids=[row["file"] for row in FEED_ROWS])
def test_every_corpus_feed_parses_with_its_entry_count(row: dict[str, str]) -> None:
    parsed = parse(row["file"])
    assert parsed.error is None, parsed.error
    expected = EXPECTED_COUNTS.get(row["file"], int(row["entries"]))
    assert len(parsed.entries) == expected
    assert len({entry.id for entry in parsed.entries}) == expected
    for entry in parsed.entries:
        for when in (entry.published, entry.updated):
            assert when is None or when.tzinfo is not None
        assert entry.link is None or entry.link.startswith(("http://", "https://"))
        assert all(link.startswith(("http://", "https://")) for link in entry.links)
        assert "<script" not in entry.summary and len(entry.summary) < 4000


@pytest.mark.parametrize(
    "relative",
    [p.relative_to(FEEDS).as_posix() for p in sorted((FEEDS / "discovery").glob("*.html"))],
)
def test_html_pages_are_reported_as_pages(relative: str) -> None:
    parsed = parse(relative)
    assert parsed.is_html and parsed.error is not None and not parsed.entries


def test_whizzy_posts_feed_resolves_static_export_links_against_the_site() -> None:
    parsed = parse("blogs/wp_whizzy_feed.xml", url="https://whizzy.org/feed/")
    assert parsed.link == "https://whizzy.org/"
    assert parsed.update_minutes == 60  # sy:updatePeriod hourly, frequency 1
    first = parsed.entries[0]
    assert first.title == "Finally moving to a static site"
    assert first.link == "https://whizzy.org/2021/07/14/finally-moving-to-a-static-site/"
    assert first.published == datetime(2021, 7, 14, 13, 46, 20, tzinfo=UTC)
    assert first.author == "will"
    pihole = next(e for e in parsed.entries if e.title == "Double helping of Pi Hole")
    assert pihole.comment_feeds == (
        "https://whizzy.org/2021/01/02/double-helping-of-pi-hole/feed/",
    )
    assert pihole.comment_count == 4
    assert sum(1 for e in parsed.entries if e.comment_feeds) == 24  # wfw:commentRss x24


def test_jekyll_relative_entry_links_use_the_feed_url() -> None:
    parsed = parse("blogs/jekyll_qemu.atom", url="https://www.qemu.org/feed.xml")
    first = parsed.entries[0]
    assert first.title == "QEMU version 10.1.0 released"
    assert first.link == "https://www.qemu.org/2025/08/26/qemu-10-1-0/"
    assert first.published == datetime(2025, 8, 26, 23, 25, tzinfo=UTC)
    assert all(e.link and e.link.startswith("https://www.qemu.org/20") for e in parsed.entries)


def test_relative_channel_and_item_links_with_two_digit_years() -> None:
    parsed = parse("broken/relative_urls.xml", url="https://www.arcgames.com/en/games/nw/rss")
    assert parsed.link == "https://www.arcgames.com/en/games/neverwinter/news"
    assert parsed.ttl_minutes == 60
    first = parsed.entries[0]
    assert first.title == "Neverwinter & Jingle Jam Humble Bundle!"
    assert first.link is not None and first.link.startswith(
        "https://www.arcgames.com/en/games/neverwinter/news/detail/10743874-"
    )
    assert first.published == datetime(2017, 12, 7, 18, 0, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("relative", "feed_title", "entry_title"),
    [
        ("broken/golem_iso8859-1.xml", "Golem.de",
         "Red Dead Redemption 2: Hinweise auf PC-Umsetzung in App von Rockstar Games"),
        ("broken/ibash_windows1251.xml", "iBash.Org.Ru", "Цитата #17703"),
        ("broken/uol_encoding_override.rss", "UOL Noticias",
         "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"),
    ],
    ids=["declared-latin1", "declared-windows-1251", "utf8-declared-but-cp1252"],
)  # fmt: skip
def test_non_utf8_encodings_decode_to_the_right_text(
    relative: str, feed_title: str, entry_title: str
) -> None:
    parsed = parse(relative)
    assert parsed.title == feed_title
    assert parsed.entries[0].title == entry_title


def test_localized_portuguese_dates_are_read() -> None:
    first = parse("broken/uol_encoding_override.rss").entries[0]
    assert first.published == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)  # -0300


def test_html_in_titles_becomes_plain_text() -> None:
    titles = [e.title or "" for e in parse("broken/google_alerts_html_titles.atom").entries]
    assert titles[0].startswith("Report offers Prediction of Automotive Slack Market")
    assert titles[1] == "Slack Stock Has a Compelling Story and the Numbers to Back It Up"
    assert not any("<" in t for t in titles)


def test_untitled_items_get_a_title_from_their_text() -> None:
    mastodon = parse("social/mastodon_lissy93_2024-03.rss").entries
    assert all(e.title for e in mastodon)
    scripting = parse("blogs/scriptingnews.rss").entries
    assert all(e.title for e in scripting if e.summary)


def test_podcast_enclosures_and_durations() -> None:
    first = parse("podcasts/atp.rss").entries[0]
    assert first.title == "311: Mutually Assured Destruction"
    assert first.enclosure is not None
    assert first.enclosure.url == "http://traffic.libsyn.com/atpfm/atp311.mp3"
    assert (first.enclosure.type, first.enclosure.length) == ("audio/mpeg", 54919661)
    assert first.enclosure.duration_seconds == 1 * 3600 + 54 * 60 + 9  # 01:54:09
    assert all(e.enclosure for e in parse("podcasts/radio_france.xml").entries)


def test_blogger_posts_keep_only_feed_typed_replies_links_and_thr_total() -> None:
    parsed = parse(
        "blogs/blogger_jorge_posts.atom",
        url="http://jorgeelconstructor.blogspot.com/feeds/posts/default",
    )
    first = parsed.entries[0]
    # Two rel="replies" links per entry: the Atom comment feed and the text/html form.
    assert first.comment_feeds == (
        "http://jorgeelconstructor.blogspot.com/feeds/3000671474187976795/comments/default",
    )
    assert first.comment_count == 1
    assert all(len(e.comment_feeds) == 1 for e in parsed.entries)
    assert parsed.generator == "Blogger"


def test_wordpress_per_post_comments_replies_and_pingbacks() -> None:
    url = "https://whizzy.org/2021/01/02/double-helping-of-pi-hole/feed/"
    will, marian, late_night, techrights = parse(
        "comments/wp_whizzy_post_pihole_comments.xml", url=url
    ).entries
    post = "https://whizzy.org/2021/01/02/double-helping-of-pi-hole/"
    assert {c.thread_url for c in (will, marian, late_night, techrights)} == {post}
    assert will.author == "will" and will.link == post + "#comment-4016"
    assert will.in_reply_to == post + "#comment-3920"  # "In reply to <a …#comment-3920>Marian"
    assert marian.in_reply_to is None and not marian.is_pingback
    assert late_night.is_pingback and techrights.is_pingback  # "[…] excerpt […]"
    assert not will.is_pingback
    assert techrights.author is not None and techrights.author.endswith("| Techrights")


def test_wordpress_site_comments_feed_mixes_replies_and_comments() -> None:
    parsed = parse("comments/wp_whizzy_comments.xml", url="https://whizzy.org/comments/feed/")
    assert len(parsed.entries) == 50
    by_will = [c for c in parsed.entries if c.author == "Will Cooke"]
    assert len(by_will) == 6
    assert all(c.in_reply_to and "#comment-" in c.in_reply_to for c in by_will)
    assert all(c.thread_url and "#" not in c.thread_url for c in parsed.entries)
    assert not any(c.is_pingback for c in by_will)


def test_polish_pingbacks_are_all_pingbacks() -> None:
    parsed = parse("comments/wp_siwinski_comments_pl.xml")
    assert len(parsed.entries) == 10 and all(c.is_pingback for c in parsed.entries)
    first = parsed.entries[0]
    assert first.author == "Git How To | Continous Integration"
    assert first.thread_url == "http://blog.siwinski.info/dev/splitting-one-commit-into-many-in-git"


def test_blogger_comments_point_at_their_post() -> None:
    parsed = parse(
        "comments/blogger_jorge_post_comments.atom",
        url="http://www.blogger.com/feeds/1610088654917055211/3425845675518558571/comments/default",
    )
    post = "http://jorgeelconstructor.blogspot.com/2010/07/bienvendos.html"
    assert [c.thread_url for c in parsed.entries] == [post] * 3
    assert [c.in_reply_to for c in parsed.entries] == [None] * 3  # all answer the post
    assert [c.author for c in parsed.entries] == ["Anonymous", "Elo", "Anonymous"]
    author = parse("comments/blogger_jorge_post_author_comment.atom").entries[0]
    assert author.author == "Jorge el constructor"
    assert author.author_url == "https://www.blogger.com/profile/18030591056960525462"
    assert author.thread_url == "http://jorgeelconstructor.blogspot.com/2012/04/timanfaya.html"


def test_disqus_mention_of_an_earlier_comment_is_a_reply() -> None:
    greg, hans = parse("comments/disqus_swcarpentry.rss").entries
    thread = "http://software-carpentry.org/2012/11/who-wants-to-write-a-little-code/"
    assert greg.author == "Greg Wilson" and greg.thread_url == thread
    assert greg.in_reply_to == thread + "#comment-53503"  # <a href="#comment-53503">@Hans…
    assert hans.in_reply_to is None


def test_json_feed_items_authors_and_dates() -> None:
    parsed = parse("blogs/daringfireball.json", url="https://daringfireball.net/feeds/json")
    assert parsed.title == "Daring Fireball" and parsed.link == "https://daringfireball.net/"
    first = parsed.entries[0]
    assert first.title == "The Talk Show: ‘I Do Like Throwing a Baby’"
    assert first.id == "https://daringfireball.net/linked/2017/06/26/the-talk-show-195"
    assert first.published == datetime(2017, 6, 27, 0, 54, 17, tzinfo=UTC)
    assert first.author == "John Gruber"
    assert "https://daringfireball.net/thetalkshow/2017/06/26/ep-195" in first.links
    assert "https://squarespace.com/talkshow" in first.links


def test_every_robustness_file_ends_as_entries_or_an_error() -> None:
    files = sorted(p for p in ROBUSTNESS.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) > 1300
    for path in files:
        body = path.read_bytes()
        url = "https://validator.example/" + path.name
        parsed = finishes(lambda: parse_feed(body, url=url))  # noqa: B023 (called at once)
        assert isinstance(parsed, ParsedFeed), path
        assert (
            parsed.entries
            or parsed.error is not None
            or parsed.title is not None
            or (parsed.link is not None)
        ), path  # an empty but valid feed still says what it is
