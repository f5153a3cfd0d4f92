"""parse_feed on small synthetic bodies: one rule per case, each named for its situation."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest
from conftest import finishes

from engage.models import ParsedFeed
from engage.poll.fields import parse_date
from engage.poll.parse import duration_seconds, parse_feed


def rss(items: str, channel: str = "", ns: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {ns}><channel>'
        f"<title>T</title><link>https://blog.example/</link>{channel}{items}</channel></rss>"
    ).encode()


def one(body: bytes, url: str = "https://blog.example/feed/") -> ParsedFeed:
    parsed = parse_feed(body, url=url)
    assert parsed.error is None, parsed.error
    return parsed


BLUESKY = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>@alice.bsky.social - Alice</title>
<link>https://bsky.app/profile/alice.bsky.social</link><description>Alice</description>
<item><link>https://bsky.app/profile/alice.bsky.social/post/3lf2abc</link>
<description>Shipping the new release today, with thanks to everyone who tested the betas
over the holidays and sent reports</description>
<pubDate>14 Jan 2026 16:33 +0000</pubDate>
<guid isPermaLink="false">at://did:plc:abc123/app.bsky.feed.post/3lf2abc</guid></item>
<item><link>https://bsky.app/profile/alice.bsky.social/post/3lf2abd</link>
<description>[contains quote post or other embedded content]</description>
<pubDate>2 Feb 2026 09:05 +0100</pubDate>
<guid isPermaLink="false">at://did:plc:abc123/app.bsky.feed.post/3lf2abd</guid></item>
<item><link>https://bsky.app/profile/alice.bsky.social/post/3lf2abe</link>
<description>Look at this
[contains quote post or other embedded content]</description>
<pubDate>3 Feb 2026 10:00 +0000</pubDate>
<guid isPermaLink="false">at://did:plc:abc123/app.bsky.feed.post/3lf2abe</guid></item>
</channel></rss>"""


def test_bluesky_native_items_get_titles_dates_and_at_uri_ids() -> None:
    first, quote_only, quote_with_text = one(BLUESKY).entries
    assert first.id == "at://did:plc:abc123/app.bsky.feed.post/3lf2abc"
    assert first.published == datetime(2026, 1, 14, 16, 33, tzinfo=UTC)
    assert first.title is not None and first.title.startswith("Shipping the new release today")
    assert first.title.endswith("…") and len(first.title) <= 81
    assert quote_only.published == datetime(2026, 2, 2, 8, 5, tzinfo=UTC)
    assert quote_only.title is None  # nothing but the placeholder: no made-up title
    assert quote_with_text.title == "Look at this"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14 Jan 2026 16:33 +0000", datetime(2026, 1, 14, 16, 33, tzinfo=UTC)),
        ("Wed, 14 Jan 2026 16:33:10 GMT", datetime(2026, 1, 14, 16, 33, 10, tzinfo=UTC)),
        ("2026-01-14T16:33:00+02:00", datetime(2026, 1, 14, 14, 33, tzinfo=UTC)),
        ("2026-01-14T16:33:00", datetime(2026, 1, 14, 16, 33, tzinfo=UTC)),  # naive -> UTC
        ("14 January 26 16:33", datetime(2026, 1, 14, 16, 33, tzinfo=UTC)),  # 2-digit year
        ("not a date", None),
        ("31 Feb 2026 10:00 +0000", None),  # impossible day: no date rather than a wrong one
    ],
    ids=["bluesky", "rfc822", "iso-offset", "iso-naive", "two-digit-year", "garbage", "feb-31"],
)
def test_fallback_dates_are_timezone_aware(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("01:02:03", 3723), ("45:30", 2730), ("3600", 3600), ("", None), ("1:x", None),
     (None, None), ("1:2:3:4", None)],
    ids=["hh-mm-ss", "mm-ss", "seconds", "empty", "garbage", "missing", "too-many-parts"],
)  # fmt: skip
def test_itunes_duration(value: str | None, seconds: int | None) -> None:
    assert duration_seconds(value) == seconds


def test_entry_identity_guid_then_link_then_hash_and_first_duplicate_wins() -> None:
    body = rss(
        "<item><title>A</title><guid isPermaLink='false'>g-1</guid><link>https://blog.example/a</link></item>"
        "<item><title>A again</title><guid isPermaLink='false'>g-1</guid></item>"
        "<item><title>B</title><link>https://blog.example/b</link></item>"
        "<item><title>C</title><pubDate>Tue, 01 Jul 2025 10:00:00 +0000</pubDate></item>"
    )
    entries = one(body).entries
    assert [e.id for e in entries[:2]] == ["g-1", "https://blog.example/b"]
    assert entries[0].title == "A"  # the first of the duplicates
    assert entries[2].id.startswith("sha1:") and len(entries) == 3
    assert one(body).entries[2].id == entries[2].id  # stable across parses


def test_relative_links_resolve_and_summary_is_sanitized() -> None:
    body = rss(
        "<item><title>&lt;b&gt;Bold&lt;/b&gt; &amp;amp; more</title><link>/posts/1</link>"
        "<description><![CDATA[<p onclick='x()'>Hi <a href='/about'>me</a> "
        "<a href='javascript:alert(1)'>bad</a> <a href='https://me.example/x'>you</a>"
        "<script>alert(1)</script><img src='/i.png'></p>]]></description></item>"
    )
    entry = one(body).entries[0]
    assert entry.link == "https://blog.example/posts/1"
    assert entry.title == "Bold & more"
    assert 'href="https://blog.example/about"' in entry.summary
    assert 'rel="nofollow noopener noreferrer"' in entry.summary
    for banned in ("javascript", "onclick", "<script", "alert", "<img"):
        assert banned not in entry.summary
    assert entry.links == ("https://blog.example/about", "https://me.example/x")


def test_long_summary_is_capped_and_still_valid_html() -> None:
    paragraph = "<p><a href='https://x.example/'>" + "word " * 2000 + "</a></p>"
    entry = one(rss(f"<item><title>Long</title><description><![CDATA[{paragraph}]]>"
                    "</description></item>")).entries[0]  # fmt: skip
    assert len(entry.summary) < 3300
    assert entry.summary.endswith("</a></p>")  # nh3 closed what the cut left open


def test_enclosure_comment_links_counts_and_schedule_hints() -> None:
    ns = (
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'
    )
    body = rss(
        "<item><title>Ep 1</title><guid>e1</guid>"
        '<enclosure url="/media/ep1.mp3" type="audio/mpeg" length="1234"/>'
        "<itunes:duration>1:02:03</itunes:duration>"
        "<wfw:commentRss>/ep1/feed/</wfw:commentRss><slash:comments>7</slash:comments></item>",
        channel="<ttl>120</ttl><sy:updatePeriod>daily</sy:updatePeriod>"
        "<sy:updateFrequency>4</sy:updateFrequency>",
        ns=ns,
    )
    parsed = one(body)
    entry = parsed.entries[0]
    assert entry.enclosure is not None
    assert entry.enclosure.url == "https://blog.example/media/ep1.mp3"
    assert (entry.enclosure.type, entry.enclosure.length) == ("audio/mpeg", 1234)
    assert entry.enclosure.duration_seconds == 3723
    assert entry.comment_feeds == ("https://blog.example/ep1/feed/",)
    assert entry.comment_count == 7
    assert (parsed.ttl_minutes, parsed.update_minutes) == (120, 360)


def test_wordpress_reply_in_another_language_still_found() -> None:
    body = rss(
        "<item><title>Par : Will</title><link>/p/#comment-9</link>"
        '<description><![CDATA[<p>En réponse à <a href="/p/#comment-7">Ana</a>.</p>'
        "<p>Merci !</p>]]></description></item>"
    )
    entry = one(body).entries[0]
    assert entry.in_reply_to == "https://blog.example/p/#comment-7"
    assert entry.thread_url == "https://blog.example/p/"
    assert not entry.is_pingback


def test_thr_in_reply_to_a_sibling_comment_is_a_reply_to_that_comment() -> None:
    body = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
    xmlns:thr="http://purl.org/syndication/thread/1.0"><title>Comments</title>
    <link rel="alternate" href="https://blog.example/post"/>
    <entry><id>c1</id><title>first</title><updated>2025-01-01T00:00:00Z</updated>
      <link rel="alternate" href="https://blog.example/post#c1"/>
      <thr:in-reply-to ref="post-1" href="https://blog.example/post"/></entry>
    <entry><id>c2</id><title>answer</title><updated>2025-01-02T00:00:00Z</updated>
      <link rel="alternate" href="https://blog.example/post#c2"/>
      <thr:in-reply-to ref="c1" href="https://blog.example/post"/></entry>
    </feed>"""
    first, answer = one(body).entries
    assert first.thread_url == answer.thread_url == "https://blog.example/post"
    assert first.in_reply_to is None
    assert answer.in_reply_to == "https://blog.example/post#c1"


def test_blogger_threaded_reply_names_its_parent_with_rel_related() -> None:
    base = "https://www.blogger.com/feeds/1/2/comments/default/"
    body = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
    xmlns:thr="http://purl.org/syndication/thread/1.0"><title>Comments on B: post</title>
    <entry><id>tag:blogger.com,1999:blog-1.post-10</id><title>parent</title>
      <updated>2025-01-01T00:00:00Z</updated>
      <link rel="self" type="application/atom+xml" href="{base}10"/>
      <link rel="alternate" type="text/html" href="https://b.example/p.html?showComment=1#c10"/>
      <thr:in-reply-to href="https://b.example/p.html" ref="tag:blogger.com,1999:blog-1.post-2"/>
    </entry>
    <entry><id>tag:blogger.com,1999:blog-1.post-11</id><title>child</title>
      <updated>2025-01-02T00:00:00Z</updated>
      <link rel="self" type="application/atom+xml" href="{base}11"/>
      <link rel="related" type="application/atom+xml" href="{base}10"/>
      <link rel="alternate" type="text/html" href="https://b.example/p.html?showComment=2#c11"/>
      <thr:in-reply-to href="https://b.example/p.html" ref="tag:blogger.com,1999:blog-1.post-2"/>
    </entry></feed>""".encode()
    parent, child = one(body).entries
    assert parent.thread_url == child.thread_url == "https://b.example/p.html"
    assert parent.in_reply_to is None
    assert child.in_reply_to == "https://b.example/p.html?showComment=1#c10"


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b"", None, "empty"),
        (b"   \n", None, "empty"),
        (b"\x00\x01\x02 binary", None, "not a feed"),
        (b"<opml version='2.0'><body/></opml>", "text/xml", "not a feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}', None, None),
        (b"{not json", "application/json", "invalid JSON"),
        (b'{"hello": "world"}', None, "JSON Feed version"),
        (b"<html><head><title>x</title></head><body>hi</body></html>", None, "no feed link"),
    ],
    ids=["empty", "blank", "binary", "opml", "json-items-not-a-list", "bad-json",
         "json-not-jsonfeed", "html-without-feed-link"],
)  # fmt: skip
def test_unreadable_bodies_become_errors_not_exceptions(
    body: bytes, content_type: str | None, fragment: str | None
) -> None:
    parsed = parse_feed(body, url="https://x.example/feed", content_type=content_type)
    if fragment is None:
        assert parsed.error is None and parsed.entries == ()
    else:
        assert parsed.error is not None and fragment in parsed.error


def test_html_page_offers_the_feed_it_advertises() -> None:
    page = (
        b"<!DOCTYPE html><html><head>"
        b'<link rel="alternate" type="application/rss+xml" href="/feed/" title="Feed">'
        b"</head><body>hello</body></html>"
    )
    parsed = parse_feed(page, url="https://blog.example/", content_type="text/html")
    assert parsed.is_html
    assert parsed.discovered == ("https://blog.example/feed/",)
    assert parsed.error == (
        "this is a web page, not a feed; did you mean https://blog.example/feed/?"
    )


def test_rss_served_as_text_html_is_still_a_feed() -> None:
    parsed = parse_feed(rss("<item><title>A</title></item>"), url="https://b.example/f",
                        content_type="text/html; charset=utf-8")  # fmt: skip
    assert not parsed.is_html and len(parsed.entries) == 1


def test_entity_bomb_finishes_fast_without_expanding() -> None:
    levels = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    levels += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + ']><rss version="2.0">'
        "<channel><title>&lol9;</title><item><title>&lol9;</title><guid>1</guid>"
        "<description>&lol9;</description></item></channel></rss>"
    ).encode()
    body += b"<!-- padding -->" * 8000  # the measured case was ~127 KiB
    # feedparser's loose fallback took 36 s and 2.9 GB on such a feed: only a hang guard here.
    parsed = finishes(lambda: parse_feed(body, url="https://x.example/feed"))
    assert parsed.error is not None or parsed.entries
    for entry in parsed.entries:
        assert "lollol" not in (entry.title or "") + entry.summary


@pytest.mark.parametrize(
    ("prolog", "expect_entries"),
    [
        ('<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', True),
        ('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>', True),
        ('<!DOCTYPE rss [<!ENTITY x "unterminated', False),
    ],
    ids=["parameter-entity", "external-entity", "unterminated-subset"],
)
def test_external_and_broken_entity_declarations_never_reach_the_parser(
    prolog: str, expect_entries: bool
) -> None:
    body = (f'<?xml version="1.0"?>{prolog}<rss version="2.0"><channel><title>T</title>'
            "<item><title>&x;</title><guid>1</guid></item></channel></rss>").encode()  # fmt: skip
    parsed = parse_feed(body, url="https://x.example/feed")
    assert bool(parsed.entries) is expect_entries
    if not expect_entries:
        assert parsed.error is not None and "entit" in parsed.error
    assert all("root:" not in (e.title or "") + e.summary for e in parsed.entries)


def test_a_post_about_xml_entities_is_not_refused() -> None:
    body = rss("<item><title>XML tips</title><guid>1</guid><description>"
               "Write &lt;!ENTITY x \"y\"&gt; in a DTD. <![CDATA[<!ENTITY raw>]]></description>"
               "</item>")  # fmt: skip
    parsed = one(body)
    assert parsed.entries[0].title == "XML tips"


def test_parse_feed_is_a_picklable_top_level_function() -> None:
    assert pickle.loads(pickle.dumps(parse_feed)) is parse_feed
    parsed = parse_feed(BLUESKY, url="https://bsky.app/profile/alice.bsky.social/rss")
    assert pickle.loads(pickle.dumps(parsed)) == parsed


JSON_FEED_11 = b"""{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Pod &amp; Blog",
  "home_page_url": "https://pod.example/",
  "authors": [{"name": "Feed Author", "url": "https://pod.example/about"}],
  "items": [
    {"id": 17, "url": "/episodes/17", "content_text": "Plain text\\nwith <angle> brackets",
     "date_published": "2025-03-01T10:00:00+01:00",
     "attachments": [{"url": "https://cdn.pod.example/17.mp3", "mime_type": "audio/mpeg",
                      "size_in_bytes": 1000, "duration_in_seconds": 1800}]},
    {"id": "17", "title": "duplicate id: dropped"},
    {"url": "https://pod.example/notes/1", "title": "<b>Notes</b>",
     "content_html": "<p>See <a href='/episodes/17'>the episode</a></p>",
     "authors": [{"name": "Guest"}], "date_modified": "2025-03-02T00:00:00Z"},
    "not an object"
  ]
}"""


def test_json_feed_1_1_items_attachments_and_identity() -> None:
    parsed = parse_feed(JSON_FEED_11, url="https://pod.example/feed.json",
                        content_type="application/feed+json")  # fmt: skip
    assert parsed.error is None and parsed.title == "Pod & Blog"
    episode, notes = parsed.entries
    assert episode.id == "17" and episode.link == "https://pod.example/episodes/17"
    assert episode.title == "Plain text with <angle> brackets"
    assert "&lt;angle&gt;" in episode.summary  # text is escaped, never markup
    assert episode.published == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert (episode.author, episode.author_url) == ("Feed Author", "https://pod.example/about")
    assert episode.enclosure is not None and episode.enclosure.duration_seconds == 1800
    assert notes.id == "https://pod.example/notes/1" and notes.title == "Notes"
    assert notes.author == "Guest" and notes.author_url is None
    assert notes.published == notes.updated == datetime(2025, 3, 2, tzinfo=UTC)
    assert notes.links == ("https://pod.example/episodes/17",)
