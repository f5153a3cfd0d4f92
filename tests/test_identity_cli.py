"""A person's history survives a rename, a merge and a new machine: the CLI in-process
(engage.cli.main), polls over real local HTTP serving the real whizzy.org comment feeds
of ../shared/feeds, and a real data folder.

What the feeds hold (read off comments/wp_whizzy_comments.xml): Marian (me) commented on
"Double helping of Pi Hole" (#comment-3920, 26 Jan 2021) and the author, as `will`,
answered "In reply to Marian" (#comment-4016, 29 Jan 2021). So whoever owns the whizzy
feeds and is known as `will` has two auto events: my_comment and their_reply.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli
from conftest import FEEDS
from pytest_httpserver import HTTPServer

from engage.store import SCHEMA

WHIZZY = {
    "/feed/": "blogs/wp_whizzy_feed.xml",
    "/comments/feed/": "comments/wp_whizzy_comments.xml",
    "/2021/01/02/double-helping-of-pi-hole/feed/": "comments/wp_whizzy_post_pihole_comments.xml",
}
PIHOLE = "/2021/01/02/double-helping-of-pi-hole/"


def serve_whizzy(httpserver: HTTPServer) -> str:
    for path, name in WHIZZY.items():
        httpserver.expect_request(path).respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/rss+xml; charset=UTF-8"
        )
    return httpserver.url_for("/").rstrip("/")


class Engage:
    """`engage ARGS --config … --data …` in-process, with what it printed."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
        self.config = tmp_path / "feeds.yaml"
        self.config.write_text(text, encoding="utf-8")
        self.data = tmp_path / "data"
        self.capsys = capsys

    def __call__(self, *args: str, data: Path | None = None) -> tuple[int, str, str]:
        argv = [*args, "--config", str(self.config), "--data", str(data or self.data)]
        return run_cli(self.capsys, argv)

    def ok(self, *args: str, data: Path | None = None) -> str:
        code, out, err = self(*args, data=data)
        assert code == 0, err
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def edit(self, old: str, new: str) -> None:
        """A hand edit of feeds.yaml."""
        text = self.config.read_text(encoding="utf-8")
        assert old in text
        self.config.write_text(text.replace(old, new), encoding="utf-8")

    def history(self, person: str) -> dict[str, Any]:
        """What must not change across a rename: the events (ids and all; `created` aside,
        which a rebuild renews), the reading."""
        events = self.json("events", person)
        assert {e["person"] for e in events} <= {person}
        status = {r["person"]: r for r in self.json("status")}
        reading = status[person]
        explained = self.json("explain", person)
        assert explained["stage"] == reading["stage"]
        return {
            "events": [
                {k: v for k, v in e.items() if k not in ("person", "created")} for e in events
            ],
            "stage": reading["stage"],
            "score": reading["score"],
            "timeline": explained["timeline"],
        }


def whizzy_people(site: str, name: str = "Will C", aliases: str = "[will]") -> str:
    return f"""\
# My watchlist. The comments stay when engage edits it.
me:
  name: Marian
  sites: [https://marian.example.net/]
people:
  - name: {name}   # the blog's author
    aliases: {aliases}
    sites: ['{site}/']
    feeds:
      - '{site}/feed/'
      - {{url: '{site}/comments/feed/', kind: comments}}
    notes: Writes about home automation.

  # Met at a meetup; no feeds yet.
  - name: Dana
"""


@pytest.fixture
def will(httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    """Will C, polled over HTTP (2 auto events), with a meeting logged by hand."""
    app = Engage(tmp_path, capsys, whizzy_people(serve_whizzy(httpserver)))
    assert "2 new interactions" in app.ok("poll", "--all")
    app.ok("met", "Will C", "--event", "FOSDEM", "--when", "2021-02-06")
    return app


def kinds(history: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((e["kind"], e["source"]) for e in history["events"])


@pytest.mark.parametrize(
    "aliases", ["[will]", "[will, Will C]"], ids=["an alias kept", "the old name as alias"]
)
def test_a_rename_by_hand_that_keeps_an_alias_keeps_everything(will: Engage, aliases: str) -> None:
    before = will.history("Will C")
    assert kinds(before) == [
        ("met_in_person", "manual"),
        ("my_comment", "auto"),
        ("their_reply", "auto"),
    ]

    will.edit("name: Will C ", "name: Will Cooke ")
    will.edit("aliases: [will]", f"aliases: {aliases}")

    assert will.history("Will Cooke") == before
    assert "Will C" not in {r["person"] for r in will.json("status")}
    assert "not in feeds.yaml" not in will.ok("check")
    # A re-poll and a rebuild find the same interactions under the same ids: no duplicates.
    assert "new interactions" not in will.ok("poll", "--all")
    assert will.history("Will Cooke") == before
    assert will.ok("detect", "--rebuild") == "Rebuilt automatic events: 2 (was 2).\n"
    assert will.history("Will Cooke") == before
    # Logging the same meeting again is still the same event.
    assert "already logged" in will.ok(
        "met", "Will Cooke", "--event", "FOSDEM", "--when", "2021-02-06"
    )


def test_engage_rename_edits_the_file_and_carries_the_history(will: Engage) -> None:
    before = will.history("Will C")
    out = will.ok("rename", "Will C", "Will Cooke")
    assert "Renamed Will C to Will Cooke" in out and "3 events follow them" in out
    text = will.config.read_text(encoding="utf-8")
    assert "  - name: Will Cooke # the blog's author\n    aliases: [will, Will C]\n" in text
    assert text.startswith("# My watchlist. The comments stay when engage edits it.\n")
    assert "  # Met at a meetup; no feeds yet.\n  - name: Dana\n" in text

    assert will.history("Will Cooke") == before
    assert "new interactions" not in will.ok("poll", "--all")
    will.ok("detect", "--rebuild")
    assert will.history("Will Cooke") == before
    feeds = will.json("feeds")
    assert {f["person"] for f in feeds} == {"Will Cooke"}
    posts = will.json("posts", "--person", "Will Cooke")
    assert posts and {p["person"] for p in posts} == {"Will Cooke"}

    # Renamed again, this time without keeping the old name: still the same history.
    will.ok("rename", "Will Cooke", "William Cooke", "--no-alias")
    assert "aliases: [will, Will C]\n" in will.config.read_text(encoding="utf-8")
    assert will.history("William Cooke") == before
    assert "new interactions" not in will.ok("poll", "--all")
    assert will.history("William Cooke") == before


def test_a_rename_that_loses_the_link_is_named_with_its_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = Engage(tmp_path, capsys, "me:\n  name: Marian\npeople:\n  - name: Dana\n")
    app.ok("log", "Dana", "their_email_or_dm", "--when", "2026-01-05")
    app.ok("log", "Dana", "call", "--when", "2026-01-06")
    before = app.history("Dana")

    app.edit("name: Dana", "name: Dana Reyes")  # no alias kept: nothing links them

    line = (
        "2 events stored for 'Dana', who is not in feeds.yaml — renamed? "
        "`engage rename Dana 'Dana Reyes'`"
    )
    assert line in app.ok("check").splitlines()
    assert line in app.ok("status").splitlines()
    code, out, err = app("status", "--json")
    assert code == 0 and err.splitlines() == [line]
    assert [r["stage"] for r in json.loads(out)] == ["cold"]

    assert app.ok("rename", "Dana", "Dana Reyes") == (
        "The history stored for 'Dana' is now Dana Reyes's: 2 events in all ('Dana' kept as "
        "an alias).\n"
    )
    assert "  - name: Dana Reyes\n    aliases:\n      - Dana\n" in app.config.read_text()
    assert app.history("Dana Reyes") == before
    assert "not in feeds.yaml" not in app.ok("check") + app.ok("status")


def test_an_orphan_whose_old_name_is_one_persons_alias_proposes_that_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = "me:\n  name: Marian\npeople:\n  - name: Dana\n  - name: Lee Okafor\n"
    app = Engage(tmp_path, capsys, watchlist)
    app.ok("log", "Dana", "their_email_or_dm", "--when", "2026-01-05", "--note", "hello")
    app.ok("log", "Dana", "call", "--when", "2026-01-06")
    app.edit("name: Dana", "name: Dana Reyes")
    # Dana Reyes gets a history of her own (one of it the same e-mail, logged again), and
    # only then the old name comes back, as an alias.
    app.ok("log", "Dana Reyes", "their_email_or_dm", "--when", "2026-01-05", "--note", "hello")
    app.ok("log", "Dana Reyes", "my_favour", "--when", "2026-01-07")
    app.edit("name: Dana Reyes", "name: Dana Reyes\n    aliases: [dana]")

    line = (
        "2 events stored for 'Dana', who is not in feeds.yaml — renamed? "
        "`engage rename Dana 'Dana Reyes'`"
    )
    assert line in app.ok("check").splitlines()
    out = app.ok("rename", "Dana", "Dana Reyes")
    assert out == (
        "The history stored for 'Dana' is now Dana Reyes's: 3 events in all, 1 of them "
        "Dana Reyes's own; 1 duplicate (seen on both sides) dropped.\n"
    )
    events = app.json("events", "Dana Reyes")
    assert sorted(e["kind"] for e in events) == ["call", "my_favour", "their_email_or_dm"]
    assert "not in feeds.yaml" not in app.ok("check")
    # Logged again under her name of today, the e-mail is still the one event.
    assert "already logged" in app.ok(
        "log", "Dana Reyes", "their_email_or_dm", "--when", "2026-01-05", "--note", "hello"
    )


def test_merge_two_entries_into_one_person(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = serve_whizzy(httpserver)
    text = whizzy_people(site) + (
        "  - name: Will Cooke\n"
        "    aliases: [wcooke]\n"
        "    handles: {mastodon: '@will@social.example'}\n"
        "    notes: Runs the local Linux user group.\n"
        "contacts:\n"
        "  - name: Lee Okafor\n"
        "    knows: [Will C]\n"
    )
    app = Engage(tmp_path, capsys, text)
    app.ok("poll", "--all")  # Will C: my_comment and their_reply, auto
    # The same comment, logged by hand for Will Cooke before anyone noticed.
    comment = f"{site}{PIHOLE}#comment-3920"
    app.ok("log", "Will Cooke", "my_comment", "--when", "2021-01-26T07:17", "--url", comment)
    app.ok("log", "Will Cooke", "call", "--when", "2021-03-01")
    before = {e["id"] for e in app.json("events")}

    out = app.ok("merge", "Will Cooke", "Will C")
    assert "Merged Will C into Will Cooke" in out and "1 duplicate" in out

    text = app.config.read_text(encoding="utf-8")
    assert "name: Will C " not in text
    assert "aliases: [wcooke, Will C, will]" in text
    assert f"'{site}/comments/feed/'" in text.split("name: Will Cooke")[1]
    assert "knows: [Will Cooke]" in text
    assert "Writes about home automation." in text and "Runs the local Linux user group." in text
    assert "# Met at a meetup; no feeds yet." in text

    events = app.json("events", "Will Cooke")
    assert sorted((e["kind"], e["source"]) for e in events) == [
        ("call", "manual"),
        ("my_comment", "manual"),
        ("their_reply", "auto"),
    ]
    assert len({e["id"] for e in app.json("events")}) == len(before) - 1
    merged = app.history("Will Cooke")
    # The next poll and a rebuild bring back neither the duplicate nor another copy.
    app.ok("poll", "--all")
    assert app.history("Will Cooke") == merged
    app.ok("detect", "--rebuild")
    assert app.history("Will Cooke") == merged
    assert "not in feeds.yaml" not in app.ok("check")


def export(app: Engage, data: Path | None = None) -> str:
    return app.ok("export", data=data)


def test_export_import_export_gives_the_same_document(will: Engage, tmp_path: Path) -> None:
    will.ok("undo", will.json("events", "--kind", "their_reply")[0]["id"])
    will.ok("rename", "Will C", "Will Cooke")
    first = export(will)
    backup = tmp_path / "backup.json"
    backup.write_text(first, encoding="utf-8")

    moved = tmp_path / "new-machine"
    document = json.loads(first)
    assert will.ok("import", str(backup), data=moved) == (
        f"Imported 2 events, 2 feeds, {len(document['posts'])} posts, "
        f"{len(document['comments'])} comments, 0 pieces of intro evidence, "
        f"0 LinkedIn contacts, 1 undo marker, 0 confirmed detections, 0 trusted names, "
        f"0 social accounts and 0 social statuses into {moved}.\n"
    )
    assert export(will, moved) == first
    assert document["engage_export"] == 2 and document["schema"] == SCHEMA
    assert [i["key"] for i in document["identities"]] == ["Dana", "Marian", "Will C"]
    assert document["identities"][2] == {
        "key": "Will C",
        "name": "Will Cooke",
        "names": ["will c", "will", "will cooke"],
    }

    # The new machine carries on where the old one stopped: no undone event comes back.
    assert "new interactions" not in will.ok("poll", "--all", data=moved)
    assert export(will, moved) != first  # the poll's own state changed ...
    assert json.loads(export(will, moved))["events"] == document["events"]  # ... not this


def test_import_into_a_folder_with_part_of_the_data_adds_only_what_is_missing(
    will: Engage, tmp_path: Path
) -> None:
    full = json.loads(export(will))
    part = dict(full)
    part["events"] = full["events"][:1]
    part["posts"] = full["posts"][:10]
    part["feeds"] = full["feeds"][:1]
    (tmp_path / "part.json").write_text(json.dumps(part), encoding="utf-8")
    (tmp_path / "full.json").write_text(json.dumps(full), encoding="utf-8")
    other = tmp_path / "other"
    will.ok("import", str(tmp_path / "part.json"), data=other)

    out = will.ok("import", str(tmp_path / "full.json"), data=other)
    assert out.startswith(f"Imported 2 events, {len(full['feeds']) - 1} feed")
    assert "already here" in out
    assert json.loads(export(will, other)) == full
    # Once more: nothing is missing, nothing is added.
    out = will.ok("import", str(tmp_path / "full.json"), data=other)
    assert out.startswith("Imported 0 events, 0 feeds, 0 posts, 0 comments")
    assert json.loads(export(will, other)) == full


def test_a_newer_export_is_refused_and_an_older_one_migrated(
    will: Engage, tmp_path: Path
) -> None:
    document = json.loads(export(will))
    newer = tmp_path / "newer.json"
    for field, version in (("schema", SCHEMA + 1), ("engage_export", 3)):
        newer.write_text(json.dumps({**document, field: version}), encoding="utf-8")
        code, out, err = will("import", str(newer), data=tmp_path / "refused")
        what = "schema" if field == "schema" else "export format"
        assert (code, out) == (2, "")
        assert err.splitlines() == [
            f"{newer} was written by a newer engage ({what} {version}; this one reads up to "
            f"{SCHEMA if field == 'schema' else 2}): upgrade engage"
        ]
    assert not (tmp_path / "refused" / "engage.json").exists()

    # What engage wrote before identities existed: export format 1, schema 1, undo
    # markers as ids only, names in every record.
    old = {k: v for k, v in document.items() if k not in ("identities", "tombstone_records")}
    old.update(engage_export=1, schema=1)
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    will.ok("import", str(tmp_path / "old.json"), data=tmp_path / "migrated")
    again = json.loads(export(will, tmp_path / "migrated"))
    assert again["events"] == document["events"]
    # Every name found in the old records became an identity of its own.
    assert again["identities"] == [{"key": "Will C", "name": "Will C", "names": ["will c"]}]
    # And the migrated history follows a rename like any other.
    will.ok("rename", "Will C", "Will Cooke", data=tmp_path / "migrated")
    assert len(will.json("events", "Will Cooke")) == 3


def test_import_refuses_what_is_not_an_export(will: Engage, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    for text, message in (
        ("[1, 2", "not an engage export (Expecting"),
        ('{"events": []}', "not an engage export (no engage_export field)"),
        ('{"engage_export": 2, "schema": 2, "events": [{"id": 1}]}', "table 'events'"),
    ):
        bad.write_text(text, encoding="utf-8")
        code, _out, err = will("import", str(bad))
        assert code == 2 and message in err and "Traceback" not in err
