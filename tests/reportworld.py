"""A small, fixed world for the web report's tests and its screenshots: a watchlist, a
store written directly (events, posts, feed states, all at fixed dates) and an `Engage`
whose clock stands still at NOW, served by the real report on a live local server.

What each person is at NOW, worked out from the events below (docs/design.md, "The
engagement meter"):
- Ada Lanternfield: ready to ask (three replies from her on three days, the last 3 days
  ago; three comments of mine; score over 12).
- Bram Quillhaven: met yesterday, no follow-up yet: in dialogue; his old feed moved (301).
- Cyra Moonwhistle: replied to my comment 9 days ago, unanswered: a reply I owe. Hollis,
  a contact, knows her: an introduction path with a drafted note.
- Dov Teaselby: nothing yet: cold. Asking him would be a cold invitation.
- Fenn Marrowby: talked 100 days ago: went cold; his feed fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from browser import LiveServer

from engage.app import Engage
from engage.models import (
    DIRECTION,
    Event,
    EventKind,
    EventSource,
    FeedKind,
    FeedState,
    FeedStatus,
    Post,
)
from engage.store import Store
from engage.web.endpoints import create_report

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # whole minutes: the reading moment is NOW
SECRET = b"a fixed secret for the report's tests"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
K = EventKind

WATCHLIST = """\
me:
  name: Wren Inkwell
  sites: [https://wren.example.net/]
  interests: [feeds, small web]
people:
  - name: Ada Lanternfield
    aliases: [ada]
    sites: [https://ada.example.org/]
    feeds:
      - https://ada.example.org/feed/
      - {url: https://ada.example.org/podcast.rss, kind: podcast, title: Ada on air}
    notes: Writes about comment culture; answers comments within a day or two.
  - name: Bram Quillhaven
    feeds: [https://bram.example.org/atom.xml]
  - name: Cyra Moonwhistle
    sites: [https://cyra.example.org/]
  - name: Dov Teaselby
  - name: Fenn Marrowby
    feeds: [https://fenn.example.org/feed/]
contacts:
  - name: Hollis Pennywhistle
    strength: 0.8
    knows: [Cyra Moonwhistle]
"""


def ev(who: str, kind: EventKind, days_before: float, url: str | None = None) -> Event:
    when = NOW - timedelta(days=days_before)
    return Event(
        id=f"test:{who.split()[0].lower()}:{kind.value}:{days_before:g}",
        person=who,
        kind=kind,
        when=when,
        direction=DIRECTION[kind],
        source=EventSource.AUTO,
        url=url,
        evidence=f'comment on "A post": "{kind.value.replace("_", " ")}"' if url else "",
        created=when,
    )


ADA_POST = "https://ada.example.org/{}/"
EVENTS = [
    ev("Ada Lanternfield", K.MY_COMMENT, 20, ADA_POST.format("feeds") + "#comment-1"),
    ev("Ada Lanternfield", K.THEIR_REPLY, 19, ADA_POST.format("feeds") + "#comment-2"),
    ev("Ada Lanternfield", K.MY_COMMENT, 12, ADA_POST.format("blogroll") + "#comment-7"),
    ev("Ada Lanternfield", K.THEIR_REPLY, 11, ADA_POST.format("blogroll") + "#comment-8"),
    ev("Ada Lanternfield", K.MY_SHARE, 6, "https://wren.example.net/links/"),
    ev("Ada Lanternfield", K.THEIR_COMMENT_ON_MINE, 3, "https://wren.example.net/notes/#c-4"),
    ev("Bram Quillhaven", K.MET_IN_PERSON, 1),
    ev("Cyra Moonwhistle", K.MY_COMMENT, 12, "https://cyra.example.org/tapes/#comment-4"),
    ev("Cyra Moonwhistle", K.THEIR_REPLY, 9, "https://cyra.example.org/tapes/#comment-5"),
    ev("Fenn Marrowby", K.MY_COMMENT, 101, "https://fenn.example.org/back/#comment-1"),
    ev("Fenn Marrowby", K.THEIR_REPLY, 100, "https://fenn.example.org/back/#comment-2"),
]


def post(who: str, feed: str, slug: str, title: str, days: float, summary: str) -> Post:
    when = NOW - timedelta(days=days)
    return Post(
        person=who, feed=feed, id=slug, link=f"https://ada.example.org/{slug}/", title=title,
        published=when, summary=summary, first_seen=when, comment_count=2,
    )  # fmt: skip


POSTS = [
    post("Ada Lanternfield", "https://ada.example.org/feed/", "promise",
         "Why a feed is a promise", 1,
         "<p>Publishing a feed is a promise to keep the URL working, and to keep "
         "<em>writing</em>.</p>"),
    post("Ada Lanternfield", "https://ada.example.org/podcast.rss", "episode-12",
         "Episode 12: the slow web", 4, "<p>An hour on comment sections that work.</p>"),
    post("Ada Lanternfield", "https://ada.example.org/feed/", "blogroll",
         "What a blogroll is for", 13, "<p>A list of people you would introduce.</p>"),
]  # fmt: skip
MOVED_FROM = "https://bram.example.org/atom.xml"
MOVED_TO = "https://bram.example.org/feed/atom/"
FEEDS = [
    FeedState(url="https://ada.example.org/feed/", person="Ada Lanternfield",
              title="Ada's notebook", status=FeedStatus.OK,
              last_poll=NOW - timedelta(minutes=20), last_success=NOW - timedelta(minutes=20),
              next_check=NOW + timedelta(minutes=40)),
    FeedState(url="https://ada.example.org/podcast.rss", person="Ada Lanternfield",
              kind=FeedKind.PODCAST, title="Ada on air", status=FeedStatus.NOT_MODIFIED,
              last_poll=NOW - timedelta(minutes=20), last_success=NOW - timedelta(minutes=20),
              next_check=NOW + timedelta(hours=2)),
    FeedState(url=MOVED_FROM, person="Bram Quillhaven", status=FeedStatus.OK,
              last_success=NOW - timedelta(hours=1), moved_to=MOVED_TO,
              next_check=NOW + timedelta(minutes=30)),
    FeedState(url="https://fenn.example.org/feed/", person="Fenn Marrowby",
              status=FeedStatus.ERROR, last_error="HTTP 500 Internal Server Error",
              last_error_type="http", failures=3, last_poll=NOW - timedelta(hours=2),
              last_success=NOW - timedelta(days=12), next_check=NOW + timedelta(hours=6)),
]  # fmt: skip


def write_world(folder: Path) -> tuple[Path, Path]:
    """(the watchlist, the data folder) of the fixed world, in `folder`."""
    config = folder / "feeds.yaml"
    config.write_text(WATCHLIST, encoding="utf-8")
    data = folder / "data"
    with Store(data).transaction(now=NOW) as tx:
        tx.add_events(EVENTS)
        tx.put_posts(POSTS)
        tx.put_feeds(FEEDS)
    return config, data


@dataclass
class Report:
    """The served report of a world: its server, its facade, its files."""

    server: LiveServer
    app: Engage
    config: Path
    data: Path

    def at(self, path: str) -> str:
        return self.server.at(path)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, follow_redirects=False, timeout=60)

    def visit(self, path: str = "/") -> tuple[str, str]:
        """(the cookie a browser would send back, a form token of the page)."""
        with self.client() as client:
            response = client.get(path)
        assert response.status_code == 200, response.text
        cookie = response.headers["set-cookie"].split(";")[0]
        match = TOKEN.search(response.text)
        assert match is not None
        return cookie, match.group(1)


@contextmanager
def serving(config: Path, data: Path, *, now: datetime | None = NOW) -> Iterator[Report]:
    """The report of this watchlist and data folder on a free port; its clock stands
    still at `now` (None: the real clock)."""
    clock = (lambda: now) if now is not None else None
    app = Engage(config, data, clock=clock)
    with LiveServer(lambda port: create_report(app, port, secret=SECRET)) as server:
        yield Report(server, app, config, data)
