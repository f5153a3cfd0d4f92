"""Detection on the real comment feeds of ../shared/feeds (README "Groups of related files").

Every expected event below was worked out by reading the XML files, not by running the
code: the commenter chosen as `me`, the blog author as the person, and the comments'
own dates and permalinks (resolved against the blog's site, since the whizzy.org export
made every link relative).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import FEEDS

from engage.detect import Detection, detect, threads_i_joined
from engage.models import (
    Comment,
    FeedKind,
    FeedRef,
    MeterRules,
    Person,
    Post,
    Role,
    Watchlist,
)
from engage.poll.items import split_entries
from engage.poll.parse import parse_feed

CEST = timezone(timedelta(hours=2))
# Blogger dates carry milliseconds (18:53:14.975+02:00); feedparser keeps whole seconds.

WHIZZY = "https://whizzy.org"
PIHOLE = f"{WHIZZY}/2021/01/02/double-helping-of-pi-hole/"
CISCO = f"{WHIZZY}/2017/02/23/cisco-7941-asterisk-and-sip/"
OVER_ENGINEERING = f"{WHIZZY}/2012/03/08/over-engineering-ftw/"
HEATING_1 = f"{WHIZZY}/2014/01/04/raspberry-pi-powered-heating-controller-part-1/"

# (file under shared/feeds, the URL it was served from, its kind)
WHIZZY_FEEDS = [
    ("blogs/wp_whizzy_feed.xml", f"{WHIZZY}/feed/", FeedKind.BLOG),
    ("comments/wp_whizzy_comments.xml", f"{WHIZZY}/comments/feed/", FeedKind.COMMENTS),
    ("comments/wp_whizzy_post_cisco_comments.xml", f"{CISCO}feed/", FeedKind.COMMENTS),
    ("comments/wp_whizzy_post_pihole_comments.xml", f"{PIHOLE}feed/", FeedKind.COMMENTS),
]
WILL = Person(
    name="Will Cooke",
    aliases=("will",),
    sites=("https://whizzy.org/",),
    feeds=tuple(FeedRef(url, kind=kind) for _, url, kind in WHIZZY_FEEDS),
)

JORGE_SITE = "http://jorgeelconstructor.blogspot.com"
BIENVENIDOS = f"{JORGE_SITE}/2010/07/bienvendos.html"
JORGE_FEEDS = [
    ("blogs/blogger_jorge_posts.atom", f"{JORGE_SITE}/feeds/posts/default", FeedKind.BLOG),
    (
        "comments/blogger_jorge_post_comments.atom",
        f"{JORGE_SITE}/feeds/3425845675518558571/comments/default",
        FeedKind.COMMENTS,
    ),
    (
        "comments/blogger_jorge_post_author_comment.atom",
        f"{JORGE_SITE}/feeds/7165469458931648639/comments/default",
        FeedKind.COMMENTS,
    ),
]
ELO_COMMENT = f"{BIENVENIDOS}?showComment=1280163194975#c299669490729056197"
JORGE = Person(
    name="Jorge el constructor",
    sites=(JORGE_SITE,),
    feeds=tuple(FeedRef(url, kind=kind) for _, url, kind in JORGE_FEEDS),
)

POLLED_AT = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def polled(files: list[tuple[str, str, FeedKind]], person: str) -> tuple[list[Post], list[Comment]]:
    posts: list[Post] = []
    comments: list[Comment] = []
    for name, url, kind in files:
        # FEEDS / an absolute path is that path: a variant derived in tmp_path reads as well.
        parsed = parse_feed((FEEDS / name).read_bytes(), url=url)
        assert parsed.error is None, (name, parsed.error)
        more_posts, more_comments = split_entries(
            parsed.entries, kind=kind, person=person, feed=url, now=POLLED_AT
        )
        posts += more_posts
        comments += more_comments
    return posts, comments


def run(
    me: Person,
    person: Person,
    files: list[tuple[str, str, FeedKind]],
    contacts: tuple[Person, ...] = (),
) -> Detection:
    watchlist = Watchlist(me=me, people=(person,), contacts=contacts)
    posts, comments = polled(files, person.name)
    return detect(watchlist, posts, comments, rules=MeterRules())


def found(result: Detection) -> list[tuple[str, str, datetime, str | None]]:
    return [(e.kind.value, e.person, e.when, e.url) for e in result.events]


@pytest.fixture(scope="module", autouse=True)
def _shared(shared_feeds: object) -> None:
    """Fail clearly, not with a FileNotFoundError, when shared/ is not beside the repo."""


def test_whizzy_marian_commented_on_pihole_and_will_replied() -> None:
    # Marian's comment #3920 is in both the site-wide and the Pi-hole feed: one event.
    # Will's #4016 starts "In reply to <a href=…#comment-3920>Marian</a>."
    me = Person(name="Marian", role=Role.ME)
    result = run(me, WILL, WHIZZY_FEEDS)
    assert found(result) == [
        (
            "my_comment",
            "Will Cooke",
            datetime(2021, 1, 26, 7, 17, 8, tzinfo=UTC),
            f"{PIHOLE}#comment-3920",
        ),
        (
            "their_reply",
            "Will Cooke",
            datetime(2021, 1, 29, 16, 56, 7, tzinfo=UTC),
            f"{PIHOLE}#comment-4016",
        ),
    ]
    my_comment, reply = result.events
    assert '"And all that will be bypassed by DNS over Https."' in my_comment.evidence
    assert "Double helping of Pi Hole" in my_comment.evidence
    assert reply.evidence.startswith("reply to my comment of 2021-01-26")
    assert "In reply to" not in reply.evidence
    assert result.warnings == ()


def test_whizzy_ira_two_comments_and_an_explicit_reply_with_a_contact_nearby() -> None:
    # Over-engineering FTW (site-wide feed only): Ira #43, Will's #44 "In reply to … #43",
    # then Ira again (#45) 15 months later. Gareth, a contact, commented on the Cisco post
    # (#170), which is evidence that he and Will know each other.
    me = Person(name="Ira", role=Role.ME)
    gareth = Person(name="Gareth", role=Role.CONTACT)
    result = run(me, WILL, WHIZZY_FEEDS, contacts=(gareth,))
    assert found(result) == [
        (
            "my_comment",
            "Will Cooke",
            datetime(2018, 12, 9, 3, 39, 46, tzinfo=UTC),
            f"{OVER_ENGINEERING}#comment-43",
        ),
        (
            "their_reply",
            "Will Cooke",
            datetime(2018, 12, 14, 18, 34, 18, tzinfo=UTC),
            f"{OVER_ENGINEERING}#comment-44",
        ),
        (
            "my_comment",
            "Will Cooke",
            datetime(2020, 3, 23, 11, 2, 11, tzinfo=UTC),
            f"{OVER_ENGINEERING}#comment-45",
        ),
    ]
    assert [(i.contact, i.person, i.kind, i.when, i.url) for i in result.intro_evidence] == [
        (
            "Gareth",
            "Will Cooke",
            "contact_commented",
            datetime(2020, 10, 8, 14, 34, 9, tzinfo=UTC),
            f"{CISCO}#comment-170",
        ),
    ]


def test_whizzy_will_answering_after_54_days_is_still_an_explicit_reply() -> None:
    # Les #60 (2020-01-16) on heating controller part 4; Will's #61 (2020-03-10) names #60.
    me = Person(name="Les", role=Role.ME)
    result = run(me, WILL, WHIZZY_FEEDS)
    part4 = f"{WHIZZY}/2014/02/04/raspberry-pi-powered-heating-controller-part-4/"
    assert found(result) == [
        (
            "my_comment",
            "Will Cooke",
            datetime(2020, 1, 16, 20, 20, 47, tzinfo=UTC),
            f"{part4}#comment-60",
        ),
        (
            "their_reply",
            "Will Cooke",
            datetime(2020, 3, 10, 9, 59, 13, tzinfo=UTC),
            f"{part4}#comment-61",
        ),
    ]


def test_whizzy_late_night_linux_pingbacks_and_will_linking_the_show() -> None:
    # Two pingbacks "Late Night Linux – Episode 10x – Late Night Linux" (Pi-hole, heating
    # part 1) are my shares; Will's Pi-hole post links latenightlinux.com: his mention.
    # Will's #4016 answers Marian, not me, though my pingback came four days earlier.
    me = Person(name="Late Night Linux", role=Role.ME, sites=("https://latenightlinux.com",))
    result = run(me, WILL, WHIZZY_FEEDS)
    assert found(result) == [
        ("their_mention", "Will Cooke", datetime(2021, 1, 2, 17, 45, 2, tzinfo=UTC), PIHOLE),
        (
            "my_share",
            "Will Cooke",
            datetime(2021, 1, 11, 21, 56, 35, tzinfo=UTC),
            f"{HEATING_1}#comment-3391",
        ),
        (
            "my_share",
            "Will Cooke",
            datetime(2021, 1, 25, 21, 56, 48, tzinfo=UTC),
            f"{PIHOLE}#comment-3897",
        ),
    ]


def test_blogger_elo_commented_on_bienvenidos() -> None:
    # Elo (no profile URL) on "Bienvenidos"; the only later comment there is Anonymous, and
    # Jorge's own comment is on another post ("timanfaya") where I never commented.
    me = Person(name="Elo", role=Role.ME)
    result = run(me, JORGE, JORGE_FEEDS)
    assert found(result) == [
        (
            "my_comment",
            "Jorge el constructor",
            datetime(2010, 7, 26, 18, 53, 14, tzinfo=CEST),
            ELO_COMMENT,
        ),
    ]


def test_blogger_me_recognised_by_profile_url_among_anonymous_commenters() -> None:
    # Two "Anonymous" comments: only the one whose author URI is my Blogger profile is mine.
    # Elo, a contact, commented on the same post the next day.
    me = Person(
        name="Laura", role=Role.ME, sites=("https://www.blogger.com/profile/04823706102024815582",)
    )
    elo = Person(name="Elo", role=Role.CONTACT)
    result = run(me, JORGE, JORGE_FEEDS, contacts=(elo,))
    assert found(result) == [
        (
            "my_comment",
            "Jorge el constructor",
            datetime(2010, 7, 25, 6, 24, 28, tzinfo=CEST),
            f"{BIENVENIDOS}?showComment=1280031868312#c990297206814160916",
        ),
    ]
    assert [(i.contact, i.kind, i.when) for i in result.intro_evidence] == [
        ("Elo", "contact_commented", datetime(2010, 7, 26, 18, 53, 14, tzinfo=CEST)),
    ]


def test_blogger_author_answering_my_comment_by_thr_in_reply_to(tmp_path: Path) -> None:
    # A variant derived here (the shared file stays untouched): Jorge's only comment, on
    # "timanfaya", is made to answer Elo's comment instead of the post, as Blogger marks a
    # threaded reply: thr:in-reply-to with the comment's permalink and id.
    original = (FEEDS / "comments/blogger_jorge_post_author_comment.atom").read_bytes()
    to_post = (
        b"href='http://jorgeelconstructor.blogspot.com/2012/04/timanfaya.html' "
        b"ref='tag:blogger.com,1999:blog-1610088654917055211.post-7165469458931648639'"
    )
    to_elo = (
        b"href='" + ELO_COMMENT.encode() + b"' "
        b"ref='tag:blogger.com,1999:blog-1610088654917055211.post-299669490729056197'"
    )
    assert original.count(to_post) == 1
    variant = tmp_path / "answer.atom"
    variant.write_bytes(original.replace(to_post, to_elo))
    files = [*JORGE_FEEDS[:2], (str(variant), JORGE_FEEDS[2][1], FeedKind.COMMENTS)]
    me = Person(name="Elo", role=Role.ME)
    result = run(me, JORGE, files)
    assert found(result) == [
        (
            "my_comment",
            "Jorge el constructor",
            datetime(2010, 7, 26, 18, 53, 14, tzinfo=CEST),
            ELO_COMMENT,
        ),
        (
            "their_reply",
            "Jorge el constructor",
            datetime(2012, 4, 14, 11, 45, 22, tzinfo=CEST),
            f"{JORGE_SITE}/2012/04/timanfaya.html?showComment=1334396722645#c31160019627132817",
        ),
    ]


def test_polling_the_same_files_twice_gives_the_same_ids() -> None:
    me = Person(name="Marian", role=Role.ME)
    once = run(me, WILL, WHIZZY_FEEDS)
    twice = run(me, WILL, WHIZZY_FEEDS + WHIZZY_FEEDS)
    assert [e.id for e in once.events] == [e.id for e in twice.events]


def test_whizzy_threads_i_joined_from_the_site_wide_feed() -> None:
    # Marian's only thread is the Pi-hole post; its last comment (Will's) is of 29 Jan 2021.
    me = Person(name="Marian", role=Role.ME)
    watchlist = Watchlist(me=me, people=(WILL,))
    _, comments = polled([WHIZZY_FEEDS[1]], WILL.name)
    live = datetime(2021, 2, 1, 12, tzinfo=UTC)
    assert threads_i_joined(watchlist, comments, now=live) == {PIHOLE}
    quiet = datetime(2021, 2, 28, 17, 0, tzinfo=UTC)  # 30 days after 29 Jan 16:56
    assert threads_i_joined(watchlist, comments, now=quiet) == set()


# ---------------------------------------------------------------------------
# Strangers who share a first name: a match on a name alone waits for review

SWC_FEED = "http://software-carpentry.disqus.com/comments.rss"
SWC_POST = "http://software-carpentry.org/2012/11/who-wants-to-write-a-little-code/"
GREG = Person(
    name="Greg Wilson",
    sites=("http://software-carpentry.org",),
    feeds=(FeedRef(SWC_FEED, kind=FeedKind.COMMENTS),),
)
SWC_FEEDS = [("comments/disqus_swcarpentry.rss", SWC_FEED, FeedKind.COMMENTS)]
PROFILE_LAURA = "https://www.blogger.com/profile/04823706102024815582"

# (situation, me, person, files, trusted pairs, expected: kind, when, url, confirmed)
STRANGERS = [
    (
        # A stranger signing "Ricardo" on the Cisco post (#7480, 19 May 2021) is not me;
        # the WordPress RSS comment feed carries no author URL to tell.
        "a stranger named Ricardo is my comment only after review",
        Person(name="Ricardo Mendes", role=Role.ME, aliases=("ricardo",)),
        WILL, WHIZZY_FEEDS, set(),
        [("my_comment", datetime(2021, 5, 19, 18, 49, 15, tzinfo=UTC),
          f"{CISCO}#comment-7480", False)],
    ),
    (
        # Marian's #3920 and Will's "In reply to … #3920" (#4016): Will is the owner of the
        # feed (confirmed), but the comment he answers rests on "marian" alone.
        "the owner's answer to a first-name match is unconfirmed with it",
        Person(name="Marian Kowalski", role=Role.ME, aliases=("marian",),
               sites=("https://marian.example/",)),
        WILL, WHIZZY_FEEDS, set(),
        [("my_comment", datetime(2021, 1, 26, 7, 17, 8, tzinfo=UTC),
          f"{PIHOLE}#comment-3920", False),
         ("their_reply", datetime(2021, 1, 29, 16, 56, 7, tzinfo=UTC),
          f"{PIHOLE}#comment-4016", False)],
    ),
    (
        "a name trusted on whizzy.org confirms the comment and the answer to it",
        Person(name="Marian Kowalski", role=Role.ME, aliases=("marian",)),
        WILL, WHIZZY_FEEDS, {("whizzy.org", "marian")},
        [("my_comment", datetime(2021, 1, 26, 7, 17, 8, tzinfo=UTC),
          f"{PIHOLE}#comment-3920", True),
         ("their_reply", datetime(2021, 1, 29, 16, 56, 7, tzinfo=UTC),
          f"{PIHOLE}#comment-4016", True)],
    ),
    (
        "a name trusted on another site confirms nothing here",
        Person(name="Marian Kowalski", role=Role.ME, aliases=("marian",)),
        WILL, WHIZZY_FEEDS, {("marian.example", "marian")},
        [("my_comment", datetime(2021, 1, 26, 7, 17, 8, tzinfo=UTC),
          f"{PIHOLE}#comment-3920", False),
         ("their_reply", datetime(2021, 1, 29, 16, 56, 7, tzinfo=UTC),
          f"{PIHOLE}#comment-4016", False)],
    ),
    (
        # Two "Anonymous" comments on Bienvenidos: the one whose author URI is my Blogger
        # profile is mine, confirmed by the URL, though Anonymous is not my name.
        "a Blogger profile URL confirms the comment",
        Person(name="Laura", role=Role.ME, sites=(PROFILE_LAURA,)),
        JORGE, JORGE_FEEDS, set(),
        [("my_comment", datetime(2010, 7, 25, 6, 24, 28, tzinfo=CEST),
          f"{BIENVENIDOS}?showComment=1280031868312#c990297206814160916", True)],
    ),
    (
        # Elo's comment carries no profile link (only noreply@blogger.com): her name alone.
        "a Blogger comment without a profile is a name alone",
        Person(name="Elo", role=Role.ME),
        JORGE, JORGE_FEEDS, set(),
        [("my_comment", datetime(2010, 7, 26, 18, 53, 14, tzinfo=CEST), ELO_COMMENT, False)],
    ),
    (
        # Disqus "Latest Comments": Hans-Martin's comment (17 Nov 2012, 11:21) by name;
        # Greg's answer starts "@Hans-Martin" linking #comment-53503, a comment this feed
        # does not carry, so it is an explicit answer to someone unseen: no reply to me.
        "a Disqus comment by a hyphenated first name waits for review",
        Person(name="Hans-Martin Vogel", role=Role.ME, aliases=("Hans-Martin",)),
        GREG, SWC_FEEDS, set(),
        [("my_comment", datetime(2012, 11, 17, 11, 21, 26, tzinfo=UTC),
          f"{SWC_POST}#comment-713578641", False)],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("me", "person", "files", "trusted", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in STRANGERS],
)
def test_strangers_who_share_a_first_name(
    me: Person,
    person: Person,
    files: list[tuple[str, str, FeedKind]],
    trusted: set[tuple[str, str]],
    expected: list[tuple[str, datetime, str, bool]],
) -> None:
    watchlist = Watchlist(me=me, people=(person,))
    posts, comments = polled(files, person.name)
    result = detect(watchlist, posts, comments, rules=MeterRules(), trusted=trusted)
    assert [(e.kind.value, e.when, e.url, e.confirmed) for e in result.events] == expected
    for event in result.events:
        # What an unconfirmed detection rests on is what `engage review ID trust` trusts.
        assert bool(event.name_matches) is not event.confirmed
