"""The fictional websites the demo server plays, and the feed XML they publish.

Everyone here is invented (the names say so) and every public-looking address is under
example.org / example.net / example.com. Each site is described compactly (posts,
comments, episodes, toots, each "N days ago") and rendered to the formats real sites use:
WordPress RSS 2.0 and Atom with wfw:commentRss / rel="replies", WordPress's Atom comment
feeds (each comment's author name and website, thr:in-reply-to, and the "In reply to
<a href=…#comment-N>" lead of a threaded answer), a podcast feed with enclosures, and a
Mastodon-style feed whose items have no titles.

The comment feeds are the Atom ones WordPress also publishes (/comments/feed/atom/),
served here at the addresses engage polls (/comments/feed/ and each post's /feed/), because
only they carry the commenter's website: that is how engage confirms that a comment signed
"Wren Inkwell" is mine. A stranger who signs "Wren" with her own website is matched on the
name alone, and waits for `engage review` instead of counting.

Two addresses per site, on purpose: the feeds (and each feed's home link, from which
engage guesses the site-wide comment feed) are served by the local server under one
folder per person (http://127.0.0.1:PORT/ada/…), while people's sites, permalinks and
links between posts stay on example.org-style hosts, as they would on the real web. A
person's identity is matched by their `sites:` in feeds.yaml, so nothing that names a
person points at 127.0.0.1, where every demo blog lives.

Dates are relative to `now`, the moment the server starts, so `engage status` gives the
same verdicts whatever the day: ready, in dialogue, noticed, cold, went cold.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

# Who is who. The names are shared with demo/feeds.yaml.template and tests/test_demo.py.
ME = "Wren Inkwell"
ADA = "Ada Lanternfield"  # ready to ask
BRAM = "Bram Quillhaven"  # in dialogue: needs one more reply
CYRA = "Cyra Moonwhistle"  # noticed; a contact comments on her blog
DOV = "Dov Teaselby"  # cold until the demo logs a meeting with him
ESME = "Esme Fernwhistle"  # cold: a podcast I only listen to
FENN = "Fenn Marrowby"  # went cold: we talked three months ago
HOLLIS = "Hollis Pennywhistle"  # a contact of mine, who could introduce me to Cyra
STRANGER = "Marlo Finch"  # another reader, not in the watchlist: their comments count for nothing
# A stranger who shares my first name (my alias "wren"): her comment, and Ada's answer to
# it, wait for review instead of counting.
NAMESAKE = "Wren"

# The website each commenter gives WordPress: it is the author URL of their comments.
WEBSITES: Mapping[str, str] = {
    ME: "https://wren.example.net/",
    ADA: "https://ada.example.org/",
    BRAM: "https://bram.example.org/",
    CYRA: "https://cyra.example.org/",
    FENN: "https://fenn.example.com/",
    HOLLIS: "https://hollis.example.com/",
    STRANGER: "https://marlo.example.com/",
    NAMESAKE: "https://wrens-bakery.example.com/",
}

RSS_NAMESPACES = {
    "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
    "xmlns:dc": "http://purl.org/dc/elements/1.1/",
    "xmlns:wfw": "http://wellformedweb.org/CommentAPI/",
    "xmlns:slash": "http://purl.org/rss/1.0/modules/slash/",
    "xmlns:atom": "http://www.w3.org/2005/Atom",
}
WORDPRESS = "https://wordpress.org/?v=6.4.2"


# ---------------------------------------------------------------------------
# The compact description


@dataclass(frozen=True)
class Post:
    slug: str
    title: str
    days_ago: float
    body: str  # HTML; links in it must be absolute (they are how shares are found)


@dataclass(frozen=True)
class Comment:
    """A WordPress comment: its permalink is the post's URL + #comment-<number>."""

    number: int
    post: str  # the slug of the post it is on
    author: str
    days_ago: float
    text: str
    reply_to: int | None = None  # the comment it answers ("In reply to …")


@dataclass(frozen=True)
class Blog:
    folder: str  # where the local server serves it: "ada" → /ada/feed/
    site: str  # the public-looking site: permalinks live here
    title: str
    owner: str
    posts: tuple[Post, ...]
    comments: tuple[Comment, ...] = ()
    atom: bool = False  # WordPress's Atom feed (/feed/atom/) instead of RSS 2.0 (/feed/)


@dataclass(frozen=True)
class Toot:
    number: int
    days_ago: float
    text: str


@dataclass(frozen=True)
class Social:
    folder: str
    profile: str  # https://social.example.net/@dov
    owner: str
    toots: tuple[Toot, ...]


@dataclass(frozen=True)
class Episode:
    number: int
    title: str
    days_ago: float
    minutes: int
    notes: str


@dataclass(frozen=True)
class Podcast:
    folder: str
    site: str
    title: str
    owner: str
    episodes: tuple[Episode, ...]


MY_BLOG = Blog(
    folder="wren",
    site="https://wren.example.net/",
    title="Wren's commonplace",
    owner=ME,
    posts=(
        Post(
            "notes-on-slow-feeds",
            "Notes on slow feeds",
            8.2,
            "<p>Bram's <a href=\"https://bram.example.org/a-small-web-directory/\">small web "
            "directory</a> made me rethink my own reading list: fewer feeds, read slowly.</p>",
        ),
        Post(
            "why-i-keep-a-commonplace-book",
            "Why I keep a commonplace book",
            15.1,
            "<p>Index cards, a shoebox, and a rule: copy by hand, comment in the margin.</p>",
        ),
    ),
    comments=(
        Comment(
            3,
            "why-i-keep-a-commonplace-book",
            ADA,
            9.3,
            "Lovely. I keep mine in plain text files; the margin notes are the best part.",
        ),
    ),
)

BLOGS: tuple[Blog, ...] = (
    Blog(
        folder="ada",
        site="https://ada.example.org/",
        title="Ada's notebook",
        owner=ADA,
        posts=(
            Post("feeds-are-a-promise", "Feeds are a promise", 22.0,
                 "<p>Publishing a feed is a promise to keep the URL working.</p>"),
            Post("moderating-comments-by-hand", "Moderating comments by hand", 14.0,
                 "<p>Every comment on this site is read by a person: me.</p>"),
            Post("what-a-blogroll-is-for", "What a blogroll is for", 6.0,
                 "<p>A blogroll is a list of people you would introduce to each other.</p>"),
        ),
        comments=(
            Comment(101, "feeds-are-a-promise", ME, 21.0,
                    "Yes! I moved my blog twice and kept every old feed URL redirecting."),
            Comment(102, "feeds-are-a-promise", ADA, 20.0,
                    "Thank you, that is exactly the discipline I mean.", reply_to=101),
            Comment(117, "moderating-comments-by-hand", ME, 13.0,
                    "Do you answer every comment too, or only the questions?"),
            Comment(131, "what-a-blogroll-is-for", ME, 5.0,
                    "Mine doubles as a list of people I hope to meet one day."),
            Comment(132, "what-a-blogroll-is-for", ADA, 4.0,
                    "Ha, same. Send me yours and I will add it to my reading list.",
                    reply_to=131),
            Comment(133, "what-a-blogroll-is-for", STRANGER, 3.0, "Great post, thanks."),
            Comment(140, "feeds-are-a-promise", NAMESAKE, 1.5,
                    "I run a bakery's blog and never thought about old feed URLs. Noted!"),
            Comment(141, "feeds-are-a-promise", ADA, 1.0,
                    "Thanks, Wren! Good luck with the bakery.", reply_to=140),
        ),
    ),
    Blog(
        folder="bram",
        site="https://bram.example.org/",
        title="Bram's workshop",
        owner=BRAM,
        atom=True,
        posts=(
            Post("a-small-web-directory", "A small web directory, by hand", 11.0,
                 "<p>I am listing personal sites by hand again, one at a time.</p>"),
            Post("a-year-of-weeknotes", "A year of weeknotes", 7.0,
                 "<p>Fifty-two short posts, and what they taught me about writing.</p>"),
        ),
        comments=(
            Comment(41, "a-small-web-directory", ME, 10.0,
                    "How do you decide what gets in? I would love a submission form."),
            Comment(42, "a-small-web-directory", BRAM, 9.0,
                    "No form on purpose: I only list sites I have read for a month.",
                    reply_to=41),
            Comment(48, "a-year-of-weeknotes", ME, 6.0,
                    "Weeknotes got me writing again too. Which week was the hardest?"),
        ),
    ),
    Blog(
        folder="cyra",
        site="https://cyra.example.org/",
        title="Cyra listens",
        owner=CYRA,
        posts=(
            Post("tape-loops-for-beginners", "Tape loops for beginners", 30.0,
                 "<p>A cassette, scissors and some patience.</p>"),
            Post("field-recordings-from-the-ferry", "Field recordings from the ferry", 4.0,
                 "<p>Forty minutes of engines, gulls and a brass band.</p>"),
        ),
        comments=(
            Comment(5, "tape-loops-for-beginners", HOLLIS, 29.0,
                    "Brought back memories of our studio days. Still have the splicer?"),
            Comment(6, "field-recordings-from-the-ferry", HOLLIS, 3.5,
                    "The gulls at minute twelve! Which recorder was this?"),
            Comment(7, "field-recordings-from-the-ferry", CYRA, 3.2,
                    "The old handheld one you lent me, Hollis.", reply_to=6),
            Comment(8, "field-recordings-from-the-ferry", ME, 2.0,
                    "I listened on my commute: the brass band made my morning."),
        ),
    ),
    Blog(
        folder="fenn",
        site="https://fenn.example.com/",
        title="Fenn on foot",
        owner=FENN,
        posts=(
            Post("walking-the-old-canal", "Walking the old canal", 100.0,
                 "<p>Twelve miles of towpath and three locks that still work.</p>"),
            Post("maps-i-love", "Maps I love", 96.0,
                 "<p>Hand-drawn, out of date, and more useful than my phone.</p>"),
            Post("back-from-a-long-break", "Back from a long break", 2.0,
                 "<p>Three months without writing; here is what I walked instead.</p>"),
        ),
        comments=(
            Comment(21, "walking-the-old-canal", ME, 98.0, "Which locks? I want to go."),
            Comment(22, "walking-the-old-canal", FENN, 97.0,
                    "The three north of the old mill; go in spring.", reply_to=21),
            Comment(27, "maps-i-love", ME, 95.0, "Do you sell copies of your own maps?"),
            Comment(28, "maps-i-love", FENN, 90.0, "Not yet, but you would be first.",
                    reply_to=27),
        ),
    ),
)

# Dov posts on a Mastodon-style server: its RSS items have no titles.
SOCIAL = Social(
    folder="dov",
    profile="https://social.example.net/@dov",
    owner=DOV,
    toots=(
        Toot(110431, 1.0, "<p>Slides from tonight's small web meetup are up. Thanks all!</p>"),
        Toot(110377, 3.0, "<p>Trying a paper notebook for a month. Day one: ink everywhere.</p>"),
        Toot(110290, 8.0, "<p>Anyone running a comment form without JavaScript?</p>"),
    ),
)

PODCAST = Podcast(
    folder="esme",
    site="https://esme.example.org/",
    title="Kettle On",
    owner=ESME,
    episodes=(
        Episode(14, "Podcasting on a shoestring", 2.0, 41,
                "<p>Microphones under 50, and why the room matters more.</p>"),
        Episode(13, "Listener letters & show notes", 9.0, 28,
                "<p>Your questions about show notes.</p>"),
        Episode(12, "Interviews without video", 16.0, 47,
                "<p>How to hear a smile: audio-only interviews.</p>"),
    ),
)


# ---------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def _at(now: datetime, days_ago: float) -> datetime:
    return (now - timedelta(days=days_ago)).astimezone(UTC).replace(microsecond=0)


def _rfc822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """One child element. ElementTree escapes text and attributes; prefixed names
    (dc:creator) are written as given, their namespaces declared on the root by hand."""
    element = ET.SubElement(parent, tag, {k.replace("__", ":"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)  # readable when a newcomer opens a feed in the browser
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def permalink(blog: Blog, slug: str) -> str:
    return f"{blog.site}{slug}/"


def _comment_link(blog: Blog, comment: Comment) -> str:
    return f"{permalink(blog, comment.post)}#comment-{comment.number}"


def _post_id(blog: Blog, slug: str) -> int:
    """A stable WordPress-like post number, for guids (?p=N)."""
    return 100 + [p.slug for p in blog.posts].index(slug)


def _comment_html(blog: Blog, comment: Comment) -> str:
    """WordPress's threaded answer: 'In reply to <a href=…#comment-N>Name</a>.' first."""
    text = f"<p>{_escape(comment.text)}</p>"
    if comment.reply_to is None:
        return text
    parent = next(c for c in blog.comments if c.number == comment.reply_to)
    href = f"{permalink(blog, parent.post)}#comment-{parent.number}"
    return f'<p>In reply to <a href="{href}">{_escape(parent.author)}</a>.</p>\n{text}'


def _escape(text: str) -> str:
    """HTML inside a feed's text: escaped once here, and once more by ElementTree."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;"
    )


def _rss(
    title: str, home: str, self_url: str, description: str, generator: str | None
) -> tuple[ET.Element, ET.Element]:
    """An RSS 2.0 document and its channel, with the namespaces WordPress declares."""
    rss = ET.Element("rss", {"version": "2.0", **RSS_NAMESPACES})
    channel = _sub(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "atom:link", href=self_url, rel="self", type="application/rss+xml")
    _sub(channel, "link", home)
    _sub(channel, "description", description)
    _sub(channel, "language", "en")
    if generator:
        _sub(channel, "generator", generator)
    return rss, channel


def blog_posts_rss(blog: Blog, base: str, now: datetime) -> bytes:
    home = f"{base}/{blog.folder}/"
    rss, channel = _rss(blog.title, home, f"{home}feed/", f"{blog.owner}'s blog", WORDPRESS)
    for post in sorted(blog.posts, key=lambda p: p.days_ago):
        item = _sub(channel, "item")
        _sub(item, "title", post.title)
        _sub(item, "link", permalink(blog, post.slug))
        _sub(item, "dc:creator", blog.owner)
        _sub(item, "pubDate", _rfc822(_at(now, post.days_ago)))
        _sub(item, "guid", f"{blog.site}?p={_post_id(blog, post.slug)}", isPermaLink="false")
        _sub(item, "description", post.body)
        _sub(item, "content:encoded", post.body)
        _sub(item, "comments", permalink(blog, post.slug) + "#comments")
        _sub(item, "wfw:commentRss", f"{home}{post.slug}/feed/")
        count = sum(c.post == post.slug for c in blog.comments)
        _sub(item, "slash:comments", str(count))
    return _xml(rss)


def blog_posts_atom(blog: Blog, base: str, now: datetime) -> bytes:
    """WordPress's /feed/atom/: rel="replies" links point at each post's comment feed."""
    home = f"{base}/{blog.folder}/"
    feed = ET.Element(
        "feed",
        {
            "xmlns": "http://www.w3.org/2005/Atom",
            "xmlns:thr": "http://purl.org/syndication/thread/1.0",
            "xml:lang": "en",
        },
    )
    _sub(feed, "title", blog.title, type="text")
    newest = min(p.days_ago for p in blog.posts)
    _sub(feed, "updated", _iso(_at(now, newest)))
    _sub(feed, "link", rel="alternate", type="text/html", href=home)
    _sub(feed, "id", f"{home}feed/atom/")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{home}feed/atom/")
    _sub(feed, "generator", "WordPress", uri="https://wordpress.org/", version="6.4.2")
    for post in sorted(blog.posts, key=lambda p: p.days_ago):
        entry = _sub(feed, "entry")
        author = _sub(entry, "author")
        _sub(author, "name", blog.owner)
        _sub(author, "uri", blog.site)
        _sub(entry, "title", post.title, type="html")
        _sub(entry, "link", rel="alternate", type="text/html", href=permalink(blog, post.slug))
        _sub(entry, "id", f"{blog.site}?p={_post_id(blog, post.slug)}")
        when = _iso(_at(now, post.days_ago))
        _sub(entry, "updated", when)
        _sub(entry, "published", when)
        _sub(entry, "content", post.body, type="html")
        count = str(sum(c.post == post.slug for c in blog.comments))
        _sub(
            entry, "link", rel="replies", type="application/rss+xml",
            href=f"{home}{post.slug}/feed/", thr__count=count,
        )  # fmt: skip
        _sub(entry, "thr:total", count)
    return _xml(feed)


def _comment_guid(blog: Blog, comment: Comment) -> str:
    return f"{blog.site}?p={_post_id(blog, comment.post)}#comment-{comment.number}"


def comments_atom(blog: Blog, base: str, now: datetime, post: Post | None = None) -> bytes:
    """WordPress's Atom comment feed, site-wide or one post's: each entry carries the
    author's name and website, and thr:in-reply-to names the comment (or post) answered."""
    home = f"{base}/{blog.folder}/"
    if post is None:
        title, self_url = f"Comments for {blog.title}", f"{home}comments/feed/"
        chosen = blog.comments
    else:
        title, self_url = f"Comments on: {post.title}", f"{home}{post.slug}/feed/"
        chosen = tuple(c for c in blog.comments if c.post == post.slug)
    feed = ET.Element(
        "feed",
        {
            "xmlns": "http://www.w3.org/2005/Atom",
            "xmlns:thr": "http://purl.org/syndication/thread/1.0",
            "xml:lang": "en",
        },
    )
    _sub(feed, "title", title, type="text")
    newest = min((c.days_ago for c in chosen), default=0.0)
    _sub(feed, "updated", _iso(_at(now, newest)))
    _sub(feed, "link", rel="alternate", type="text/html", href=home)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "id", self_url)
    _sub(feed, "generator", "WordPress", uri="https://wordpress.org/", version="6.4.2")
    titles = {p.slug: p.title for p in blog.posts}
    by_number = {c.number: c for c in blog.comments}
    for comment in sorted(chosen, key=lambda c: c.days_ago):
        entry = _sub(feed, "entry")
        _sub(entry, "title", f"Comment on {titles[comment.post]} by {comment.author}", type="html")
        link = _comment_link(blog, comment)
        _sub(entry, "link", rel="alternate", href=link, type="text/html")
        author = _sub(entry, "author")
        _sub(author, "name", comment.author)
        if comment.author in WEBSITES:
            _sub(author, "uri", WEBSITES[comment.author])
        _sub(entry, "id", _comment_guid(blog, comment))
        when = _iso(_at(now, comment.days_ago))
        _sub(entry, "updated", when)
        _sub(entry, "published", when)
        _sub(entry, "content", _comment_html(blog, comment), type="html", xml__base=link)
        if comment.reply_to is not None:
            parent = by_number[comment.reply_to]
            ref, href = _comment_guid(blog, parent), _comment_link(blog, parent)
        else:
            ref = f"{blog.site}?p={_post_id(blog, comment.post)}"
            href = permalink(blog, comment.post)
        _sub(entry, "thr:in-reply-to", ref=ref, href=href, type="text/html")
    return _xml(feed)


def social_rss(social: Social, base: str, now: datetime) -> bytes:
    """Mastodon's profile RSS: items carry a link, a date and HTML, but no title."""
    self_url = f"{base}/{social.folder}.rss"
    description = f"Public posts from {social.profile}"
    rss, channel = _rss(social.owner, social.profile, self_url, description, None)
    for toot in sorted(social.toots, key=lambda t: t.days_ago):
        item = _sub(channel, "item")
        link = f"{social.profile}/{toot.number}"
        _sub(item, "guid", link, isPermaLink="true")
        _sub(item, "link", link)
        _sub(item, "pubDate", _rfc822(_at(now, toot.days_ago)))
        _sub(item, "description", toot.text)
    return _xml(rss)


def podcast_rss(podcast: Podcast, base: str, now: datetime) -> bytes:
    rss = ET.Element(
        "rss", {"version": "2.0", "xmlns:itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
    )
    channel = _sub(rss, "channel")
    _sub(channel, "title", podcast.title)
    _sub(channel, "link", podcast.site)
    _sub(channel, "description", f"A small show by {podcast.owner}.")
    _sub(channel, "itunes:author", podcast.owner)
    for episode in sorted(podcast.episodes, key=lambda e: e.days_ago):
        item = _sub(channel, "item")
        _sub(item, "title", f"{episode.number}: {episode.title}")
        _sub(item, "link", f"{podcast.site}episodes/{episode.number}/")
        _sub(item, "guid", f"{podcast.site}episodes/{episode.number}/", isPermaLink="true")
        _sub(item, "pubDate", _rfc822(_at(now, episode.days_ago)))
        _sub(item, "description", episode.notes)
        audio = f"https://media.example.org/kettle-on/{episode.number}.mp3"
        size = str(episode.minutes * 60 * 16_000)  # 128 kbit/s
        _sub(item, "enclosure", url=audio, length=size, type="audio/mpeg")
        _sub(item, "itunes:duration", f"{episode.minutes}:00")
    return _xml(rss)


def _feed(body: bytes, content_type: str = "application/rss+xml; charset=utf-8") -> Response:
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    return Response(200, body, content_type, {"ETag": etag})


def routes(base: str, now: datetime) -> dict[str, Response]:
    """Every path the demo server answers, rendered once at serve time. `base` is the
    server's own address (http://127.0.0.1:PORT), for feeds' self and home links."""
    out: dict[str, Response] = {}
    for blog in (MY_BLOG, *BLOGS):
        home = f"/{blog.folder}/"
        if blog.atom:
            out[f"{home}feed/atom/"] = _feed(
                blog_posts_atom(blog, base, now), "application/atom+xml; charset=utf-8"
            )
        else:
            out[f"{home}feed/"] = _feed(blog_posts_rss(blog, base, now))
        atom = "application/atom+xml; charset=utf-8"
        out[f"{home}comments/feed/"] = _feed(comments_atom(blog, base, now), atom)
        for post in blog.posts:
            out[f"{home}{post.slug}/feed/"] = _feed(comments_atom(blog, base, now, post), atom)
    out[f"/{SOCIAL.folder}.rss"] = _feed(social_rss(SOCIAL, base, now))
    out[f"/{PODCAST.folder}/podcast.xml"] = _feed(podcast_rss(PODCAST, base, now))

    # Feed health: a feed that moved for good, one whose server is failing, one closed.
    out["/bram/atom.xml"] = Response(
        301, b"", "text/plain", {"Location": f"{base}/bram/feed/atom/"}
    )
    out["/hollis/feed/"] = Response(500, b"Internal Server Error\n", "text/plain")
    out["/esme/blog/feed/"] = Response(410, b"Gone: this blog is closed.\n", "text/plain")
    return out
