"""Identity matching and every detection rule, on small synthetic posts and comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from engage.detect import (
    Match,
    build_identities,
    detect,
    match_author,
    threads_i_joined,
)
from engage.models import (
    Comment,
    Direction,
    EventKind,
    EventSource,
    FeedKind,
    FeedRef,
    MeterRules,
    Person,
    Post,
    Role,
    Watchlist,
)
from engage.urls import normalize_url

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

ME = Person(
    name="Marián Novák",
    role=Role.ME,
    aliases=("mnovak",),
    sites=("https://marian.example/",),
)
WILL = Person(
    name="Will Cooke",
    aliases=("will",),
    sites=("whizzy.example",),
    feeds=(FeedRef("https://whizzy.example/feed/"),),
)
JORGE = Person(
    name="Jorge",
    sites=("https://www.blogger.com/profile/1803",),
    feeds=(FeedRef("https://jorge.blogspot.example/feeds/posts/default"),),
)
SAM_LEE = Person(name="Sam Lee", aliases=("sam",), sites=("samlee.example",))
ANA = Person(name="Ana García", role=Role.CONTACT, sites=("ana.example/blog",))
SAM_PARK = Person(name="Sam Park", role=Role.CONTACT, aliases=("sam",))
WATCHLIST = Watchlist(me=ME, people=(WILL, JORGE, SAM_LEE), contacts=(ANA, SAM_PARK))
RULES = MeterRules()

# ---------------------------------------------------------------------------
# match_author

MATCHES = [
    ("exact name", "Will Cooke", None, Match("Will Cooke", Role.PERSON, (), "name")),
    ("name in another case", "WILL COOKE", None, Match("Will Cooke", Role.PERSON, (), "name")),
    ("extra spaces folded", "  Will   Cooke ", None, Match("Will Cooke", Role.PERSON, (), "name")),
    ("alias", "will", None, Match("Will Cooke", Role.PERSON, (), "alias")),
    ("accents dropped", "Marian Novak", None, Match("Marián Novák", Role.ME, (), "name")),
    ("accents added", "Ána Garcia", None, Match("Ana García", Role.CONTACT, (), "name")),
    ("my alias", "MNovak", None, Match("Marián Novák", Role.ME, (), "alias")),
    ("unknown name", "Gareth", None, Match()),
    ("no name no url", None, None, Match()),
    ("a first name alone is not the full name", "Marián", None, Match()),
    (
        "url on a site with www and http",
        "Somebody",
        "http://www.whizzy.example/about/",
        Match("Will Cooke", Role.PERSON, (), "url"),
    ),
    (
        "url with default port and upper-case host",
        None,
        "https://MARIAN.example:443",
        Match("Marián Novák", Role.ME, (), "url"),
    ),
    (
        "site host without scheme in the watchlist",
        None,
        "https://samlee.example/posts/1",
        Match("Sam Lee", Role.PERSON, (), "url"),
    ),
    (
        "host of a blog feed counts as a site",
        None,
        "https://jorge.blogspot.example/2012/04/timanfaya.html",
        Match("Jorge", Role.PERSON, (), "url"),
    ),
    (
        "profile path on a shared host",
        None,
        "https://www.blogger.com/profile/1803",
        Match("Jorge", Role.PERSON, (), "url"),
    ),
    ("another profile on the same host", None, "https://www.blogger.com/profile/99", Match()),
    ("a path that only starts alike", None, "https://www.blogger.com/profile/18030", Match()),
    ("outside the site's path", None, "https://ana.example/shop", Match()),
    (
        "inside the site's path",
        None,
        "https://ana.example/blog/2024/hello",
        Match("Ana García", Role.CONTACT, (), "url"),
    ),
    ("a non-default port is another site", None, "https://marian.example:8443/", Match()),
    (
        "url wins over a name that belongs to someone else",
        "will",
        "https://marian.example/",
        Match("Marián Novák", Role.ME, (), "url"),
    ),
    (
        "unknown url falls back to the name",
        "Will Cooke",
        "https://elsewhere.example/",
        Match("Will Cooke", Role.PERSON, (), "name"),
    ),
    ("shared alias is ambiguous", "Sam", None, Match(None, None, ("Sam Lee", "Sam Park"), "alias")),
    (
        "shared alias with a url is decided by the url",
        "sam",
        "https://samlee.example",
        Match("Sam Lee", Role.PERSON, (), "url"),
    ),
]


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [(n, u, e) for _, n, u, e in MATCHES],
    ids=[case[0] for case in MATCHES],
)
def test_match_author(name: str | None, url: str | None, expected: Match) -> None:
    assert match_author(build_identities(WATCHLIST), name, url) == expected


def test_two_people_sharing_a_site_are_ambiguous_by_url() -> None:
    twin = Person(name="Will Twin", sites=("https://whizzy.example",))
    ids = build_identities(replace(WATCHLIST, people=(WILL, twin)))
    got = match_author(ids, None, "https://whizzy.example/x")
    assert got.identity is None
    assert got.ambiguous == ("Will Cooke", "Will Twin")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Example.com:443/a/", "example.com/a"),
        ("http://example.com:80", "example.com"),
        ("http://example.com:8080/x", "example.com:8080/x"),
        ("example.com/a/?p=1#comment-2", "example.com/a?p=1#comment-2"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


# ---------------------------------------------------------------------------
# Detection: small worlds

WILL_POST = "https://whizzy.example/2024/03/sip/"
WILL_POST_2 = "https://whizzy.example/2024/04/pihole/"
MY_POST = "https://marian.example/2024/03/notes/"
ANA_POST = "https://ana.example/blog/2024/03/hi/"


def comment(
    n: int,
    author: str,
    *,
    days: float,
    blog: str = "Will Cooke",
    thread: str = WILL_POST,
    in_reply_to: str | None = None,
    author_url: str | None = None,
    pingback: bool = False,
    snippet: str = "Thanks, this worked for me.",
    dated: bool = True,
) -> Comment:
    return Comment(
        person=blog,
        feed=thread + "feed/",
        id=f"tag:example,2024:{thread}/{n}",
        post_link=thread,
        link=f"{thread}#comment-{n}",
        author=author,
        author_url=author_url,
        published=T0 + timedelta(days=days) if dated else None,
        in_reply_to=in_reply_to,
        snippet=snippet,
        is_pingback=pingback,
        first_seen=T0 + timedelta(days=days, hours=1),
    )


def post(
    link: str,
    *,
    blog: str,
    days: float,
    title: str = "A post",
    summary: str = "",
    links: tuple[str, ...] = (),
) -> Post:
    return Post(
        person=blog,
        feed="https://feed.example/",
        id=link,
        link=link,
        title=title,
        published=T0 + timedelta(days=days),
        summary=summary,
        links=links,
    )


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


Found = set[tuple[str, str, datetime, str | None]]

DETECTION: list[tuple[str, list[Comment], list[Post], Found]] = [
    (
        "my comment on their post is my_comment",
        [comment(1, "Marian Novak", days=0)],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "my comment found by my site url, whatever the name",
        [comment(1, "M.", days=0, author_url="https://marian.example/")],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "their comment 3 days after mine in the thread is an implicit reply",
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=3)],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(3), WILL_POST + "#comment-2"),
        },
    ),
    (
        "their comment exactly 14 days after mine is still a reply",
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=14)],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(14), WILL_POST + "#comment-2"),
        },
    ),
    (
        "their comment 15 days after mine is not a reply",
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=15)],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "their comment before mine is not a reply",
        [comment(1, "will", days=0), comment(2, "Marian Novak", days=1)],
        [],
        {("my_comment", "Will Cooke", at(1), WILL_POST + "#comment-2")},
    ),
    (
        "their comment in another thread is not a reply",
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=1, thread=WILL_POST_2)],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "explicit reply to my comment counts even 40 days later",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "will", days=40, in_reply_to=WILL_POST + "#comment-1"),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(40), WILL_POST + "#comment-2"),
        },
    ),
    (
        "explicit reply to someone else's comment is not a reply to me",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "Gareth", days=1),
            comment(3, "will", days=2, in_reply_to=WILL_POST + "#comment-2"),
        ],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "explicit reply named by a relative WordPress link",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "will", days=30, in_reply_to="/2024/03/sip/#comment-1"),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(30), WILL_POST + "#comment-2"),
        },
    ),
    (
        "explicit reply read from the WordPress 'In reply to' line when the parser left it",
        [
            comment(1, "Marian Novak", days=0),
            comment(
                2,
                "will",
                days=30,
                snippet=(
                    f'<p>In reply to <a href="{WILL_POST}#comment-1">Marian</a>.</p><p>Sure.</p>'
                ),
            ),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(30), WILL_POST + "#comment-2"),
        },
    ),
    (
        "the WordPress reply line counts in the blog's language, not only in English",
        [
            comment(1, "Marian Novak", days=0),
            comment(3, "Marian Novak", days=1),
            comment(
                2,
                "will",
                days=30,
                snippet=(
                    f'<p>En réponse à <a href="{WILL_POST}#comment-1">Marian</a>.</p>'
                    "<p>Merci !</p>"
                ),
            ),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("my_comment", "Will Cooke", at(1), WILL_POST + "#comment-3"),
            ("their_reply", "Will Cooke", at(30), WILL_POST + "#comment-2"),
        },
    ),
    (
        "explicit reply by comment id (thr:in-reply-to ref)",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "will", days=20, in_reply_to=f"tag:example,2024:{WILL_POST}/1"),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(20), WILL_POST + "#comment-2"),
        },
    ),
    (
        "in-reply-to pointing at the post itself is an ordinary comment (implicit rule)",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "will", days=2, in_reply_to=WILL_POST),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(2), WILL_POST + "#comment-2"),
        },
    ),
    (
        "two of their comments after mine are two replies",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "will", days=1),
            comment(3, "Will Cooke", days=5),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Will Cooke", at(1), WILL_POST + "#comment-2"),
            ("their_reply", "Will Cooke", at(5), WILL_POST + "#comment-3"),
        },
    ),
    (
        "a stranger's comment after mine is nothing",
        [comment(1, "Marian Novak", days=0), comment(2, "Gareth", days=1)],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "their comment on my blog is their_comment_on_mine",
        [comment(7, "Will Cooke", days=2, blog="Marián Novák", thread=MY_POST)],
        [],
        {("their_comment_on_mine", "Will Cooke", at(2), MY_POST + "#comment-7")},
    ),
    (
        "their answer to my comment on my own blog is one their_comment_on_mine, not a reply",
        [
            comment(1, "Marian Novak", days=0, blog="Marián Novák", thread=MY_POST),
            comment(2, "will", days=1, blog="Marián Novák", thread=MY_POST),
        ],
        [],
        {("their_comment_on_mine", "Will Cooke", at(1), MY_POST + "#comment-2")},
    ),
    (
        "pingback from my site is my_share",
        [
            comment(
                5,
                "Notes on SIP – Marian's notes",
                days=1,
                author_url="https://marian.example/2024/03/notes/",
                pingback=True,
                snippet="[…] Cisco and SIP […]",
            )
        ],
        [],
        {("my_share", "Will Cooke", at(1), WILL_POST + "#comment-5")},
    ),
    (
        "pingback naming me without a url is my_share",
        [comment(5, "Episode 9 &#8211; mnovak", days=1, pingback=True)],
        [],
        {("my_share", "Will Cooke", at(1), WILL_POST + "#comment-5")},
    ),
    (
        "a pingback whose title merely contains a short alias is nothing",
        [
            comment(
                5,
                "What will happen to SIP – Phone blog",
                days=1,
                blog="Marián Novák",
                thread=MY_POST,
                pingback=True,
            )
        ],
        [],
        set(),
    ),
    (
        "a stranger's pingback is nothing",
        [comment(5, "Links 3/1 | Techrights", days=1, pingback=True)],
        [],
        set(),
    ),
    (
        "their pingback on my blog is their_mention",
        [
            comment(
                5,
                "Great notes",
                days=1,
                blog="Marián Novák",
                thread=MY_POST,
                author_url="https://whizzy.example/2024/03/more/",
                pingback=True,
            )
        ],
        [],
        {("their_mention", "Will Cooke", at(1), MY_POST + "#comment-5")},
    ),
    (
        "a pingback from my site is not a comment that their answer replies to",
        [
            comment(1, "Marian", days=0, author_url="https://marian.example/x", pingback=True),
            comment(2, "will", days=1),
        ],
        [],
        {("my_share", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "my post linking to their site is my_share",
        [],
        [post(MY_POST, blog="Marián Novák", days=3, links=("http://www.whizzy.example/x/",))],
        {("my_share", "Will Cooke", at(3), MY_POST)},
    ),
    (
        "my post linking elsewhere is nothing",
        [],
        [post(MY_POST, blog="Marián Novák", days=3, links=("https://other.example/",))],
        set(),
    ),
    (
        "their post linking to my site is their_mention",
        [],
        [post(WILL_POST, blog="Will Cooke", days=4, links=("https://marian.example/about",))],
        {("their_mention", "Will Cooke", at(4), WILL_POST)},
    ),
    (
        "their post naming me as a whole word is their_mention",
        [],
        [post(WILL_POST, blog="Will Cooke", days=4, summary="<p>Thanks to Marian Novák!</p>")],
        {("their_mention", "Will Cooke", at(4), WILL_POST)},
    ),
    (
        "my name inside a longer word is not a mention",
        [],
        [post(WILL_POST, blog="Will Cooke", days=4, title="About mnovakova and friends")],
        set(),
    ),
    (
        "a contact's post linking them is not an event",
        [],
        [post(ANA_POST, blog="Ana García", days=1, links=("https://whizzy.example/",))],
        set(),
    ),
    (
        "the same comment in the site-wide and the per-post feed gives one event",
        [
            comment(1, "Marian Novak", days=0),
            replace(
                comment(1, "Marian Novak", days=0), feed="https://whizzy.example/comments/feed/"
            ),
        ],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "a comment by an ambiguous alias is not counted",
        [comment(1, "Marian Novak", days=0), comment(2, "sam", days=1)],
        [],
        {("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1")},
    ),
    (
        "another person's comment answering me on their blog is their reply",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "Sam Lee", days=1, in_reply_to=WILL_POST + "#comment-1"),
        ],
        [],
        {
            ("my_comment", "Will Cooke", at(0), WILL_POST + "#comment-1"),
            ("their_reply", "Sam Lee", at(1), WILL_POST + "#comment-2"),
        },
    ),
    (
        "a comment without a date falls back to first seen",
        [comment(1, "Marian Novak", days=2, dated=False)],
        [],
        {("my_comment", "Will Cooke", at(2) + timedelta(hours=1), WILL_POST + "#comment-1")},
    ),
]


@pytest.mark.parametrize(
    ("comments", "posts", "expected"),
    [(c, p, e) for _, c, p, e in DETECTION],
    ids=[case[0] for case in DETECTION],
)
def test_detection_rules(comments: list[Comment], posts: list[Post], expected: Found) -> None:
    result = detect(WATCHLIST, posts, comments, rules=RULES)
    got = {(e.kind.value, e.person, e.when, e.url) for e in result.events}
    assert got == expected
    assert len(result.events) == len(expected)
    for event in result.events:
        assert event.source == EventSource.AUTO
        assert event.id.startswith("auto:")
        assert 0 < len(event.evidence) <= 200


def test_directions_follow_the_kind() -> None:
    result = detect(
        WATCHLIST,
        [],
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=1)],
        rules=RULES,
    )
    assert {(e.kind, e.direction) for e in result.events} == {
        (EventKind.MY_COMMENT, Direction.OUT),
        (EventKind.THEIR_REPLY, Direction.IN),
    }


def test_the_same_comment_detected_twice_gives_one_id() -> None:
    first = detect(WATCHLIST, [], [comment(1, "Marian Novak", days=0)], rules=RULES)
    later = detect(
        WATCHLIST,
        [],
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=1)],
        rules=RULES,
    )
    assert first.events[0].id in {e.id for e in later.events}
    assert len({e.id for e in later.events}) == 2


def test_implicit_reply_window_is_a_rule() -> None:
    comments = [comment(1, "Marian Novak", days=0), comment(2, "will", days=20)]
    narrow = detect(WATCHLIST, [], comments, rules=RULES)
    wide = detect(WATCHLIST, [], comments, rules=MeterRules(implicit_reply_days=21))
    assert EventKind.THEIR_REPLY not in {e.kind for e in narrow.events}
    assert EventKind.THEIR_REPLY in {e.kind for e in wide.events}


def test_evidence_says_where_and_quotes_the_comment() -> None:
    posts = [post(WILL_POST, blog="Will Cooke", days=-1, title="Cisco 7941, Asterisk and SIP")]
    comments = [comment(1, "Marian Novak", days=0, snippet="<p>Thanks, <b>this</b> worked</p>")]
    (event,) = [e for e in detect(WATCHLIST, posts, comments, rules=RULES).events]
    assert event.evidence == 'comment on "Cisco 7941, Asterisk and SIP": "Thanks, this worked"'


def test_pingback_evidence_says_pingback() -> None:
    comments = [comment(5, "x", days=1, author_url="https://marian.example/p", pingback=True)]
    (event,) = detect(WATCHLIST, [], comments, rules=RULES).events
    assert event.evidence.startswith("pingback on ")


def test_long_comment_is_cut_in_the_evidence() -> None:
    comments = [comment(1, "Marian Novak", days=0, snippet="word " * 200)]
    (event,) = detect(WATCHLIST, [], comments, rules=RULES).events
    assert len(event.evidence) <= 200
    assert "…" in event.evidence


def test_undated_comment_says_so_in_the_evidence() -> None:
    (event,) = detect(
        WATCHLIST, [], [comment(1, "Marian Novak", days=0, dated=False)], rules=RULES
    ).events
    assert "first seen" in event.evidence


def test_ambiguous_alias_is_reported_once_as_a_warning() -> None:
    comments = [comment(2, "Sam", days=1), comment(3, "sam", days=2)]
    result = detect(WATCHLIST, [], comments, rules=RULES)
    assert result.events == ()
    assert len(result.warnings) == 1
    assert "Sam Lee or Sam Park" in result.warnings[0]


# ---------------------------------------------------------------------------
# Introduction evidence

INTROS = [
    (
        "a contact's comment on a person's blog",
        [comment(1, "Ana Garcia", days=1)],
        [],
        {("Ana García", "Will Cooke", "contact_commented", WILL_POST + "#comment-1")},
    ),
    (
        "a person's comment on a contact's blog",
        [comment(1, "Will Cooke", days=1, blog="Ana García", thread=ANA_POST)],
        [],
        {("Ana García", "Will Cooke", "person_commented_contact", ANA_POST + "#comment-1")},
    ),
    (
        "a person's post linking a contact's site",
        [],
        [post(WILL_POST, blog="Will Cooke", days=1, links=("https://ana.example/blog/x",))],
        {("Ana García", "Will Cooke", "person_linked_contact", WILL_POST)},
    ),
    (
        "a person's post naming a contact",
        [],
        [post(WILL_POST, blog="Will Cooke", days=1, summary="Met Ana Garcia at PyCon")],
        {("Ana García", "Will Cooke", "person_mentioned_contact", WILL_POST)},
    ),
    (
        "a contact's post linking a person's site",
        [],
        [post(ANA_POST, blog="Ana García", days=1, links=("https://whizzy.example/",))],
        {("Ana García", "Will Cooke", "contact_linked_person", ANA_POST)},
    ),
    (
        "a stranger's comment is no evidence",
        [comment(1, "Gareth", days=1)],
        [],
        set(),
    ),
]


@pytest.mark.parametrize(
    ("comments", "posts", "expected"),
    [(c, p, e) for _, c, p, e in INTROS],
    ids=[case[0] for case in INTROS],
)
def test_intro_evidence(
    comments: list[Comment], posts: list[Post], expected: set[tuple[str, str, str, str]]
) -> None:
    result = detect(WATCHLIST, posts, comments, rules=RULES)
    got = {(i.contact, i.person, i.kind, i.url) for i in result.intro_evidence}
    assert got == expected
    assert {e.kind for e in result.events} <= {EventKind.MY_SHARE}


# ---------------------------------------------------------------------------
# threads_i_joined


def test_threads_i_joined_keeps_live_threads_only() -> None:
    comments = [
        comment(1, "Marian Novak", days=0),  # live: Will answered 20 days later
        comment(2, "will", days=20),
        comment(3, "Marian Novak", days=0, thread=WILL_POST_2),  # quiet since day 0
        comment(4, "Gareth", days=25, thread="https://whizzy.example/other/"),  # not mine
    ]
    now = at(45)
    assert threads_i_joined(WATCHLIST, comments, now=now) == {WILL_POST}
    assert threads_i_joined(WATCHLIST, comments, now=now, quiet_days=60) == {
        WILL_POST,
        WILL_POST_2,
    }


def test_a_pingback_from_my_site_does_not_join_a_thread() -> None:
    comments = [comment(1, "x", days=0, author_url="https://marian.example/", pingback=True)]
    assert threads_i_joined(WATCHLIST, comments, now=at(1)) == set()


def test_feed_kinds_other_than_blogs_do_not_claim_a_host() -> None:
    vlogger = Person(
        name="Vee", feeds=(FeedRef("https://www.youtube.com/feeds/x", kind=FeedKind.VIDEO),)
    )
    ids = build_identities(replace(WATCHLIST, people=(vlogger,)))
    assert match_author(ids, None, "https://youtube.com/watch?v=1") == Match()


def test_evidence_quotes_the_reply_without_its_lead_in_any_language() -> None:
    found = detect(
        WATCHLIST,
        [],
        [
            comment(1, "Marian Novak", days=0),
            comment(
                2,
                "will",
                days=3,
                snippet=f'<p>Als Antwort auf <a href="{WILL_POST}#comment-1">Marian</a>.</p>'
                "<p>Danke sehr.</p>",
            ),
        ],
        rules=RULES,
    )
    (reply,) = [e for e in found.events if e.kind is EventKind.THEIR_REPLY]
    assert reply.evidence.endswith('"Danke sehr."')


# ---------------------------------------------------------------------------
# Confirmed and unconfirmed: what a match rests on

MARIAN = ("whizzy.example", "marian novak")
Confirmation = set[tuple[str, str, str | None, bool, tuple[tuple[str, str], ...]]]

CONFIRMATION: list[tuple[str, list[Comment], list[Post], set[tuple[str, str]], Confirmation]] = [
    (
        "my comment by my name alone is unconfirmed",
        [comment(1, "Marian Novak", days=0)],
        [],
        set(),
        {("my_comment", "Will Cooke", WILL_POST + "#comment-1", False, (MARIAN,))},
    ),
    (
        "my comment carrying my site's URL is confirmed",
        [comment(1, "Marian Novak", days=0, author_url="https://marian.example/")],
        [],
        set(),
        {("my_comment", "Will Cooke", WILL_POST + "#comment-1", True, ())},
    ),
    (
        "my name with a stranger's URL is still a name alone",
        [comment(1, "Marian Novak", days=0, author_url="https://stranger.example/")],
        [],
        set(),
        {("my_comment", "Will Cooke", WILL_POST + "#comment-1", False, (MARIAN,))},
    ),
    (
        "a trusted name on this site confirms",
        [comment(1, "marian  NOVAK", days=0)],
        [],
        {MARIAN},
        {("my_comment", "Will Cooke", WILL_POST + "#comment-1", True, ())},
    ),
    (
        "the owner's answer to my confirmed comment is a confirmed reply",
        [
            comment(1, "M.", days=0, author_url="https://marian.example/"),
            comment(2, "will", days=1),
        ],
        [],
        set(),
        {
            ("my_comment", "Will Cooke", WILL_POST + "#comment-1", True, ()),
            ("their_reply", "Will Cooke", WILL_POST + "#comment-2", True, ()),
        },
    ),
    (
        "the owner's answer to my name-only comment rests on it",
        [comment(1, "Marian Novak", days=0), comment(2, "will", days=1)],
        [],
        set(),
        {
            ("my_comment", "Will Cooke", WILL_POST + "#comment-1", False, (MARIAN,)),
            ("their_reply", "Will Cooke", WILL_POST + "#comment-2", False, (MARIAN,)),
        },
    ),
    (
        "another person answering me on someone else's blog rests on both names",
        [
            comment(1, "Marian Novak", days=0),
            comment(2, "Sam Lee", days=1, in_reply_to=WILL_POST + "#comment-1"),
        ],
        [],
        set(),
        {
            ("my_comment", "Will Cooke", WILL_POST + "#comment-1", False, (MARIAN,)),
            (
                "their_reply",
                "Sam Lee",
                WILL_POST + "#comment-2",
                False,
                (("whizzy.example", "sam lee"), MARIAN),
            ),
        },
    ),
    (
        "their comment on my blog by name alone is unconfirmed",
        [comment(7, "Will Cooke", days=2, blog="Marián Novák", thread=MY_POST)],
        [],
        set(),
        {
            (
                "their_comment_on_mine",
                "Will Cooke",
                MY_POST + "#comment-7",
                False,
                (("marian.example", "will cooke"),),
            )
        },
    ),
    (
        "their comment on my blog with their site's URL is confirmed",
        [
            comment(
                7,
                "Will",
                days=2,
                blog="Marián Novák",
                thread=MY_POST,
                author_url="https://whizzy.example/",
            )
        ],
        [],
        set(),
        {("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-7", True, ())},
    ),
    (
        "their post naming me is a name alone",
        [],
        [post(WILL_POST, blog="Will Cooke", days=4, summary="<p>Thanks to Marian Novák!</p>")],
        set(),
        {("their_mention", "Will Cooke", WILL_POST, False, (MARIAN,))},
    ),
    (
        "their post linking to my site is confirmed",
        [],
        [post(WILL_POST, blog="Will Cooke", days=4, links=("https://marian.example/about",))],
        set(),
        {("their_mention", "Will Cooke", WILL_POST, True, ())},
    ),
    (
        "a pingback naming me without a URL is a name alone",
        [comment(5, "Episode 9 &#8211; mnovak", days=1, pingback=True)],
        [],
        set(),
        {
            (
                "my_share",
                "Will Cooke",
                WILL_POST + "#comment-5",
                False,
                (("whizzy.example", "mnovak"),),
            )
        },
    ),
    (
        "a pingback from my site is confirmed",
        [comment(5, "x", days=1, author_url="https://marian.example/p", pingback=True)],
        [],
        set(),
        {("my_share", "Will Cooke", WILL_POST + "#comment-5", True, ())},
    ),
]


@pytest.mark.parametrize(
    ("comments", "posts", "trusted", "expected"),
    [pytest.param(*row[1:], id=row[0]) for row in CONFIRMATION],
)
def test_confirmation(
    comments: list[Comment],
    posts: list[Post],
    trusted: set[tuple[str, str]],
    expected: Confirmation,
) -> None:
    result = detect(WATCHLIST, posts, comments, rules=RULES, trusted=trusted)
    got = {(e.kind.value, e.person, e.url, e.confirmed, e.name_matches) for e in result.events}
    assert got == expected


def test_the_lucia_case() -> None:
    """aliases [lucia, "Lucía M."]: a stranger signing "Lucia" on Ben's blog, Ben's "Thanks
    Lucia!" and his post "My colleague Lucia ran the retro" were my comment, his reply and
    his mention, counted in full. They are found still, but wait for review."""
    me = Person(name="Lucía Martín", role=Role.ME, aliases=("lucia", "Lucía M."),
                sites=("https://lucia.example/",))  # fmt: skip
    ben = Person(name="Ben Ortiz", aliases=("ben",), sites=("https://ben.example/",))
    thread = "https://ben.example/2024/retro/"
    comments = [
        comment(1, "Lucia", days=0, blog="Ben Ortiz", thread=thread,
                author_url="https://lucia-bakes.example/"),
        comment(2, "Ben", days=1, blog="Ben Ortiz", thread=thread, snippet="Thanks Lucia!"),
    ]  # fmt: skip
    posts = [
        post(
            thread,
            blog="Ben Ortiz",
            days=2,
            title="Retro",
            summary="My colleague Lucia ran the retro.",
        )
    ]
    result = detect(Watchlist(me=me, people=(ben,)), posts, comments, rules=RULES)
    lucia = ("ben.example", "lucia")
    assert {(e.kind.value, e.confirmed, e.name_matches) for e in result.events} == {
        ("my_comment", False, (lucia,)),
        ("their_reply", False, (lucia,)),
        ("their_mention", False, (lucia,)),
    }
    trusted = detect(Watchlist(me=me, people=(ben,)), posts, comments, rules=RULES, trusted={lucia})
    assert all(e.confirmed for e in trusted.events)
    # The same ids either way: a review decision stays attached to the detection.
    assert [e.id for e in trusted.events] == [e.id for e in result.events]


# ---------------------------------------------------------------------------
# My answers on my own blog

MY_THREAD_2 = "https://marian.example/2024/04/more/"


def on_mine(n: int, author: str, days: float, **kw: object) -> Comment:
    kw.setdefault("thread", MY_POST)
    if author == "Will Cooke":
        kw.setdefault("author_url", "https://whizzy.example/")
    return comment(n, author, days=days, blog="Marián Novák", **kw)  # type: ignore[arg-type]


MY_ANSWERS: list[tuple[str, list[Comment], set[tuple[str, str, str, bool]]]] = [
    (
        "my next comment in the thread answers theirs",
        [on_mine(1, "Will Cooke", 0), on_mine(2, "Marian Novak", 2)],
        {
            ("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True),
            ("my_comment", "Will Cooke", MY_POST + "#comment-2", True),
        },
    ),
    (
        "my explicit answer counts however late",
        [
            on_mine(1, "Will Cooke", 0),
            on_mine(2, "Marian Novak", 40, in_reply_to=MY_POST + "#comment-1"),
        ],
        {
            ("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True),
            ("my_comment", "Will Cooke", MY_POST + "#comment-2", True),
        },
    ),
    (
        "my comment 15 days after theirs, saying nothing of it, is no answer",
        [on_mine(1, "Will Cooke", 0), on_mine(2, "Marian Novak", 15)],
        {("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True)},
    ),
    (
        "my comment in another thread is no answer",
        [on_mine(1, "Will Cooke", 0), on_mine(2, "Marian Novak", 1, thread=MY_THREAD_2)],
        {("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True)},
    ),
    (
        "my explicit answer to a stranger answers nobody I follow",
        [
            on_mine(1, "Will Cooke", 0),
            on_mine(2, "Gareth", 1),
            on_mine(3, "Marian Novak", 2, in_reply_to=MY_POST + "#comment-2"),
        ],
        {("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True)},
    ),
    (
        "my second comment answers only what came after my first",
        [
            on_mine(1, "Will Cooke", 0),
            on_mine(2, "Marian Novak", 1),
            on_mine(3, "Sam Lee", 2),
            on_mine(4, "Marian Novak", 3),
        ],
        {
            ("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True),
            ("my_comment", "Will Cooke", MY_POST + "#comment-2", True),
            ("their_comment_on_mine", "Sam Lee", MY_POST + "#comment-3", False),
            ("my_comment", "Sam Lee", MY_POST + "#comment-4", False),
        },
    ),
    (
        "one comment of mine after two people's answers them both",
        [on_mine(1, "Will Cooke", 0), on_mine(2, "Sam Lee", 1), on_mine(3, "Marian Novak", 2)],
        {
            ("their_comment_on_mine", "Will Cooke", MY_POST + "#comment-1", True),
            ("their_comment_on_mine", "Sam Lee", MY_POST + "#comment-2", False),
            ("my_comment", "Will Cooke", MY_POST + "#comment-3", True),
            ("my_comment", "Sam Lee", MY_POST + "#comment-3", False),
        },
    ),
]


@pytest.mark.parametrize(
    ("comments", "expected"), [pytest.param(*row[1:], id=row[0]) for row in MY_ANSWERS]
)
def test_my_answers_on_my_own_blog(
    comments: list[Comment], expected: set[tuple[str, str, str, bool]]
) -> None:
    result = detect(WATCHLIST, [], comments, rules=RULES)
    assert {(e.kind.value, e.person, e.url, e.confirmed) for e in result.events} == expected
    for event in result.events:
        if event.kind is EventKind.MY_COMMENT:
            assert event.evidence.startswith("reply to their comment of 2024-03-0")
