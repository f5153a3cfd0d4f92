"""The watchlist: loading, every kind of mistake with its file:line:col, and editing in
place without disturbing a byte of what the user wrote."""

from __future__ import annotations

import difflib
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest

from engage import config
from engage.errors import ConfigError, EngageError
from engage.models import MAX_WATCHLIST_BYTES, EventKind, FeedKind, FeedRef, Role, SmtpSecurity

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "feeds.yaml"

MINIMAL = """\
me:
  name: Robin Quill
"""


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    return caught.value.lines


# ---------------------------------------------------------------------------
# A valid watchlist


def test_the_repo_example_loads_with_everything_it_promises() -> None:
    watchlist = config.load(EXAMPLE)
    assert watchlist.me.role is Role.ME
    assert watchlist.me.aliases  # comment authorship needs them
    assert {f.kind for f in watchlist.me.feeds} >= {FeedKind.BLOG, FeedKind.SOCIAL}
    assert 4 <= len(watchlist.people) <= 6
    assert 2 <= len(watchlist.contacts) <= 3
    kinds = {f.kind for p in watchlist.people for f in p.feeds}
    assert {FeedKind.BLOG, FeedKind.PODCAST, FeedKind.VIDEO, FeedKind.SOCIAL} <= kinds
    names = {p.name for p in watchlist.everyone()}
    for person in (*watchlist.people, *watchlist.contacts):
        assert set(person.knows) <= names, person.name
    assert watchlist.settings.digest.email_to
    assert watchlist.path == str(EXAMPLE)


def test_every_key_reaches_the_dataclasses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        me:
          name: Robin Quill
          aliases: [robinq]
          sites: [https://robin.example.net/]
          feeds:
            - https://robin.example.net/feed/
          handles: {mastodon: "@robinq@social.example.net"}
          interests: [feed readers]
        people:
          - name: Dana Vell
            aliases: [dana_v]
            feeds:
              - url: https://dana.example.org/podcast.xml
                kind: podcast
                title: Small Web Radio
                max_body_mb: 40
            handles: {bluesky: dana.example.org, email: dana@example.org}
            knows: [hollis]          # an alias is resolved to the name
            notes: "likes long posts "
            tags: [indieweb]
            company: Lanternworks
        contacts:
          - name: Hollis Pen
            aliases: [hollis]
            strength: 0.75
        settings:
          poll_interval: 30
          concurrency: 4
          per_host: 1
          timeout_seconds: 12.5
          max_body_mb: 2
          contact_url: https://robin.example.net/bot
          data_dir: data
          cache_days: 90
          digest:
            time: "06:45"
            to: robin@example.net
            from: engage@example.net
            smtp_host: smtp.example.net
            smtp_port: 2525
            smtp_user: robin
            smtp_password_env: SMTP_PASS
            starttls: true
          meter:
            points: {my_favour: 4, their_like: 0}
            half_life_days: 20
            ready_score: 14
            ready_exit_score: 11
            stay_in_touch_days: 60
        """,
    )
    w = config.load(path)
    assert w.me.interests == ("feed readers",)
    assert w.me.handles == {"mastodon": "@robinq@social.example.net"}
    dana = w.people[0]
    assert dana.feeds == (
        FeedRef(
            "https://dana.example.org/podcast.xml",
            FeedKind.PODCAST,
            "Small Web Radio",
            max_bytes=40 * 1024 * 1024,
        ),
    )
    assert dana.knows == ("Hollis Pen",)
    assert dana.notes == "likes long posts"
    assert (dana.company, dana.tags) == ("Lanternworks", ("indieweb",))
    assert dana.handles == {"bluesky": "dana.example.org", "email": "dana@example.org"}
    assert w.contacts[0].role is Role.CONTACT and w.contacts[0].strength == 0.75
    s = w.settings
    assert (s.poll_interval_minutes, s.concurrency, s.per_host) == (30, 4, 1)
    assert (s.timeout_seconds, s.max_body_bytes) == (12.5, 2 * 1024 * 1024)
    assert (s.data_dir, s.cache_days, s.contact_url) == (
        "data",
        90,
        "https://robin.example.net/bot",
    )
    d = s.digest
    assert d.time == time(6, 45) and d.email_to == "robin@example.net"
    assert (d.email_from, d.smtp_host, d.smtp_port) == (
        "engage@example.net",
        "smtp.example.net",
        2525,
    )
    assert (d.smtp_user, d.smtp_password_env) == ("robin", "SMTP_PASS")
    assert d.smtp_security is SmtpSecurity.STARTTLS  # the older `starttls: true` still reads
    m = s.meter
    assert m.points[EventKind.MY_FAVOUR] == 4 and m.points[EventKind.THEIR_LIKE] == 0
    assert m.points[EventKind.THEIR_REPLY] == 5  # untouched kinds keep their default
    assert (m.half_life_days, m.ready_score, m.ready_exit_score) == (20, 14, 11)
    assert m.stay_in_touch_days == 60 and m.gives_needed == 3


@pytest.mark.parametrize(
    ("digest", "security", "port"),
    [
        pytest.param("", SmtpSecurity.NONE, 25, id="nothing said: plain SMTP on 25"),
        pytest.param("{starttls: true}", SmtpSecurity.STARTTLS, 587, id="the older starttls key"),
        pytest.param("{starttls: false}", SmtpSecurity.NONE, 25, id="starttls false is plain"),
        pytest.param("{security: starttls}", SmtpSecurity.STARTTLS, 587, id="starttls by name"),
        pytest.param("{security: tls}", SmtpSecurity.TLS, 465, id="implicit TLS on 465"),
        pytest.param(
            "{security: tls, starttls: false}", SmtpSecurity.TLS, 465, id="both keys agreeing"
        ),
        pytest.param(
            "{security: starttls, smtp_port: 2525}",
            SmtpSecurity.STARTTLS,
            2525,
            id="a port given wins over the mode's usual one",
        ),
    ],
)
def test_the_smtp_security_mode_and_its_port(
    tmp_path: Path, digest: str, security: SmtpSecurity, port: int
) -> None:
    path = write(tmp_path, MINIMAL + f"settings:\n  digest: {digest or '{}'}\n")
    d = config.load(path).settings.digest
    assert (d.smtp_security, d.smtp_port) == (security, port)
    assert (d.time, d.smtp_timeout_seconds) == (time(7, 30), 30.0)


def test_empty_sections_mean_none_yet(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "people:\ncontacts:\nsettings:\n")
    w = config.load(path)
    assert (w.people, w.contacts) == ((), ())
    assert w.settings.poll_interval_minutes == 60


# ---------------------------------------------------------------------------
# Mistakes: each reported at FILE:LINE:COL with what is wrong and a hint

ERROR_CASES = [
    pytest.param(
        "me:\n  name: Robin\n  aliases: [a, b\n",
        "4:1: YAML syntax error: expected ',' or ']'",
        id="an unclosed flow list is a syntax error at the spot the parser gave up",
    ),
    pytest.param(
        "me:\n  name: Robin\n\tsites: []\n",
        "3:1: YAML syntax error: found character '\\t' that cannot start any token",
        id="a tab in the indentation says YAML wants spaces",
    ),
    pytest.param(
        "me:\n  name: Robin\n  name: Robin Q\n",
        "3:3: duplicate key 'name' (first at line 2",
        id="a duplicate key names the line of the first one",
    ),
    pytest.param(
        "me:\n  name: Robin\n  nmae: Rob\n",
        "3:3: unknown key 'nmae' in me (did you mean 'name'?)",
        id="a misspelt key suggests the right one",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    email: dana@example.org\n",
        "5:5: unknown key 'email' in people[0] (put it under handles: (email: …))",
        id="a handle written beside the name says it belongs under handles",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    handles: {mastodn: '@d@x.example'}\n",
        "5:15: unknown key 'mastodn' in people[0].handles (did you mean 'mastodon'?)",
        id="an unknown handle suggests the known one",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    aliases: Dana V\n",
        "5:14: people[0].aliases must be a list",
        id="a single string where a list belongs is a wrong type",
    ),
    pytest.param(
        MINIMAL + "settings:\n  concurrency: lots\n",
        "4:16: settings.concurrency must be a whole number, not text ('lots')",
        id="text where a number belongs is a wrong type",
    ),
    pytest.param(
        MINIMAL + "settings:\n  digest:\n    starttls: 1\n",
        "5:15: settings.digest.starttls must be true or false, not number (1)",
        id="a number where true/false belongs is not coerced",
    ),
    pytest.param(
        MINIMAL + "settings:\n  digest:\n    security: tls\n    starttls: true\n",
        "5:5: settings.digest: starttls: true disagrees with security: tls (keep security: only)",
        id="starttls and security that disagree",
    ),
    pytest.param(
        MINIMAL + "settings:\n  digest:\n    security: ssl\n",
        "5:15: settings.digest.security cannot be 'ssl' (one of: none, starttls, tls)",
        id="an unknown security mode lists the known ones",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n  - name: DANA\n",
        "5:11: 'DANA' is listed twice (first at line 4 as 'Dana'",
        id="the same person twice in people, whatever the case",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: José Núñez\n  - name: Jose Nunez\n",
        "5:11: 'Jose Nunez' is listed twice (first at line 4 as 'José Núñez'",
        id="names that differ only by accents are one person, as every command finds them",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    aliases: [Zoë]\n  - name: Zoe Quill\n"
        "    aliases: [zoe]\n",
        "7:15: alias 'zoe' of Zoe Quill is already Dana's name or alias",
        id="an alias differing only by accents points at one person",
    ),
    pytest.param(
        MINIMAL + "contacts:\n  - name: robin quill\n",
        "4:11: 'robin quill' is listed twice (first at line 2 as 'Robin Quill'",
        id="a contact with my own name is a duplicate of me",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds: [ftp://dana.example.org/feed]\n",
        "5:13: people[0].feeds[0].url: 'ftp://dana.example.org/feed' is not an http(s) URL",
        id="a feed URL that is not http(s)",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds:\n      - url: dana.example.org/feed\n",
        "6:14: people[0].feeds[0].url: 'dana.example.org/feed' is not an http(s) URL",
        id="a feed URL without a scheme, in the mapping form",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds: [http://127.0.0.1:99999/feed]\n",
        "5:13: people[0].feeds[0].url: 'http://127.0.0.1:99999/feed': port 99999 is out of "
        "range (ports are 1 to 65535)",
        id="a feed URL with a port past 65535",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds:\n      - url: http://127.0.0.1:-1/f\n",
        "6:14: people[0].feeds[0].url: 'http://127.0.0.1:-1/f': port '-1' is not a number",
        id="a feed URL with a negative port",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    sites: ['https://[::1]:0/']\n",
        "5:13: people[0].sites[0]: 'https://[::1]:0/': port 0 is out of range",
        id="a site URL with port 0",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds:\n      - url: https://d.example.org/f\n"
        "        kind: podcst\n",
        "7:15: people[0].feeds[0].kind cannot be 'podcst' (did you mean 'podcast'?)",
        id="an unknown feed kind suggests the close one",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds:\n      - kind: podcast\n",
        "6:9: people[0].feeds[0] is missing 'url'",
        id="a feed mapping without a url",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    knows: [Dnaa, Robin Quill]\n"
        "  - name: Milo\n    knows: [Zed]\n",
        "5:13: knows 'Dnaa', who is nobody in this file (did you mean 'Dana'?)",
        id="a knows name with a typo suggests the person",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    knows: [Zed Quorum]\n",
        "5:13: knows 'Zed Quorum', who is nobody in this file (add them under people:",
        id="a knows name that matches nobody at all",
    ),
    pytest.param(
        MINIMAL + "contacts:\n  - name: Hollis\n    strength: 1.5\n",
        "5:15: contacts[0].strength must be at most 1, not 1.5",
        id="a contact's strength above 1",
    ),
    pytest.param(
        MINIMAL + "settings:\n  poll_interval: 5\n",
        "4:18: poll_interval is 5 minutes, below the floor of 15",
        id="polling faster than every 15 minutes",
    ),
    pytest.param(
        MINIMAL + "settings:\n  digest:\n    time: '7 am'\n",
        "5:11: settings.digest.time: '7 am' is not a time of day (write it as \"HH:MM\"",
        id="a digest time that is not HH:MM",
    ),
    pytest.param(
        MINIMAL + "settings:\n  digest:\n    smtp_password_env: hunter2!\n",
        "5:24: settings.digest.smtp_password_env: 'hunter2!' is not an environment variable",
        id="a password pasted where the variable name belongs",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    points: {my_comentt: 3}\n",
        "5:14: unknown event kind 'my_comentt' in settings.meter.points "
        "(did you mean 'my_comment'?)",
        id="an unknown kind in meter.points",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    points:\n      my_share: -1\n",
        "6:17: settings.meter.points.my_share must be at least 0, not -1",
        id="negative points",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    half_life_days: 0\n",
        "5:21: settings.meter.half_life_days must be more than 0, not 0",
        id="a half-life of zero",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    ready_exit_score: 13\n",
        "5:23: settings.meter.ready_exit_score (13) is above settings.meter.ready_score "
        "(12, the default)",
        id="an exit score above the default ready score",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    ready_score: 9\n    ready_exit_score: 10\n",
        "6:23: settings.meter.ready_exit_score (10) is above settings.meter.ready_score (9)",
        id="an exit score above the ready score, both given",
    ),
    pytest.param(
        MINIMAL + "settings:\n  meter:\n    ask_park_days: 3\n",
        "5:20: settings.meter.ask_follow_up_days (7, the default) is above "
        "settings.meter.ask_park_days (3)",
        id="parking an ask before its follow-up is due",
    ),
    pytest.param(
        MINIMAL + "settings:\n  concurrency: 2\n  per_host: 4\n",
        "5:13: settings.per_host (4) is above settings.concurrency (2)",
        id="more requests per host than in total",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    feeds: [https://x.example.org/f]\n"
        "contacts:\n  - name: Hollis\n    feeds: ['https://X.example.org/f/']\n",
        "8:13: feed https://X.example.org/f/ is listed twice (first at line 5, under Dana",
        id="one feed listed under two people, spelt slightly differently",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    aliases: [dv]\n  - name: Dave\n    aliases: [DV]\n",
        "7:15: alias 'DV' of Dave is already Dana's name or alias",
        id="one alias for two people",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    aliases: [robin quill]\n",
        "5:15: alias 'robin quill' of Dana is already Robin Quill's name or alias",
        id="an alias that is someone else's name",
    ),
    pytest.param(
        MINIMAL + "people:\n  - name: Dana\n    stay_in_touch: soon\n",
        "5:20: people[0].stay_in_touch: 'soon' is not a cadence (write it like 30d, 6w or 3m)",
        id="a stay-in-touch cadence that is not one",
    ),
    pytest.param(
        MINIMAL + "settings:\n  stay_in_touch: {close: 0d}\n",
        "4:26: settings.stay_in_touch.close: '0d' is not a cadence (at least one day)",
        id="a tag's cadence of zero days",
    ),
    pytest.param(
        "people: []\n",
        "1:1: the watchlist is missing 'me'",
        id="no me section",
    ),
    pytest.param(
        "me:\n  aliases: [robinq]\n",
        "2:3: me is missing 'name'",
        id="me without a name",
    ),
    pytest.param(
        "",
        "1:1: the watchlist is empty",
        id="an empty file",
    ),
    pytest.param(
        "# nothing but a comment\n",
        "1:1: the watchlist is empty",
        id="a file with only comments",
    ),
    pytest.param(
        "me:\n  name: R\n? {a: [1]}\n: x\n",
        "3:3: a key must be a plain word, not a mapping",
        id="a stray question mark makes a mapping into a key",
    ),
    pytest.param(
        "me:\n  name: R\n  feeds: ['https://a[.example.org/f']\n",
        "3:11: me.feeds[0].url: 'https://a[.example.org/f' is not a valid URL",
        id="a stray bracket in a feed's host",
    ),
    pytest.param(
        "base: &b {title: 5}\nme:\n  name: R\n  feeds:\n    - <<: *b\n      url: https://x.example.org/f\n",
        "5:7: me.feeds[0].title must be text, not number (5)",
        id="a wrong value merged in from an anchor points at the merge",
    ),
    pytest.param(
        "me: &a\n  name: x\npeople:\n  - <<: *a\n",
        "4:5: 'x' is listed twice (first at line 2",
        id="a person made only of a merged anchor is a person listed twice",
    ),
    pytest.param(
        "- Robin\n",
        "1:1: the watchlist must be a mapping with the keys me:, people:",
        id="a list instead of a mapping",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_each_mistake_is_reported_at_its_line_and_column(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    lines = problems(path)
    prefix = f"{path}:"
    assert all(line.startswith(prefix) for line in lines), lines
    assert any(line.removeprefix(prefix).startswith(expected) for line in lines), lines


def test_every_problem_is_reported_at_once_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        me:
          name: Robin
          nmae: Rob
        people:
          - name: Dana
            feeds: [ftp://dana.example.org/feed]
            knows: [Nobody Here]
          - name: dana
        settings:
          poll_interval: 5
          poll_interval: 30
          meter:
            points: {my_coment: 1}
        """,
    )
    lines = problems(path)
    located = [line.split(": ", 1)[0].removeprefix(f"{path}:") for line in lines]
    assert located == ["3:3", "6:13", "7:13", "8:11", "10:18", "11:3", "13:14"], lines


def test_the_path_is_shown_as_the_user_gave_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "me: {name: Robin, nmae: x}\n", name="watch.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        config.load(Path("watch.yaml"))
    assert caught.value.lines == [
        "watch.yaml:1:19: unknown key 'nmae' in me (did you mean 'name'?)"
    ]


def test_a_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(b"me:\n  name: Ren\xe9\n")
    assert problems(path) == [f"{path}: not UTF-8 text (invalid continuation byte at byte 15)"]


# ---------------------------------------------------------------------------
# Editing in place

EDITABLE = """\
# My watchlist. Comments here must survive every edit.
me:
  name: Robin Quill   # that's me
  aliases: [robinq, "R. Quill"]
  feeds:
    - https://robin.example.net/feed/

people:
  - name: Dana Vell
    aliases: [dana_v]
    feeds:
      - https://dana.example.org/feed/
      - url: 'https://dana.example.org/podcast.xml'
        kind: podcast
    notes: likes long posts  # keep it short

  # Met at the meetup
  - name: Milo Fenn
    sites: [https://milo.example.com/]
    knows:
      - Dana Vell

# People I already know
contacts:
  - name: Hollis Pen
    strength: 0.5

settings:
  poll_interval: 60   # minutes
"""


def inserted_lines(before: str, after: str) -> list[str]:
    """The lines the edit added; fails if any line of `before` changed or moved."""
    added: list[str] = []
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (
            op,
            before.splitlines()[a0:a1],
            after.splitlines()[b0:b1],
        )
        if op == "insert":
            added.extend(after.splitlines()[b0:b1])
    return added


def test_add_person_appends_after_the_last_person_and_keeps_every_other_byte(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, EDITABLE)
    config.add_person(
        path,
        "Nadia Thorn",
        sites=["https://nadia.example.com/"],
        feeds=["https://nadia.example.com/feed.xml"],
        aliases=["nadia_t"],
    )
    after = path.read_text(encoding="utf-8")
    assert inserted_lines(EDITABLE, after) == [
        "  - name: Nadia Thorn",
        "    aliases: [nadia_t]",
        "    sites: [https://nadia.example.com/]",
        "    feeds:",
        "      - https://nadia.example.com/feed.xml",
    ]
    # The comment that introduces contacts still sits right above contacts:.
    assert (
        "      - https://nadia.example.com/feed.xml\n\n# People I already know\ncontacts:" in after
    )
    nadia = config.load(path).find("Nadia Thorn")
    assert nadia is not None and nadia.feeds == (FeedRef("https://nadia.example.com/feed.xml"),)


def test_add_person_with_a_feed_kind_writes_the_mapping_form(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    config.add_person(path, "Ola Brisk", feeds=["https://ola.example.org/rss"], kind="social")
    added = inserted_lines(EDITABLE, path.read_text(encoding="utf-8"))
    assert added == [
        "  - name: Ola Brisk",
        "    feeds:",
        "      - url: https://ola.example.org/rss",
        "        kind: social",
    ]


@pytest.mark.parametrize(
    ("who", "url", "kind", "title", "added", "owner"),
    [
        pytest.param(
            "Dana Vell",
            "https://dana.example.org/videos.xml",
            FeedKind.VIDEO,
            "Dana on video",
            [
                "      - url: https://dana.example.org/videos.xml",
                "        kind: video",
                "        title: Dana on video",
            ],
            "Dana Vell",
            id="a person's list grows at its end, before their notes",
        ),
        pytest.param(
            "dana_v",
            "https://dana.example.org/atom.xml",
            FeedKind.BLOG,
            None,
            ["      - https://dana.example.org/atom.xml"],
            "Dana Vell",
            id="a person named by an alias",
        ),
        pytest.param(
            "me",
            "https://robin.example.net/comments/feed/",
            FeedKind.COMMENTS,
            None,
            ["    - url: https://robin.example.net/comments/feed/", "      kind: comments"],
            "Robin Quill",
            id="my own feeds, named me",
        ),
        pytest.param(
            "Milo Fenn",
            "https://milo.example.com/feed/",
            FeedKind.BLOG,
            None,
            ["    feeds:", "      - https://milo.example.com/feed/"],
            "Milo Fenn",
            id="someone with no feeds yet gets a feeds list after their sites",
        ),
        pytest.param(
            "hollis pen",
            "https://hollis.example.org/rss",
            FeedKind.BLOG,
            None,
            ["    feeds:", "      - https://hollis.example.org/rss"],
            "Hollis Pen",
            id="a contact, named in another case",
        ),
    ],
)
def test_add_feed_inserts_only_the_new_lines(
    tmp_path: Path,
    who: str,
    url: str,
    kind: FeedKind,
    title: str | None,
    added: list[str],
    owner: str,
) -> None:
    path = write(tmp_path, EDITABLE)
    config.add_feed(path, who, url, kind=kind, title=title)
    assert inserted_lines(EDITABLE, path.read_text(encoding="utf-8")) == added
    found = config.find_feed_owner(config.load(path), url)
    assert found is not None and found.name == owner


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            lambda p: config.add_feed(p, "Milo Fenn", "https://dana.example.org/feed"),
            "Dana Vell already has feed https://dana.example.org/feed",
            id="a feed someone else has, spelt without the trailing slash",
        ),
        pytest.param(
            lambda p: config.add_feed(p, "Dana Vell", "https://dana.example.org/podcast.xml"),
            "Dana Vell already has feed https://dana.example.org/podcast.xml",
            id="a feed the person already has",
        ),
        pytest.param(
            lambda p: config.add_person(p, "dana vell"),
            "dana vell is already in",
            id="a person already listed",
        ),
        pytest.param(
            lambda p: config.add_person(p, "Robin Quill"),
            "Robin Quill is already in",
            id="a person with my own name",
        ),
        pytest.param(
            lambda p: config.add_person(p, "Zed", feeds=["https://robin.example.net/feed/"]),
            "Robin Quill already has feed https://robin.example.net/feed/",
            id="a new person with my own feed",
        ),
        pytest.param(
            lambda p: config.add_feed(p, "Dana Vel", "https://dana.example.org/x"),
            "nobody called 'Dana Vel' in",
            id="adding to someone who is not there suggests the name",
        ),
        pytest.param(
            lambda p: config.add_feed(p, "Dana Vell", "dana.example.org/x"),
            "feed URL 'dana.example.org/x' is not an http(s) URL",
            id="a feed URL without a scheme",
        ),
        pytest.param(
            lambda p: config.add_feed(p, "Dana Vell", "https://d.example.org/x", kind="vlog"),
            "unknown feed kind 'vlog'",
            id="an unknown kind",
        ),
        pytest.param(
            lambda p: config.add_person(p, "  "),
            "a person needs a name",
            id="a blank name",
        ),
    ],
)
def test_refused_edits_leave_the_file_alone(
    tmp_path: Path, edit: Callable[[Path], object], message: str
) -> None:
    path = write(tmp_path, EDITABLE)
    with pytest.raises(EngageError) as caught:
        edit(path)
    assert message in str(caught.value)
    assert path.read_text(encoding="utf-8") == EDITABLE
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]  # no temp file left


def test_a_broken_watchlist_is_not_edited(tmp_path: Path) -> None:
    broken = EDITABLE.replace("strength: 0.5", "strength: lots")
    path = write(tmp_path, broken)
    with pytest.raises(ConfigError) as caught:
        config.add_person(path, "Nadia Thorn")
    assert caught.value.lines[0].startswith(f"{path}:26:15: contacts[0].strength")
    assert path.read_text(encoding="utf-8") == broken


def test_an_edit_keeps_the_files_own_indentation(tmp_path: Path) -> None:
    wide = """\
me:
    name: Robin Quill
people:
-   name: Dana Vell
    feeds:
    -   "https://dana.example.org/feed/"
settings:
    poll_interval: 60
"""
    path = write(tmp_path, wide)
    config.add_feed(path, "Dana Vell", "https://dana.example.org/p.xml", kind=FeedKind.PODCAST)
    config.add_person(path, "Ola Brisk", feeds=["https://ola.example.org/rss"])
    assert inserted_lines(wide, path.read_text(encoding="utf-8")) == [
        "    -   url: https://dana.example.org/p.xml",
        "        kind: podcast",
        "-   name: Ola Brisk",
        "    feeds:",
        "    -   https://ola.example.org/rss",
    ]


def test_adding_to_a_file_without_people_creates_the_section_before_settings(
    tmp_path: Path,
) -> None:
    text = "me:\n  name: Robin Quill\n\nsettings:\n  poll_interval: 60\n"
    path = write(tmp_path, text)
    config.add_person(path, "Dana Vell")
    assert inserted_lines(text, path.read_text(encoding="utf-8")) == [
        "people:",
        "  - name: Dana Vell",
    ]
    assert config.load(path).people[0].name == "Dana Vell"


def test_add_people_adds_new_people_and_new_feeds_and_skips_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    added = config.add_people(
        path,
        [
            (
                "Dana Vell",
                [
                    FeedRef("https://dana.example.org/feed"),
                    FeedRef("https://dana.example.org/new.xml"),
                ],
            ),
            ("Ola Brisk", [FeedRef("https://ola.example.org/rss", FeedKind.SOCIAL)]),
            ("Ola Brisk", [FeedRef("https://ola.example.org/rss")]),
            ("Zed Known", [FeedRef("https://robin.example.net/feed/")]),
        ],
    )
    assert added == (1, 2)
    after = path.read_text(encoding="utf-8")
    assert inserted_lines(EDITABLE, after) == [
        "      - https://dana.example.org/new.xml",
        "  - name: Ola Brisk",
        "    feeds:",
        "      - url: https://ola.example.org/rss",
        "        kind: social",
    ]
    assert config.add_people(path, [("Ola Brisk", [FeedRef("https://ola.example.org/rss")])]) == (
        0,
        0,
    )
    assert path.read_text(encoding="utf-8") == after


def test_apply_moves_rewrites_urls_in_both_forms_and_keeps_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    changed = config.apply_moves(
        path,
        {
            "https://dana.example.org/podcast.xml": "https://pod.example.org/dana.xml",
            "http://robin.example.net/feed/": "https://robin.example.net/feed.xml",
            "https://gone.example.org/feed": "https://elsewhere.example.org/feed",
        },
    )
    assert changed == 1  # http:// is a different URL from the https:// that is listed
    changed = config.apply_moves(
        path, {"https://robin.example.net/feed/": "https://robin.example.net/feed.xml"}
    )
    assert changed == 1
    after = path.read_text(encoding="utf-8")
    expected = EDITABLE.replace(
        "'https://dana.example.org/podcast.xml'", "'https://pod.example.org/dana.xml'"
    ).replace("- https://robin.example.net/feed/", "- https://robin.example.net/feed.xml")
    assert after == expected


def test_apply_moves_with_nothing_to_move_does_not_touch_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    before = path.stat().st_mtime_ns
    assert config.apply_moves(path, {"https://nowhere.example.org/": "https://x.example.org/"}) == 0
    assert path.stat().st_mtime_ns == before


def test_a_move_onto_a_feed_someone_else_has_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    with pytest.raises(EngageError) as caught:
        config.apply_moves(
            path, {"https://dana.example.org/feed/": "https://robin.example.net/feed/"}
        )
    assert "the edit would make it invalid" in caught.value.lines[0]
    assert "is listed twice" in caught.value.lines[-1]
    assert path.read_text(encoding="utf-8") == EDITABLE


def test_editing_the_repo_example_keeps_its_comments(tmp_path: Path) -> None:
    original = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text(original, encoding="utf-8")
    config.add_person(path, "Nadia Thorn", feeds=["https://nadia.example.com/feed.xml"])
    config.add_feed(path, "me", "https://robin.example.net/comments/feed/", kind="comments")
    config.add_feed(path, config.load(path).contacts[-1].name, "https://c.example.org/feed")
    added = inserted_lines(original, path.read_text(encoding="utf-8"))
    assert len(added) == 7, added


def test_find_feed_owner_matches_loosely_and_returns_none_for_strangers() -> None:
    watchlist = config.load(EXAMPLE)
    first = watchlist.people[0]
    url = first.feeds[0].url
    assert url.endswith("/")
    spelt_otherwise = url.replace("https://", "HTTPS://").rstrip("/")
    owner = config.find_feed_owner(watchlist, spelt_otherwise)
    assert owner is not None and owner.name == first.name
    assert config.find_feed_owner(watchlist, url + "other") is None
    me = config.find_feed_owner(watchlist, watchlist.me.feeds[0].url)
    assert me is not None and me.role is Role.ME


COMMENT_CASES = [
    pytest.param(
        "me:\n  name: R\ncontacts:\n  - name: Hollis   # from work\n# the end\n",
        lambda p: config.add_feed(p, "Hollis", "https://h.example.org/f"),
        "me:\n  name: R\ncontacts:\n  - name: Hollis   # from work\n"
        "    feeds:\n      - https://h.example.org/f\n# the end\n",
        id="a new feeds key goes above the comment that closes the file",
    ),
    pytest.param(
        "me:\n  name: R\npeople:\n  - name: Milo\n    # how to reach him\n    handles: {}\n",
        lambda p: config.add_feed(p, "Milo", "https://m.example.org/f"),
        "me:\n  name: R\npeople:\n  - name: Milo\n    feeds:\n      - https://m.example.org/f\n"
        "    # how to reach him\n    handles: {}\n",
        id="a comment above the next key stays above that key",
    ),
    pytest.param(
        "me:\n  name: R\n  feeds:\n    - https://r.example.org/f  # mine\n\n"
        "# settings follow\nsettings:\n  poll_interval: 60\n",
        lambda p: config.add_person(p, "Ola"),
        "me:\n  name: R\n  feeds:\n    - https://r.example.org/f  # mine\n"
        "people:\n  - name: Ola\n\n# settings follow\nsettings:\n  poll_interval: 60\n",
        id="a new people section goes above the comment that introduces settings",
    ),
    pytest.param(
        "me:\n  name: R\npeople:\n  - name: Dana\n    knows:\n      - Milo   # old friends\n\n"
        "# contacts next\ncontacts:\n  - name: Milo\n",
        lambda p: config.add_person(p, "Ola"),
        "me:\n  name: R\npeople:\n  - name: Dana\n    knows:\n      - Milo   # old friends\n"
        "  - name: Ola\n\n# contacts next\ncontacts:\n  - name: Milo\n",
        id="an end-of-line comment stays on its line, the lines after it move down",
    ),
    pytest.param(
        "me:\n  name: R\npeople:\n  - name: Dana\n    feeds: [https://d.example.org/f]\n",
        lambda p: config.add_feed(p, "Dana", "https://d.example.org/g"),
        "me:\n  name: R\npeople:\n  - name: Dana\n"
        "    feeds: [https://d.example.org/f, https://d.example.org/g]\n",
        id="a flow list stays a flow list",
    ),
]


@pytest.mark.parametrize(("text", "edit", "expected"), COMMENT_CASES)
def test_comments_stay_with_what_they_describe(
    tmp_path: Path, text: str, edit: Callable[[Path], object], expected: str
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    edit(path)
    assert path.read_text(encoding="utf-8") == expected


def test_an_edit_refuses_to_overwrite_a_change_made_meanwhile(tmp_path: Path) -> None:
    path = write(tmp_path, EDITABLE)
    document = config._Document(path)
    document.tree["people"].append({"name": "Ola Brisk"})
    path.write_text(EDITABLE + "# saved from an editor meanwhile\n", encoding="utf-8")
    with pytest.raises(EngageError, match="changed while engage was editing it"):
        document.save()
    assert path.read_text(encoding="utf-8").endswith("# saved from an editor meanwhile\n")


ADD_FEEDS = """
import sys
from pathlib import Path
from engage import config
path, who = Path(sys.argv[1]), sys.argv[2]
for n in range(5):
    config.add_feed(path, who, f"https://{who.lower()}.example.org/feed{n}.xml")
"""


def test_four_processes_adding_feeds_at_once_lose_none(tmp_path: Path) -> None:
    import subprocess
    import sys

    names = ["Ana", "Bo", "Cy", "Di"]
    text = "me:\n  name: Robin\npeople:\n" + "".join(f"  - name: {n}\n" for n in names)
    path = write(tmp_path, text)
    workers = [
        subprocess.Popen([sys.executable, "-c", ADD_FEEDS, str(path), name]) for name in names
    ]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0, 0]
    watchlist = config.load(path)
    for person in watchlist.people:
        assert len(person.feeds) == 5, person
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]


def test_a_windows_file_keeps_its_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(EDITABLE.replace("\n", "\r\n").encode())
    config.add_feed(path, "Milo Fenn", "https://milo.example.com/feed/")
    raw = path.read_bytes().decode()
    assert raw.count("\r\n") == raw.count("\n") == EDITABLE.count("\n") + 2


def test_no_mangled_copy_of_the_example_crashes_the_loader() -> None:
    """Typing mistakes anywhere in a real file give located messages, never a traceback."""
    import random

    base = EXAMPLE.read_text(encoding="utf-8")
    rng = random.Random(20261125)
    debris = [" ", "-", ":", "[", "]", "{", "}", "'", '"', "#", "\t", "\n", "&a", "*a", "? "]
    located = 0
    for _ in range(100):
        text = base
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            if rng.random() < 0.5:
                text = text[:at] + rng.choice(debris) + text[at:]
            else:
                text = text[:at] + text[at + rng.randint(1, 8) :]
        try:
            config.load_text(text, "feeds.yaml")
        except ConfigError as exc:
            assert all(line.startswith("feeds.yaml:") for line in exc.lines), exc.lines
            located += 1
    assert located > 30  # the mangling really did break most copies


# ---------------------------------------------------------------------------
# Warnings: aliases strangers share (they never fail the check)

ALIAS_WARNINGS = [
    ("a first name alone", "lucia", "is a first name alone"),
    ("a first name with its accent", "Lucía", "is a first name alone"),
    ("the surname alone", "martin", "is one word of the name alone"),
    ("under four letters", "Lu", "is shorter than 4 letters"),
    ("initials", "L. M.", "is shorter than 4 letters"),
    ("a handle", "lmartin", None),
    ("a first name and an initial", "Lucía M.", None),
    ("the full name in another spelling", "Lucia Martin", None),
]


@pytest.mark.parametrize(
    ("alias", "why"), [pytest.param(*row[1:], id=row[0]) for row in ALIAS_WARNINGS]
)
def test_aliases_that_strangers_share_are_warned_about(
    tmp_path: Path, alias: str, why: str | None
) -> None:
    path = write(
        tmp_path,
        f"""\
        me:
          name: Lucía Martín
          aliases: ["{alias}"]
        """,
    )
    config.load(path)  # valid: a warning is not a problem
    found = config.warnings(path)
    if why is None:
        assert found == []
    else:
        assert found == [
            f"{path}:3:13: warning: alias '{alias}' of Lucía Martín {why}: strangers sign with "
            "it too, so a comment matched on it alone is not taken for you until you review "
            "it (add the site or profile URL that identifies them under sites:, or a fuller "
            "alias)"
        ]


def test_the_example_watchlist_has_no_warnings() -> None:
    assert config.warnings(EXAMPLE) == []


CADENCES = [
    ("days as a number", "45", 45),
    ("days", "30d", 30),
    ("weeks", "6w", 42),
    ("months of 30 days", "3 months", 90),
]


@pytest.mark.parametrize(("text", "days"), [pytest.param(*r[1:], id=r[0]) for r in CADENCES])
def test_stay_in_touch_cadences_per_person_and_per_tag(
    tmp_path: Path, text: str, days: int
) -> None:
    path = write(
        tmp_path,
        f"""\
        me:
          name: Robin Quill
        people:
          - name: Dana
            stay_in_touch: {text}
          - name: Lee
            tags: [close]
        settings:
          stay_in_touch:
            close: 2w
        """,
    )
    watchlist = config.load(path)
    dana, lee = watchlist.people
    assert dana.stay_in_touch_days == days
    assert lee.stay_in_touch_days is None
    assert watchlist.settings.stay_in_touch_by_tag == {"close": 14}


# ---------------------------------------------------------------------------
# Mastodon and Bluesky handles: what users paste is read into one spelling


def test_handles_are_read_into_one_spelling(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        me:
          name: Robin Quill
          handles: {mastodon: "https://Social.Example.net/@robinq", bluesky: "@Robin.Bsky.Social"}
        people:
          - name: Dana
            handles:
              mastodon: dana@fedi.example.org
              bluesky: https://bsky.app/profile/did:plc:danadanadanadanadanadana
        """,
    )
    w = config.load(path)
    assert w.me.handles == {
        "mastodon": "@robinq@social.example.net",
        "bluesky": "robin.bsky.social",
    }
    assert w.people[0].handles == {
        "mastodon": "@dana@fedi.example.org",
        "bluesky": "did:plc:danadanadanadanadanadana",
    }


def test_a_handle_that_cannot_be_read_is_reported_at_its_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        me:
          name: Robin Quill
          handles: {mastodon: "@robinq"}
        people:
          - name: Dana
            handles:
              bluesky: "@dana@fedi.example.org"
        """,
    )
    assert problems(path) == [
        f"{path}:3:23: me.handles.mastodon: '@robinq' has no server (write the whole address, "
        "like @robinq@mastodon.social)",
        f"{path}:7:16: people[0].handles.bluesky: '@dana@fedi.example.org' looks like a Mastodon "
        "address (put it under mastodon:; a Bluesky handle has no second @, like "
        "name.bsky.social)",
    ]


def test_one_account_under_two_people_is_refused_where_it_is_repeated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        me:
          name: Robin Quill
        people:
          - name: Dana
            handles: {mastodon: "https://social.example.org/@dana"}
          - name: Dan
            handles: {mastodon: "@Dana@Social.Example.org", bluesky: dan.example.org}
          - name: Lee
            handles: {bluesky: "@Dan.Example.org"}
        """,
    )
    assert problems(path) == [
        f"{path}:7:25: mastodon handle @Dana@Social.Example.org is listed twice (first at "
        "line 5, under Dana; an account belongs to one person)",
        f"{path}:9:24: bluesky handle @Dan.Example.org is listed twice (first at line 7, "
        "under Dan; an account belongs to one person)",
    ]


def test_the_social_api_settings(tmp_path: Path) -> None:
    default = config.load(write(tmp_path, MINIMAL)).settings
    assert (default.bluesky_appview, default.mastodon_api) == ("https://public.api.bsky.app", {})
    path = write(
        tmp_path,
        MINIMAL
        + textwrap.dedent(
            """\
        settings:
          bluesky_appview: http://127.0.0.1:8080/
          mastodon_api:
            Example.org: https://social.example.org/
            https://fedi.example.net: http://127.0.0.1:9000
        """
        ),
    )
    settings = config.load(path).settings
    assert settings.bluesky_appview == "http://127.0.0.1:8080"
    assert settings.mastodon_api == {
        "example.org": "https://social.example.org",
        "fedi.example.net": "http://127.0.0.1:9000",
    }
    bad = write(
        tmp_path,
        MINIMAL
        + textwrap.dedent(
            """\
        settings:
          bluesky_appview: public.api.bsky.app
          mastodon_api:
            social example: https://api.example.org
            social.example.org: [https://api.example.org]
        """
        ),
    )
    assert problems(bad) == [
        f"{bad}:4:20: settings.bluesky_appview: 'public.api.bsky.app' is not an http(s) URL "
        "(write it in full, like https://example.org/feed/)",
        f"{bad}:6:5: settings.mastodon_api.social example: 'social example' has a space in it "
        "(write it like mastodon.social)",
        f"{bad}:7:25: settings.mastodon_api.social.example.org must be text, not list",
    ]


def test_set_handle_fills_handles_and_keeps_the_file(tmp_path: Path) -> None:
    before = """\
    me:
      name: Robin Quill   # me
    people:
      - name: Dana
        feeds:
          - https://dana.example.org/feed/   # her blog

        # Lee next
      - name: Lee
        handles: {bluesky: lee.example.com}
    """
    path = write(tmp_path, before)
    assert config.set_handle(path, "Dana", "mastodon", "https://social.example.org/@dana") is None
    assert config.set_handle(path, "Lee", "mastodon", "lee@fedi.example.net") is None
    assert config.set_handle(path, "Lee", "bluesky", "@Lee.Example.com") is None  # the same
    assert config.set_handle(path, "Lee", "bluesky", "other.example.com") == "lee.example.com"
    assert config.set_handle(path, "Robin Quill", "bluesky", "robin.bsky.social") is None
    assert path.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        me:
          name: Robin Quill   # me
          handles:
            bluesky: robin.bsky.social
        people:
          - name: Dana
            feeds:
              - https://dana.example.org/feed/   # her blog
            handles:
              mastodon: '@dana@social.example.org'

            # Lee next
          - name: Lee
            handles: {bluesky: lee.example.com, mastodon: '@lee@fedi.example.net'}
        """
    )
    with pytest.raises(EngageError, match="mastodon handle 'dana' has no server"):
        config.set_handle(path, "Dana", "mastodon", "dana")


# ---------------------------------------------------------------------------
# A watchlist cannot hang engage: size and alias limits, deep nesting, odd characters


def alias_bomb(levels: int) -> str:
    """A few lines that expand to 9**levels strings once every alias is followed."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n" + MINIMAL


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    # A hang guard, not a speed test: before the limits these ran for minutes.
    return subprocess.run(
        [sys.executable, "-m", "engage", "check", "--config", str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_an_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, alias_bomb(9))
    done = run_check(path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{path}:")
    assert "aliases (*name) repeat more than 10,000 values" in done.stderr


def test_an_alias_inside_its_own_value_is_refused(tmp_path: Path) -> None:
    for text in ("x: &a [*a]\n", "x: &a {b: *a}\n", "x: &a [[1, *a]]\n"):
        path = write(tmp_path, MINIMAL + text)
        done = run_check(path)
        assert done.returncode == 2, text
        assert done.stderr.startswith(f"{path}:3:4: an alias refers to the value that contains"), (
            done.stderr
        )


def test_aliases_within_the_limit_work(tmp_path: Path) -> None:
    circle = ", ".join(f"Person {i}" for i in range(30))
    people = "".join(
        f"  - name: Person {i}\n    tags: {'&circle ' if i == 0 else ''}"
        f"{'[' + circle + ']' if i == 0 else '*circle'}\n"
        for i in range(30)
    )
    path = write(tmp_path, MINIMAL + "people:\n" + people)
    watchlist = config.load(path)
    assert all(len(p.tags) == 30 for p in watchlist.people)
    # 30 tags in each of 400 entries is 12,000 values brought in by aliases: too many.
    more = "".join(f"  - name: Someone {i}\n    tags: *circle\n" for i in range(400))
    write(tmp_path, MINIMAL + "people:\n" + people + more)
    assert "repeat more than 10,000 values" in problems(path)[0]


def test_a_watchlist_above_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    line = "# an old note pasted in by mistake, again and again and again\n"
    path.write_text(MINIMAL + line * (5 * 1024 * 1024 // len(line)), encoding="utf-8")
    done = run_check(path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"{path}:1:1: the watchlist is 5.0 MiB, more than the 1 MiB engage reads (1,000 "
        "people written like the example are about 0.5 MB: look for a long block of comments "
        "or text pasted in by mistake)"
    )


def test_the_size_limit_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    filler = MAX_WATCHLIST_BYTES - len(MINIMAL) - 1
    path.write_text(MINIMAL + "#" * (filler - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == MAX_WATCHLIST_BYTES - 1
    assert config.load(path).me.name == "Robin Quill"
    with path.open("a") as file:
        file.write("##")
    assert problems(path)[0].startswith(f"{path}:1:1: the watchlist is 1.0 MiB, more than")
    with pytest.raises(ConfigError):
        config.load_text(path.read_text(encoding="utf-8"))


def test_a_long_run_of_comments_loads_and_survives_an_edit(tmp_path: Path) -> None:
    # Comment lines used to be joined into one string one line at a time (time in the square
    # of their number); a long run of them after the last value must load, and an edit must
    # still keep them.
    block = "".join(f"# note {i}: someone I no longer follow\n" for i in range(20_000))
    path = write(tmp_path, EDITABLE + block)
    assert config.load(path).me.name == "Robin Quill"
    config.add_feed(path, "Dana Vell", "https://dana.example.org/talks.xml")
    assert path.read_text(encoding="utf-8").endswith(block)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("me:\n  name: Rob\x00in\n", "2:12: U+0000 "),
        ("me:\n  name: Robin\n\x07\n", "3:1: U+0007 (BEL) "),
        ("me: " + "[" * 3000 + "]" * 3000 + "\n", "1:1: values nested too deeply to read"),
        ("me: {name: Robin, '\\n': x}\n", "1:19: unknown key '\\n' in me"),
    ],
    ids=["NUL in a name", "a bell character", "3,000 nested lists", "a newline in a key"],
)
def test_odd_text_is_one_located_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    (line, *_) = lines = problems(path)
    assert line.startswith(f"{path}:{where}"), line
    assert all("\n" not in each for each in lines)
