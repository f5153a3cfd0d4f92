"""Who is who over time (engage.identity): pure rules as tables, and the facade's
`orphans()` and `import_export()` on a real data folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engage.app import Engage, orphan_line
from engage.errors import EngageError
from engage.identity import (
    KnownIdentity,
    Orphan,
    carried_ids,
    event_signature,
    manual_id,
    manual_ids,
    remember,
    resolve,
    successor,
)
from engage.models import (
    DIRECTION,
    Event,
    EventKind,
    EventSource,
    Person,
    Role,
    Watchlist,
    fold_name,
)
from engage.store import PRECIOUS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def known(key: str, *names: str, last: str | None = None) -> KnownIdentity:
    return KnownIdentity(key, last or key, tuple(fold_name(n) for n in (key, *names)))


def people(*entries: tuple[str, tuple[str, ...]]) -> Watchlist:
    return Watchlist(
        me=Person("Marian", Role.ME),
        people=tuple(Person(name, aliases=aliases) for name, aliases in entries),
    )


@pytest.mark.parametrize(
    ("stored", "listed", "keys", "orphans"),
    [
        pytest.param([], [("Dana", ())], {"Dana": "Dana"}, [], id="someone new: their name"),
        pytest.param(
            [known("Dana")], [("Dana", ())], {"Dana": "Dana"}, [], id="stored under the name"
        ),
        pytest.param(
            [known("Dana")],
            [("Dana Reyes", ("Dana",))],
            {"Dana Reyes": "Dana"},
            [],
            id="renamed by hand, the old name kept as an alias",
        ),
        pytest.param(
            [known("Dana", "DR")],
            [("Dana Reyes", ("DR",))],
            {"Dana Reyes": "Dana"},
            [],
            id="renamed by hand, an alias seen before kept",
        ),
        pytest.param(
            [known("Dana", "Dana Reyes", last="Dana Reyes")],
            [("Dana Reyes", ())],
            {"Dana Reyes": "Dana"},
            [],
            id="renamed with engage rename: the name last seen",
        ),
        pytest.param(
            [known("Dana")],
            [("Dana Reyes", ())],
            {"Dana Reyes": "Dana Reyes"},
            ["Dana"],
            id="renamed by hand without an alias: an orphan",
        ),
        pytest.param(
            [known("Dana", "Dana Reyes", last="Dana Reyes")],
            [("Dana", ()), ("Dana Reyes", ())],
            {"Dana Reyes": "Dana", "Dana": "Dana (2)"},
            [],
            id="the old name taken by someone new: a numbered key for the newcomer",
        ),
        pytest.param(
            [known("Dana Smith", "Dana", last="Dana"), known("Dana")],
            [("Dana", ())],
            {"Dana": "Dana"},
            ["Dana Smith"],
            id="two last seen under one name: the one filed under it",
        ),
        pytest.param(
            [known("Dana"), known("Dana Reyes")],
            [("Dana Reyes", ("Dana",))],
            {"Dana Reyes": "Dana Reyes"},
            ["Dana"],
            id="their own name beats an alias",
        ),
        pytest.param(
            [known("dana reyes")],
            [("Dana  Reyes", ())],
            {"Dana  Reyes": "dana reyes"},
            [],
            id="case and spacing never decide",
        ),
    ],
)
def test_each_person_resolves_to_one_key(
    stored: list[KnownIdentity],
    listed: list[tuple[str, tuple[str, ...]]],
    keys: dict[str, str],
    orphans: list[str],
) -> None:
    watchlist = people(*listed)
    resolved = resolve(watchlist, stored)
    assert {name: resolved.key(name) for name, _ in listed} == keys
    events = {fold_name(identity.key): 1 for identity in stored}
    assert [o.identity.key for o in resolved.orphans(events, watchlist)] == orphans
    for name, key in keys.items():
        assert resolved.display(key) == name


def test_display_names_an_orphan_as_last_seen() -> None:
    resolved = resolve(people(("Lee", ())), [known("Dana", "DR", last="Dana R.")])
    assert resolved.display("Dana") == "Dana R."
    assert resolved.display("dana") == "Dana R."  # stored in another case
    assert resolved.display("Lee") == "Lee"
    assert resolved.display("Nobody") == "Nobody"


@pytest.mark.parametrize(
    ("identity", "listed", "expected"),
    [
        pytest.param(
            known("Dana"),
            [("Dana Reyes", ("dana",)), ("Dana Smith", ())],
            "Dana Reyes",
            id="the one person with the old name as alias",
        ),
        pytest.param(
            known("Dana"),
            [("Dana Reyes", ()), ("Lee Okafor", ())],
            "Dana Reyes",
            id="the one name that starts with it",
        ),
        pytest.param(
            known("Dana"), [("Dana Reyes", ()), ("Dana Smith", ())], None, id="two start with it"
        ),
        pytest.param(
            known("Dana", "DR"),
            [("A", ("dr",)), ("B", ("dana",))],
            None,
            id="two have one of its names as alias",
        ),
        pytest.param(known("Dana Reyes"), [("Dana Reyess", ())], "Dana Reyess", id="a typo"),
        pytest.param(known("Dana"), [("Lee Okafor", ())], None, id="nobody like them"),
    ],
)
def test_the_successor_of_an_orphan(
    identity: KnownIdentity, listed: list[tuple[str, tuple[str, ...]]], expected: str | None
) -> None:
    assert successor(identity, people(*listed)) == expected


@pytest.mark.parametrize(
    ("orphan", "line"),
    [
        (
            Orphan(known("Dana"), 12, "Dana Reyes"),
            "12 events stored for 'Dana', who is not in feeds.yaml — renamed? "
            "`engage rename Dana 'Dana Reyes'`",
        ),
        (
            Orphan(known("Ana García", last="Ana García"), 1, None),
            "1 event stored for 'Ana García', who is not in feeds.yaml — renamed? "
            "`engage rename 'Ana García' 'NEW NAME'`; gone for good? "
            "`engage forget 'Ana García'`",
        ),
    ],
)
def test_the_orphan_line(orphan: Orphan, line: str) -> None:
    assert orphan_line(orphan) == line


def test_remember_adds_names_and_keeps_the_key() -> None:
    first = remember(None, Person("Dana", aliases=("dana_r",)))
    assert first == KnownIdentity("Dana", "Dana", ("dana", "dana_r"))
    later = remember(first, Person("Dana Reyes", aliases=("dana_r",)))
    assert later == KnownIdentity("Dana", "Dana Reyes", ("dana", "dana_r", "dana reyes"))


def event(key: str, kind: EventKind, url: str | None, id_: str) -> Event:
    return Event(id_, key, kind, NOW, DIRECTION[kind], EventSource.AUTO, url=url)


def test_carried_ids_pair_the_same_interaction_under_both_keys() -> None:
    before = [
        event("B", EventKind.MY_COMMENT, "https://b.example/p/#comment-1", "old-1"),
        event("B", EventKind.THEIR_REPLY, "https://B.example/p/#comment-2", "old-2"),
        event("A", EventKind.CALL, None, "a-1"),  # not one of the moved records
    ]
    after = [
        event("A", EventKind.MY_COMMENT, "https://b.example/p/#comment-1", "new-1"),
        event("A", EventKind.THEIR_REPLY, "https://b.example/p/#comment-2", "new-2"),
        event("A", EventKind.CALL, None, "a-1"),
    ]
    ids = carried_ids(before, after, event_signature("B"), event_signature("A"), lambda e: e.id)
    assert ids == {"old-1": "new-1", "old-2": "new-2"}


def test_manual_ids_follow_the_key_and_keep_a_copy_number() -> None:
    logged = manual_id("B", EventKind.CALL, NOW, None, "lunch")
    again = logged + "-2"
    stored = [
        Event(logged, "B", EventKind.CALL, NOW, DIRECTION[EventKind.CALL], note="lunch"),
        Event(again, "B", EventKind.CALL, NOW, DIRECTION[EventKind.CALL], note="lunch"),
        Event("manual:by-hand", "B", EventKind.CALL, NOW, DIRECTION[EventKind.CALL]),
    ]
    moved = manual_id("A", EventKind.CALL, NOW, None, "lunch")
    assert manual_ids(stored, "B", "A") == {logged: moved, again: moved + "-2"}


WATCHLIST = "me:\n  name: Marian\npeople:\n  - name: Dana\n  - name: Lee Okafor\n"


def test_the_facade_names_orphans_and_never_makes_a_folder_to_do_it(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(WATCHLIST, encoding="utf-8")
    app = Engage(config, tmp_path / "data", clock=lambda: NOW)
    assert app.orphans() == []
    assert not (tmp_path / "data").exists()

    app.log("Dana", "call", when="2026-02-01")
    app.log("Dana", "email-in", when="2026-02-02")
    config.write_text(WATCHLIST.replace("Dana", "Dana Reyes"), encoding="utf-8")
    app = Engage(config, tmp_path / "data", clock=lambda: NOW)
    [orphan] = app.orphans()
    assert (orphan.identity.key, orphan.events, orphan.successor) == ("Dana", 2, "Dana Reyes")
    assert [r.stage.value for r in app.status() if r.person == "Dana Reyes"] == ["cold"]
    # The digest says it too, in its notes, above everything else.
    line = orphan_line(orphan)
    assert app.agenda().notes == (line,)
    built = app.build_digest(out=tmp_path / "digest.html")
    assert f"! {line}" in built.rendered.text.splitlines()

    done = app.rename("Dana", "Dana Reyes", keep_alias=False)
    assert (done.linked, done.events, done.alias_added) == (True, 2, False)
    assert app.orphans() == []
    assert [e.person for e in app.events("Dana Reyes")] == ["Dana Reyes", "Dana Reyes"]
    assert app.explain("Dana Reyes").reading.stage.value == "in_dialogue"


def test_the_facade_imports_an_export_in_one_transaction(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(WATCHLIST, encoding="utf-8")
    old = Engage(config, tmp_path / "old", clock=lambda: NOW)
    old.log("Dana", "call", when="2026-02-01")
    document = old.export()

    new = Engage(config, tmp_path / "new", clock=lambda: NOW)
    done = new.import_export(json.dumps(document).encode(), label="backup.json")
    assert done.added["events"] == 1 and (done.format, done.schema) == (2, document["schema"])
    assert new.export() == document

    # A document that fails half-way writes nothing at all.
    broken = {**document, "posts": [{"no": "id"}]}
    before = (tmp_path / "new" / PRECIOUS).read_bytes()
    with pytest.raises(EngageError, match=r"backup\.json: table 'posts'"):
        new.import_export(json.dumps(broken).encode(), label="backup.json")
    assert (tmp_path / "new" / PRECIOUS).read_bytes() == before


def test_a_schema_1_data_folder_gets_an_identity_for_every_stored_name(tmp_path: Path) -> None:
    """Before identities, records carried the display name: each becomes its own key, so
    every stored id stays what it was."""
    from engage.store import SCHEMA, Store

    old = {
        "meta": {"1": {"key": "schema", "value": 1}},
        "events": {
            "1": {"id": "manual:1", "person": "Dana", "kind": "call",
                  "when": "2026-01-05T10:00:00+00:00", "direction": "both"},
        },
        "intro_evidence": {
            "1": {"id": "intro:1", "contact": "Lee Okafor", "person": "Dana", "url": None,
                  "when": "2026-01-04T10:00:00+00:00", "kind": "contact_commented"},
        },
        "feeds": {"1": {"url": "https://dana.example/feed", "person": "dana"}},
    }  # fmt: skip
    (tmp_path / PRECIOUS).write_text(json.dumps(old), encoding="utf-8")
    store = Store(tmp_path)
    written = json.loads((tmp_path / PRECIOUS).read_text(encoding="utf-8"))
    assert written["meta"]["1"]["value"] == SCHEMA
    assert sorted(doc["key"] for doc in written["identities"].values()) == ["Dana", "Lee Okafor"]
    assert [e.id for e in store.events()] == ["manual:1"]
