"""The codec and the store in one process: shapes, upserts, tombstones, forget, prune,
schema versions, damaged files, and the `export` / `forget` commands."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage import models
from engage.codec import from_json, to_json
from engage.detect import identity_of
from engage.errors import StoreError
from engage.models import (
    DIRECTION,
    Comment,
    Event,
    EventKind,
    EventSource,
    FeedState,
    FeedStatus,
    IntroEvidence,
    Network,
    Person,
    Post,
    Role,
    SocialAccount,
)
from engage.social.accounts import SocialPost
from engage.social.mastodon import Status
from engage.store import (
    BACKUP_SUFFIX,
    CACHE,
    LOCK,
    PRECIOUS,
    SCHEMA,
    Forgetting,
    Snapshot,
    Store,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=2))


# ---------------------------------------------------------------------------
# Builders


def post(
    n: int,
    *,
    person: str = "Dana",
    title: str | None = None,
    published: datetime | None = NOW,
    first_seen: datetime | None = None,
    feed: str | None = None,
) -> Post:
    site = f"https://{person.lower()}.example"
    return Post(
        person=person,
        feed=feed or f"{site}/feed",
        id=f"post-{n}",
        link=f"{site}/{n}",
        title=title or f"Post {n}",
        published=published,
        first_seen=first_seen,
    )


def comment(
    n: int,
    *,
    person: str = "Dana",
    author: str = "Me",
    post_link: str | None = None,
    first_seen: datetime | None = None,
) -> Comment:
    site = f"https://{person.lower()}.example"
    return Comment(
        person=person,
        feed=f"{site}/comments/feed",
        id=f"comment-{n}",
        post_link=post_link or f"{site}/{n}",
        link=f"{site}/{n}#comment-{n}",
        author=author,
        author_url=None,
        published=NOW - timedelta(hours=n),
        first_seen=first_seen,
    )


def event(
    event_id: str,
    *,
    person: str = "Dana",
    kind: EventKind = EventKind.MY_COMMENT,
    when: datetime = NOW,
    source: EventSource = EventSource.MANUAL,
    url: str | None = None,
) -> Event:
    return Event(
        id=event_id,
        person=person,
        kind=kind,
        when=when,
        direction=DIRECTION[kind],
        source=source,
        url=url,
    )


def feed(url: str, person: str = "Dana", **changes: Any) -> FeedState:
    return FeedState(url=url, person=person, **changes)


def evidence(n: int, contact: str = "Carl", person: str = "Dana") -> IntroEvidence:
    return IntroEvidence(
        id=f"ev-{n}",
        contact=contact,
        person=person,
        url=f"https://{person.lower()}.example/{n}#comment-9",
        when=NOW,
        kind="contact_commented",
    )


# ---------------------------------------------------------------------------
# Codec


def sample(tp: Any, n: int = 0) -> Any:
    """A value of type `tp` that differs from every default, built from the type hints so
    a dataclass added to models.py later is covered without touching this test."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return sample(next(a for a in typing.get_args(tp) if a is not type(None)), n)
    if origin is tuple:
        args = typing.get_args(tp)
        if args[-1] is Ellipsis:
            return (sample(args[0], n), sample(args[0], n + 1))
        return tuple(sample(arg, n + i) for i, arg in enumerate(args))
    if origin in (Mapping, dict):
        key, value = typing.get_args(tp)
        return {sample(key, n): sample(value, n), sample(key, n + 1): sample(value, n + 1)}
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(
            **{f.name: sample(hints[f.name], n + i) for i, f in enumerate(dataclasses.fields(tp))}
        )
    if isinstance(tp, type) and issubclass(tp, Enum):
        members = list(tp)
        return members[(n + 1) % len(members)]
    samples: dict[Any, Any] = {
        str: f"text é {n}",
        int: 1000 + n,
        float: 0.25 + n,
        bool: True,
        bytes: b"\x00\xffbody",
        datetime: datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=CET) + timedelta(days=n),
        time: time(7, 30),
    }
    return samples[tp]


MODEL_CLASSES = sorted(
    (
        obj
        for obj in vars(models).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    ),
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_every_model_survives_a_trip_through_json_text(cls: type) -> None:
    original = sample(cls)
    text = json.dumps(to_json(original))
    assert from_json(cls, json.loads(text)) == original


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_every_model_with_only_its_defaults_survives_the_trip(cls: type) -> None:
    hints = typing.get_type_hints(cls)
    required = {
        f.name: sample(hints[f.name])
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    original = cls(**required)
    assert from_json(cls, json.loads(json.dumps(to_json(original)))) == original


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EventKind.THEIR_REPLY, "their_reply"),
        (datetime(2026, 1, 2, 3, 4, tzinfo=CET), "2026-01-02T03:04:00+02:00"),
        (datetime(2026, 1, 2, 3, 4), "2026-01-02T03:04:00+00:00"),  # naive is taken as UTC
        (("a", "b"), ["a", "b"]),
        ({EventKind.CALL: 7.0}, {"call": 7.0}),
        (frozenset({"b", "a"}), ["a", "b"]),
        (None, None),
    ],
    ids=["enum", "aware time keeps its offset", "naive time", "tuple", "enum keys", "set", "none"],
)
def test_to_json_shapes(value: Any, expected: Any) -> None:
    assert to_json(value) == expected


def test_from_json_fills_missing_keys_with_defaults_and_ignores_unknown_ones() -> None:
    data = {
        "id": "e1",
        "person": "Dana",
        "kind": "call",
        "when": "2026-03-01T12:00:00",  # an old file without offsets meant UTC
        "direction": "both",
        "added_by_a_newer_engage": {"x": 1},
    }
    assert from_json(Event, data) == Event(
        id="e1",
        person="Dana",
        kind=EventKind.CALL,
        when=NOW,
        direction=models.Direction.BOTH,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "person": "Dana",
                "kind": "call",
                "when": "2026-03-01T12:00:00+00:00",
                "direction": "in",
            },
            "missing 'id'",
        ),
        (
            {
                "id": "e",
                "person": "Dana",
                "kind": "hug",
                "when": "2026-03-01T12:00:00+00:00",
                "direction": "in",
            },
            "kind",
        ),
        (
            {"id": "e", "person": "Dana", "kind": "call", "when": "yesterday", "direction": "in"},
            "when",
        ),
        (
            {
                "id": 5,
                "person": "Dana",
                "kind": "call",
                "when": "2026-03-01T12:00:00+00:00",
                "direction": "in",
            },
            "id",
        ),
    ],
    ids=["required key missing", "unknown enum value", "time that is no time", "number for text"],
)
def test_from_json_says_what_is_wrong(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_json(Event, data)


# ---------------------------------------------------------------------------
# Store: a new folder, reads and writes


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data")


def test_a_new_store_creates_its_folder_and_a_versioned_file_but_no_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "deep" / "data")
    data = json.loads((store.folder / PRECIOUS).read_text())
    assert list(data["meta"].values()) == [{"key": "schema", "value": SCHEMA}]
    assert not (store.folder / CACHE).exists()
    assert store.snapshot() == Snapshot()


def test_put_posts_updates_a_changed_post_instead_of_adding_it_twice(store: Store) -> None:
    earlier = NOW - timedelta(days=3)
    with store.transaction(now=earlier) as tx:
        assert tx.put_posts([post(1), post(2, first_seen=NOW - timedelta(days=9))]) == 2
    with store.transaction(now=NOW) as tx:
        assert tx.put_posts([post(1, title="Post 1, edited"), post(3)]) == 1
        assert [p.title for p in tx.posts()] == ["Post 1, edited", "Post 2", "Post 3"]

    by_id = {p.id: p for p in store.posts()}
    assert len(store.posts()) == 3
    assert by_id["post-1"].title == "Post 1, edited"
    assert by_id["post-1"].first_seen == earlier  # kept from its first storing
    assert by_id["post-2"].first_seen == NOW - timedelta(days=9)  # given by the caller
    assert by_id["post-3"].first_seen == NOW  # new: stamped with the transaction's now


def test_the_same_post_id_in_two_feeds_is_two_posts(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.put_posts([post(1), post(1, feed="https://dana.example/podcast")]) == 2
    assert len(store.posts()) == 2


def test_put_comments_upserts_by_feed_and_id(store: Store) -> None:
    with store.transaction(now=NOW - timedelta(days=1)) as tx:
        assert tx.put_comments([comment(1), comment(2)]) == 2
    with store.transaction(now=NOW) as tx:
        changed = dataclasses.replace(comment(1), snippet="edited")
        assert tx.put_comments([changed, comment(2)]) == 0
    comments = {c.id: c for c in store.comments()}
    assert len(comments) == 2
    assert comments["comment-1"].snippet == "edited"
    assert comments["comment-1"].first_seen == NOW - timedelta(days=1)


def test_posts_come_newest_first_with_undated_ones_last_and_filter_by_person(store: Store) -> None:
    with store.transaction(now=NOW) as tx:
        tx.put_posts(
            [
                post(1, published=NOW - timedelta(days=2)),
                post(2, published=None),
                post(3, published=NOW),
                post(4, person="Eve", published=NOW - timedelta(days=1)),
            ]
        )
    assert [p.id for p in store.posts()] == ["post-3", "post-4", "post-1", "post-2"]
    assert [p.id for p in store.posts(person="dana")] == ["post-3", "post-1", "post-2"]
    since = NOW - timedelta(days=1, hours=1)
    # The undated post counts from when it was first seen (NOW).
    assert [p.id for p in store.posts(since=since)] == ["post-3", "post-4", "post-2"]


def test_events_come_oldest_first_and_a_repeated_id_is_not_added_twice(store: Store) -> None:
    with store.transaction(now=NOW) as tx:
        added = tx.add_events([event("b", when=NOW), event("a", when=NOW - timedelta(days=1))])
        assert [e.created for e in added] == [NOW, NOW]
    with store.transaction() as tx:
        again = tx.add_events([event("a"), event("c", person="Eve", when=NOW + timedelta(hours=1))])
        assert [e.id for e in again] == ["c"]
    assert [e.id for e in store.events()] == ["a", "b", "c"]
    assert [e.id for e in store.events(person="DANA")] == ["a", "b"]


def test_an_undone_event_stays_undone_when_detection_finds_it_again(store: Store) -> None:
    with store.transaction() as tx:
        tx.add_events([event("auto-1", source=EventSource.AUTO), event("kept")])
    with store.transaction() as tx:
        removed = tx.remove_event("auto-1")
        assert removed is not None and removed.id == "auto-1"
        assert tx.remove_event("never-there") is None
    with store.transaction() as tx:
        assert tx.add_events([event("auto-1", source=EventSource.AUTO)]) == []
    assert store.tombstones() == {"auto-1"}
    assert [e.id for e in store.events()] == ["kept"]


def test_rebuilding_detection_removes_only_detected_events_and_keeps_tombstones(
    store: Store,
) -> None:
    with store.transaction() as tx:
        tx.add_events(
            [
                event("dana-auto", source=EventSource.AUTO),
                event("dana-manual"),
                event("eve-auto", person="Eve", source=EventSource.AUTO),
                event("undone", source=EventSource.AUTO),
            ]
        )
        tx.remove_event("undone")
    with store.transaction() as tx:
        assert tx.remove_auto_events(person="dana") == 1
        assert {e.id for e in tx.events()} == {"dana-manual", "eve-auto"}
        assert tx.remove_auto_events() == 1
    assert [e.id for e in store.events()] == ["dana-manual"]
    assert store.tombstones() == {"undone"}


def test_feeds_are_upserted_by_url_and_can_be_removed(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_feeds([feed("https://a.example/feed"), feed("https://b.example/feed")])
    with store.transaction() as tx:
        tx.put_feeds([feed("https://a.example/feed", status=FeedStatus.OK, etag='W/"1"')])
        assert tx.remove_feed("https://b.example/feed")
        assert not tx.remove_feed("https://nowhere.example/feed")
    assert store.feeds() == [feed("https://a.example/feed", status=FeedStatus.OK, etag='W/"1"')]
    assert store.feed("https://a.example/feed") is not None
    assert store.feed("https://b.example/feed") is None


def test_intro_evidence_is_upserted_by_id_and_found_from_either_side(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.put_intro_evidence([evidence(1), evidence(2, contact="Dana", person="Eve")]) == 2
    with store.transaction() as tx:
        assert tx.put_intro_evidence([evidence(1), evidence(3, person="Eve")]) == 1
    assert len(store.intro_evidence()) == 3
    assert {i.id for i in store.intro_evidence(person="dana")} == {"ev-1", "ev-2"}


def jo(company: str, url: str | None, name: str = "Jo Bloggs") -> Person:
    handles = {"linkedin": url} if url else {}
    return Person(name, Role.CONTACT, company=company, handles=handles)


def test_linkedin_contacts_are_keyed_by_profile_url_else_name_and_company(store: Store) -> None:
    with store.transaction() as tx:
        # Two people named Jo Bloggs: two profiles, two rows.
        assert tx.put_linkedin_contacts(
            [jo("Acme", "https://www.linkedin.com/in/jo1"),
             jo("Globex", "https://www.linkedin.com/in/jo2")]
        ) == (2, 0)  # fmt: skip
    with store.transaction() as tx:
        # The same profile again, now at another company and in another case: an update.
        assert tx.put_linkedin_contacts(
            [jo("Initech", "https://www.linkedin.com/in/jo1/", name="jo bloggs")]
        ) == (0, 1)
        assert tx.put_linkedin_contacts([jo("Globex", "https://www.linkedin.com/in/jo2")]) == (
            0,
            0,
        )
        # Without a URL: name and company, case-insensitive.
        assert tx.put_linkedin_contacts([jo("Acme", None, name="Ann Lee")]) == (1, 0)
        assert tx.put_linkedin_contacts([jo("ACME", None, name="ann lee")]) == (0, 1)
        assert tx.put_linkedin_contacts([jo("Globex", None, name="Ann Lee")]) == (1, 0)
    stored = sorted((p.name, p.company) for p in store.linkedin_contacts())
    assert stored == [
        ("Ann Lee", "Globex"),
        ("Jo Bloggs", "Globex"),
        ("ann lee", "ACME"),
        ("jo bloggs", "Initech"),
    ]


def test_reads_inside_a_transaction_see_its_own_changes_before_commit(store: Store) -> None:
    with store.transaction() as tx:
        tx.add_events([event("x")])
        tx.put_posts([post(1)])
        assert [e.id for e in tx.events()] == ["x"]
        assert [p.id for p in tx.posts()] == ["post-1"]
        assert store.events() == []  # not on disk yet


def test_an_exception_inside_a_transaction_writes_nothing(store: Store) -> None:
    with store.transaction() as tx:
        tx.add_events([event("before")])
    before = (store.folder / PRECIOUS).read_bytes()
    with pytest.raises(KeyError), store.transaction() as tx:
        tx.add_events([event("lost")])
        tx.put_posts([post(1)])
        raise KeyError("a bug in the middle of a poll")
    assert (store.folder / PRECIOUS).read_bytes() == before
    assert not (store.folder / CACHE).exists()
    assert [e.id for e in store.events()] == ["before"]


def test_a_transaction_rewrites_only_the_file_it_changed(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_posts([post(1)])
        tx.add_events([event("a")])
    cache_inode = (store.folder / CACHE).stat().st_ino
    with store.transaction() as tx:
        tx.add_events([event("b")])
        tx.put_posts([post(1)])  # unchanged: no write
    assert (store.folder / CACHE).stat().st_ino == cache_inode
    precious_inode = (store.folder / PRECIOUS).stat().st_ino
    with store.transaction() as tx:
        assert tx.add_events([event("b")]) == []
    assert (store.folder / PRECIOUS).stat().st_ino == precious_inode


def test_a_transaction_inside_another_is_refused(store: Store) -> None:
    with (
        store.transaction(),
        pytest.raises(RuntimeError, match="already open"),
        store.transaction(),
    ):
        pass


def test_threads_sharing_one_store_lose_nothing(store: Store) -> None:
    # The web report answers forms on threads while the daemon's tick writes too.
    def write(prefix: str) -> None:
        for n in range(40):
            with store.transaction() as tx:
                tx.add_events([event(f"{prefix}-{n}")])

    threads = [threading.Thread(target=write, args=(f"t{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(store.events()) == 120


def test_meta_keeps_small_values_but_not_the_schema_version(store: Store) -> None:
    with store.transaction() as tx:
        tx.set_meta("last_digest", NOW)
        with pytest.raises(ValueError):
            tx.set_meta("schema", 99)
    assert store.get_meta("last_digest") == NOW.isoformat()
    assert store.get_meta("missing", "default") == "default"
    assert store.snapshot().meta == {"last_digest": NOW.isoformat()}


def test_load_precious_only_does_not_read_posts_or_comments(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_posts([post(1)])
        tx.put_comments([comment(1)])
        tx.add_events([event("a")])
    (store.folder / CACHE).write_text("not json at all")  # proves the cache is never opened
    quick = store.load_precious_only()
    assert (quick.posts, quick.comments, quick.with_cache) == ((), (), False)
    assert [e.id for e in quick.events] == ["a"]


def test_snapshot_reads_everything(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_feeds([feed("https://dana.example/feed")])
        tx.put_posts([post(1)])
        tx.put_comments([comment(1)])
        tx.add_events([event("a"), event("b")])
        tx.remove_event("b")
        tx.put_intro_evidence([evidence(1)])
        tx.put_linkedin_contacts([Person("Ann Lee", Role.CONTACT)])
    snap = store.snapshot()
    assert len(snap.feeds) == len(snap.posts) == len(snap.comments) == len(snap.events) == 1
    assert snap.tombstones == frozenset({"b"})
    assert len(snap.intro_evidence) == len(snap.linkedin_contacts) == 1


# ---------------------------------------------------------------------------
# forget and prune


def fill_for_forget(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_feeds([feed("https://dana.example/feed"), feed("https://eve.example/feed", "Eve")])
        tx.put_posts([post(1), post(2, person="Eve", feed="https://eve.example/feed")])
        tx.put_comments(
            [
                comment(1),  # on Dana's blog
                comment(2, person="Eve", author="Dana"),  # by Dana on Eve's blog
                comment(3, person="Eve", author="Me"),
            ]
        )
        tx.add_events([event("d1"), event("d2"), event("e1", person="Eve")])
        tx.remove_event("d2")
        tx.confirm_event("d1")
        tx.trust_names([("dana.example", "dana")], "Dana")
        tx.put_intro_evidence(
            [evidence(1), evidence(2, contact="Dana", person="Eve"), evidence(3, person="Eve")]
        )
        tx.put_linkedin_contacts([Person("Dana", Role.CONTACT), Person("Ann", Role.CONTACT)])
        tx.remember_people([Person("Dana", aliases=("dana r.",)), Person("Eve")])
        tx.put_social_accounts(
            [
                SocialAccount(Network.MASTODON, "@dana@social.dana.example", "Dana"),
                SocialAccount(Network.BLUESKY, "eve.example.org", "Eve"),
            ]
        )
        tx.put_social_posts([toot(1, "Dana"), toot(2, "Eve")])


def toot(n: int, person: str, *, first_seen: datetime | None = None) -> SocialPost:
    """A status kept for detection: `person`'s, on their Mastodon account."""
    user = person.lower()
    status = Status(
        id=str(n),
        uri=f"https://social.{user}.example/users/{user}/statuses/{n}",
        url=f"https://social.{user}.example/@{user}/{n}",
        account_id="1",
        account_acct=user,
        created=NOW - timedelta(days=n),
        text="a short snippet",
    )
    account = f"mastodon:@{user}@social.{user}.example"
    return SocialPost(account, person, status.uri, status.created, first_seen, status=status)


def test_forget_removes_every_record_about_a_person_and_nothing_else(store: Store) -> None:
    fill_for_forget(store)
    with store.transaction() as tx:
        counts = tx.forget(Forgetting(identity_of(Person("Dana"))))
    assert {kind: n for kind, n in counts.items() if n} == {
        "events": 1,
        "undo markers": 1,
        "feeds": 1,
        "posts": 1,
        "confirmed detections": 1,
        "trusted names": 1,
        "comments on their feeds": 1,
        "comments they wrote": 1,
        "intro evidence": 2,
        "LinkedIn entries": 1,
        "social accounts": 1,
        "social statuses": 1,
    }
    everything = json.dumps(json.loads((store.folder / PRECIOUS).read_text())) + json.dumps(
        json.loads((store.folder / CACHE).read_text())
    )
    assert "Dana" not in everything and "dana.example" not in everything
    snap = store.snapshot()
    assert [f.person for f in snap.feeds] == ["Eve"]
    assert [c.id for c in snap.comments] == ["comment-3"]
    assert [e.id for e in snap.events] == ["e1"]
    assert [i.id for i in snap.intro_evidence] == ["ev-3"]
    assert [p.name for p in snap.linkedin_contacts] == ["Ann"]
    assert [a.person for a in snap.social_accounts] == ["Eve"]
    assert [p.person for p in snap.social_posts] == ["Eve"]


@pytest.mark.parametrize(
    ("situation", "item_age_days", "pointed_at", "kept"),
    [
        ("recent posts stay", 10, None, True),
        ("old posts go", 200, None, False),
        ("an old post an event points to stays", 200, "event", True),
        ("an old post the caller names stays", 200, "caller", True),
    ],
)
def test_prune_drops_old_cache_except_what_is_pointed_at(
    store: Store, situation: str, item_age_days: int, pointed_at: str | None, kept: bool
) -> None:
    old = post(1, first_seen=NOW - timedelta(days=item_age_days))
    keep_urls: set[str] = set()
    with store.transaction() as tx:
        tx.put_posts([old])
        if pointed_at == "event":
            tx.add_events([event("mention", kind=EventKind.THEIR_MENTION, url=old.link)])
        if pointed_at == "caller":
            keep_urls.add(str(old.link))
    with store.transaction() as tx:
        removed = tx.prune_cache(NOW, 180, keep_urls)
    assert removed == (0 if kept else 1), situation
    assert [p.id for p in store.posts()] == (["post-1"] if kept else [])


def test_prune_keeps_the_comments_of_a_thread_an_event_points_to(store: Store) -> None:
    long_ago = NOW - timedelta(days=365)
    with store.transaction() as tx:
        tx.put_comments(
            [
                comment(1, first_seen=long_ago),
                comment(2, first_seen=long_ago, post_link="https://dana.example/1"),
                comment(3, first_seen=long_ago),
            ]
        )
        tx.add_events([event("mine", url="https://dana.example/1#comment-1")])
    with store.transaction() as tx:
        # comment-1 is what the event points to; comment-2 is on the post the caller
        # keeps (it is in that thread); comment-3 is neither and goes.
        assert tx.prune_cache(NOW, 180, {"https://dana.example/1"}) == 1
    assert sorted(c.id for c in store.comments()) == ["comment-1", "comment-2"]


def test_prune_keeps_the_statuses_an_event_links_to(store: Store) -> None:
    long_ago = NOW - timedelta(days=365)
    with store.transaction() as tx:
        assert tx.put_social_posts([toot(n, "Dana", first_seen=long_ago) for n in (1, 2)]) == 2
        assert tx.put_social_posts([toot(3, "Dana", first_seen=NOW)]) == 1
        # The same status again keeps the moment it was first seen.
        assert tx.put_social_posts([toot(1, "Dana", first_seen=NOW)]) == 0
        # An event's link, written another way (scheme, trailing slash), still keeps it.
        tx.add_events([event("reply", url="http://social.dana.example/@dana/1/")])
    with store.transaction() as tx:
        assert tx.prune_cache(NOW, 180, set()) == 1
    assert [p.status.id for p in store.snapshot().social_posts if p.status] == ["3", "1"]


@pytest.mark.parametrize(
    ("situation", "first", "then", "stored"),
    [
        (
            "a detected comment already logged by hand is not added",
            ("manual", EventKind.MY_COMMENT, "https://dana.example/1#comment-2"),
            ("auto", EventKind.MY_COMMENT, "http://www.dana.example/1/#comment-2"),
            ["manual"],
        ),
        (
            "another kind at the same link is another interaction",
            ("manual", EventKind.MY_SHARE, "https://dana.example/1"),
            ("auto", EventKind.MY_COMMENT, "https://dana.example/1"),
            ["manual", "auto"],
        ),
        (
            "another link is another interaction",
            ("manual", EventKind.MY_COMMENT, "https://dana.example/1#comment-2"),
            ("auto", EventKind.MY_COMMENT, "https://dana.example/1#comment-3"),
            ["manual", "auto"],
        ),
        (
            "two detected events at one link stay two (their ids tell them apart)",
            ("auto", EventKind.MY_COMMENT, "https://dana.example/1"),
            ("auto", EventKind.MY_COMMENT, "https://dana.example/1"),
            ["auto", "auto"],
        ),
        (
            "without a link only the ids decide",
            ("manual", EventKind.MY_COMMENT, None),
            ("auto", EventKind.MY_COMMENT, None),
            ["manual", "auto"],
        ),
    ],
)
def test_one_interaction_logged_by_hand_and_detected_counts_once(
    store: Store,
    situation: str,
    first: tuple[str, EventKind, str | None],
    then: tuple[str, EventKind, str | None],
    stored: list[str],
) -> None:
    def made(n: int, spec: tuple[str, EventKind, str | None]) -> Event:
        source, kind, url = spec
        return event(f"{source}-{n}", kind=kind, url=url, source=EventSource(source))

    with store.transaction() as tx:
        tx.add_events([made(1, first)])
    with store.transaction() as tx:
        tx.add_events([made(2, then)])
        # What logging by hand asks before it stores: a detected copy of the same thing.
        same = tx.same_interaction(made(3, ("manual", then[1], then[2])))
    assert [e.source.value for e in store.events()] == stored, situation
    detected = [e.id for e in store.events() if e.source is EventSource.AUTO]
    assert (same.id if same else None) == (detected[0] if detected and then[2] else None)


# ---------------------------------------------------------------------------
# Files: orphans, backups, damage, versions


def test_orphan_temp_files_from_a_killed_writer_are_cleaned_at_start(tmp_path: Path) -> None:
    Store(tmp_path)
    orphans = [f".{PRECIOUS}.0a1b.tmp", f".{CACHE}.2c3d.tmp", f".{PRECIOUS}{BACKUP_SUFFIX}.4e.tmp"]
    for name in orphans:
        (tmp_path / name).write_text('{"half": ')
    (tmp_path / "notes.tmp").write_text("the user's, not ours")
    Store(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [PRECIOUS, LOCK, "notes.tmp"]


def test_each_write_keeps_the_previous_precious_file_as_a_backup(store: Store) -> None:
    with store.transaction() as tx:
        tx.add_events([event("a")])
    previous = (store.folder / PRECIOUS).read_bytes()
    with store.transaction() as tx:
        tx.add_events([event("b")])
    assert (store.folder / (PRECIOUS + BACKUP_SUFFIX)).read_bytes() == previous


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"events": {"1": {"id": "a", ', "Expecting"),
        (b"\xff\xfe\x00garbage", "can't decode"),
        (b'["a list"]', "top level is not an object"),
        (b'{"events": {"1": "not a document"}}', "is not a document"),
        (b'{"events": {"1": {"person": "Dana"}}}', "'id'"),
        (b"[" * 200_000 + b"\n", "nested too deeply to be engage's data"),
    ],
    ids=[
        "cut short",
        "not text",
        "not TinyDB",
        "a table of strings",
        "a document without its id",
        "nested past any parser's depth",
    ],
)
def test_a_damaged_precious_file_is_a_clear_error_that_points_at_the_backup(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    store = Store(tmp_path)
    with store.transaction() as tx:
        tx.add_events([event("a")])
    with store.transaction() as tx:
        tx.add_events([event("b")])
    (tmp_path / PRECIOUS).write_bytes(content)
    with pytest.raises(StoreError) as caught:
        store.events()
    message = str(caught.value)
    assert message.startswith(str(tmp_path / PRECIOUS))
    assert reason in message
    assert f"cp {tmp_path / (PRECIOUS + BACKUP_SUFFIX)} {tmp_path / PRECIOUS}" in message
    # The advice works: the backup holds the last good version.
    os.replace(tmp_path / (PRECIOUS + BACKUP_SUFFIX), tmp_path / PRECIOUS)
    assert [e.id for e in Store(tmp_path).events()] == ["a"]


def test_a_damaged_file_without_backup_says_so(tmp_path: Path) -> None:
    (tmp_path / PRECIOUS).write_text("{")
    with pytest.raises(StoreError, match="there is no backup"):
        Store(tmp_path)


def test_a_damaged_cache_is_set_aside_with_one_notice_and_reads_go_on(tmp_path: Path) -> None:
    notices: list[str] = []
    store = Store(tmp_path, notify=notices.append)
    with store.transaction() as tx:
        tx.add_events([event("a")])
    (tmp_path / CACHE).write_text('{"posts": ')
    assert store.posts() == []
    assert [e.id for e in store.events()] == ["a"]  # the precious data is still there to read
    [notice] = notices
    assert "cache.json was damaged (Expecting value" in notice
    assert "the next `engage poll` fetches its posts and comments again" in notice
    assert not (tmp_path / CACHE).exists()


def write_newer(folder: Path, version: int = 3, *, compact: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"meta": {"1": {"key": "schema", "value": version}}, "events": {}}
    (folder / PRECIOUS).write_text(json.dumps(doc, separators=(",", ":") if compact else None))


@pytest.mark.parametrize("compact", [True, False], ids=["as engage writes it", "reformatted"])
def test_a_file_from_a_newer_engage_is_refused_with_a_clear_message(
    tmp_path: Path, compact: bool
) -> None:
    write_newer(tmp_path, compact=compact)
    before = (tmp_path / PRECIOUS).read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / PRECIOUS} was written by a newer engage "
        f"(schema 3; this one reads up to {SCHEMA}): upgrade engage"
    )
    assert (tmp_path / PRECIOUS).read_bytes() == before


def test_damage_past_the_version_is_found_by_the_first_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction() as tx:
        tx.add_events([event("a")])
    damaged = (tmp_path / PRECIOUS).read_bytes()[:-20]
    (tmp_path / PRECIOUS).write_bytes(damaged)
    store = Store(tmp_path)  # the version at the start is fine
    with pytest.raises(StoreError, match="cannot read it"):
        store.load_precious_only()


def v0_file() -> dict[str, Any]:
    """What engage wrote before schema 1: one file, no meta, no event directions."""
    return {
        "_default": {},
        "events": {
            "1": {
                "id": "e1",
                "person": "Dana",
                "kind": "their_reply",
                "when": "2026-01-05T10:00:00+00:00",
            },
            "2": {
                "id": "e2",
                "person": "Dana",
                "kind": "my_comment",
                "when": "2026-01-04T10:00:00+00:00",
            },
        },
        "feeds": {"1": {"url": "https://dana.example/feed", "person": "Dana"}},
        "posts": {"1": to_json(post(1)), "2": to_json(post(2))},
        "comments": {"1": to_json(comment(1))},
    }


def test_an_old_file_without_a_version_is_migrated(tmp_path: Path) -> None:
    (tmp_path / PRECIOUS).write_text(json.dumps(v0_file()))
    store = Store(tmp_path)

    precious = json.loads((tmp_path / PRECIOUS).read_text())
    cache = json.loads((tmp_path / CACHE).read_text())
    assert set(precious) == {"meta", "events", "feeds", "identities"}
    # Every name in the old records became the key of an identity of its own.
    assert [i["key"] for i in precious["identities"].values()] == ["Dana"]
    assert list(precious["meta"].values()) == [{"key": "schema", "value": SCHEMA}]
    assert list(cache["meta"].values()) == [{"key": "schema", "value": SCHEMA}]
    assert len(cache["posts"]) == 2 and len(cache["comments"]) == 1
    assert [(e.id, e.direction) for e in store.events()] == [
        ("e2", models.Direction.OUT),
        ("e1", models.Direction.IN),
    ]
    assert sorted(p.id for p in store.posts()) == ["post-1", "post-2"]


def test_a_migration_cut_short_after_the_cache_was_written_runs_again_cleanly(
    tmp_path: Path,
) -> None:
    # The cache is written first; a kill before engage.json leaves posts in both files.
    (tmp_path / PRECIOUS).write_text(json.dumps(v0_file()))
    (tmp_path / CACHE).write_text(
        json.dumps({"meta": {"1": {"key": "schema", "value": 1}}, "posts": {"1": to_json(post(1))}})
    )
    store = Store(tmp_path)
    assert sorted(p.id for p in store.posts()) == ["post-1", "post-2"]


# ---------------------------------------------------------------------------
# The commands


def run_engage(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ENGAGE_DATA", "ENGAGE_CONFIG")
    }
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run(
        [sys.executable, "-m", "engage", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_export_writes_everything_as_one_json_document(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    fill_for_forget(store)
    result = run_engage(tmp_path, "export", "--data", str(data))
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    snap = store.snapshot()
    assert exported["schema"] == SCHEMA
    assert [from_json(Event, e) for e in exported["events"]] == list(snap.events)
    assert [from_json(Post, p) for p in exported["posts"]] == list(snap.posts)
    assert [from_json(Comment, c) for c in exported["comments"]] == list(snap.comments)
    assert [from_json(FeedState, f) for f in exported["feeds"]] == list(snap.feeds)
    assert [from_json(IntroEvidence, i) for i in exported["intro_evidence"]] == list(
        snap.intro_evidence
    )
    assert [from_json(Person, p) for p in exported["linkedin_contacts"]] == list(
        snap.linkedin_contacts
    )
    assert exported["tombstones"] == ["d2"]

    to_file = run_engage(tmp_path, "export", "--data", str(data), "--output", "out.json")
    assert to_file.returncode == 0, to_file.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == exported


def test_forget_asks_first_and_keeps_everything_when_told_no(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fill_for_forget(Store(data))
    before = (data / PRECIOUS).read_bytes()
    result = run_engage(tmp_path, "forget", "Dana", "--data", str(data), stdin="n\n")
    assert result.returncode == 1
    assert "Remove every record about Dana" in result.stderr
    assert (data / PRECIOUS).read_bytes() == before


def test_forget_with_yes_removes_the_person_and_reminds_about_the_watchlist(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    fill_for_forget(Store(data))
    (tmp_path / "feeds.yaml").write_text("me:\n  name: Me\npeople:\n  - name: Dana\n")
    result = run_engage(tmp_path, "forget", "Dana", "--yes", "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "Forgot Dana: 1 events, 1 undo markers, 1 confirmed detections, 1 trusted names, "
        "1 feeds, 1 posts, 1 comments on their feeds, 1 comments they wrote, 2 intro "
        "evidence, 1 LinkedIn entries, 1 social accounts, 1 social statuses, 2 backup "
        "copies rewritten."
    )
    assert "Dana is still listed in feeds.yaml" in result.stdout
    assert Store(data).events(person="Dana") == []


@pytest.mark.parametrize("command", ["export", "forget"])
def test_a_folder_without_data_is_an_error_not_a_new_empty_store(
    tmp_path: Path, command: str
) -> None:
    args = [command, "Dana", "--yes"] if command == "forget" else [command]
    result = run_engage(tmp_path, *args, "--data", str(tmp_path / "typo"))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"{tmp_path / 'typo'}: no engage data here (no {PRECIOUS}); check --data"
    )
    assert not (tmp_path / "typo").exists()


def test_a_newer_data_file_stops_the_command_with_one_line_and_exit_2(tmp_path: Path) -> None:
    write_newer(tmp_path / "data", version=7)
    result = run_engage(tmp_path, "export", "--data", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{tmp_path / 'data' / PRECIOUS} was written by a newer engage "
        f"(schema 7; this one reads up to {SCHEMA}): upgrade engage"
    ]
    assert result.stdout == ""


# ---------------------------------------------------------------------------
# The fast paths (orjson, direct table writes) keep the file exactly as before


def test_a_number_beyond_64_bits_from_a_feed_survives_a_write_and_a_read(store: Store) -> None:
    # orjson refuses to write it and would read it back as a float: the stdlib does both.
    huge = 10**23
    enclosure = models.Enclosure("https://dana.example/1.mp3", None, huge)
    big = dataclasses.replace(post(1), enclosure=enclosure)
    with store.transaction() as tx:
        tx.put_posts([big])
        tx.set_meta("huge", huge)
    (stored,) = store.posts()
    assert stored.enclosure is not None
    assert stored.enclosure.length == huge
    assert type(stored.enclosure.length) is int
    assert store.get_meta("huge") == huge
    with store.transaction() as tx:  # a later write of the other file changes nothing
        tx.add_events([event("a")])
    assert store.posts()[0].enclosure == big.enclosure


def test_the_written_file_is_what_the_stdlib_would_have_written(store: Store) -> None:
    with store.transaction() as tx:
        tx.add_events([dataclasses.replace(event("a"), note="ünïcödé “quotes” and \\ and \n")])
        tx.set_meta("numbers", [1, 2.5, -3, 2**63 - 1])
    raw = (store.folder / PRECIOUS).read_bytes()
    data = json.loads(raw)
    stdlib = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert raw == stdlib + b"\n"  # the newline: orjson wrote it (store._loads)
    assert raw.startswith(b'{"meta":{"1":{"key":"schema","value":%d}' % SCHEMA)
    assert store.events()[0].note == "ünïcödé “quotes” and \\ and \n"
    assert store.get_meta("numbers") == [1, 2.5, -3, 2**63 - 1]


# Any JSON a feed or a user can put in the store: unbounded integers (past 64 bits the
# stdlib writes the file), floats, any text, lone surrogates too (a feed's "\ud800", which
# UTF-8 cannot hold: the file is then written in ASCII with escapes).
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(JSON_VALUES, min_size=1, max_size=3))
def test_a_file_is_written_whole_and_canonical_whatever_it_holds(
    tmp_path_factory: pytest.TempPathFactory, values: list[Any]
) -> None:
    # Files are written a document at a time (a big cache is never in memory twice); the
    # bytes must be those of one whole encoding: orjson's with its final newline, or the
    # stdlib's when orjson refuses something, even when that comes after the first bytes.
    folder = tmp_path_factory.mktemp("store")
    with Store(folder).transaction() as tx:
        for n, value in enumerate(values):
            tx.set_meta(f"value {n}", value)
    raw = (folder / PRECIOUS).read_bytes()
    if raw.endswith(b"\n"):
        assert raw == orjson.dumps(orjson.loads(raw), option=orjson.OPT_APPEND_NEWLINE)
    else:
        data = json.loads(raw)
        try:
            stdlib = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        except UnicodeEncodeError:
            stdlib = json.dumps(data, separators=(",", ":")).encode()
        assert raw == stdlib
    stored = Store(folder)
    assert [stored.get_meta(f"value {n}") for n in range(len(values))] == values


def test_a_file_written_by_the_stdlib_is_still_read(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction() as tx:
        tx.add_events([event("a"), event("b")])
    path = tmp_path / PRECIOUS
    data = json.loads(path.read_bytes())
    path.write_bytes(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    assert [e.id for e in Store(tmp_path).events()] == ["a", "b"]


def test_new_documents_get_the_ids_tinydb_would_give(store: Store) -> None:
    # TinyDB's rule: the highest id left after removals, plus one.
    with store.transaction() as tx:
        tx.add_events([event("a"), event("b"), event("c")])
    with store.transaction() as tx:
        tx.remove_event("c")
        tx.add_events([event("d")])
    with store.transaction() as tx:
        tx.remove_event("a")
        tx.add_events([event("e")])
    data = json.loads((store.folder / PRECIOUS).read_bytes())
    ids = {doc["id"]: doc_id for doc_id, doc in data["events"].items()}
    assert ids == {"b": "2", "d": "3", "e": "4"}
    assert list(data["events"]) == ["2", "3", "4"]
    assert sorted(data["tombstones"]) == ["1", "2"]
