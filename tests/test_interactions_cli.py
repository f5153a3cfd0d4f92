"""`engage log / met / events / undo / outcome` against a tmp watchlist and data folder.

Most commands run in-process through engage.cli.main (the same entry point as the
`engage` script, exit codes included); one test runs a real subprocess."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from inprocess import EngageCLI

from engage.models import DIRECTION, Comment, EventKind
from engage.store import Store

WATCHLIST = """\
me:
  name: Marian Novak
  sites: [https://marian.example/]
people:
  - name: Will Cooke
    aliases: [will]
    sites: [https://whizzy.example/]
    feeds:
      - url: https://whizzy.example/comments/feed/
        kind: comments
  - name: Dana Vellacott
contacts:
  - name: Ana García
"""


class Engage(EngageCLI):
    """`engage ARGS --config … --data …` in-process on the watchlist above."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(tmp_path, capsys, WATCHLIST)


@pytest.fixture
def engage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    return Engage(tmp_path, capsys)


# Every kind, by its identifier: the JSON interface. An ask is recorded by `engage ask`
# (it has the cold-invitation guard), so it round-trips through that command instead.
@pytest.mark.parametrize("kind", [k.value for k in EventKind if k is not EventKind.MY_ASK])
def test_every_kind_round_trips_through_log_and_events_json(engage: Engage, kind: str) -> None:
    code, out, err = engage(
        "log", "will", kind, "--when", "2024-05-01T09:30:00+02:00",
        "--url", "https://mail.example/1", "--note", "hello",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"logged {kind} with Will Cooke")
    (event,) = engage.events()
    assert event["person"] == "Will Cooke"
    assert event["kind"] == kind
    assert event["direction"] == DIRECTION[EventKind(kind)].value
    assert event["when"] == "2024-05-01T09:30:00+02:00"
    assert event["url"] == "https://mail.example/1"
    assert event["source"] == "manual"
    assert event["note"] == "hello"
    assert event["evidence"] is None  # a manual event has no evidence: unknown is null
    assert event["id"].startswith("manual:")


def test_unknown_values_are_null_in_events_json(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    (event,) = engage.events()
    assert (event["note"], event["evidence"], event["url"]) == (None, None, None)
    code, out, _ = engage("explain", "will", "--json", "--at", "2024-05-02")
    assert code == 0
    (row,) = json.loads(out)["timeline"]
    assert (row["note"], row["url"]) == (None, None)


DIRECTIONS = [
    ("email-in", "their_email_or_dm", "in"),
    ("dm-out", "my_email_or_dm", "out"),
    ("favor", "my_favour", "out"),
    ("favour", "my_favour", "out"),
    ("met", "met_in_person", "both"),
    ("call", "call", "both"),
    ("intro-requested", "intro_requested", "out"),
    ("MY-SHARE", "my_share", "out"),
    ("their-share", "their_share", "in"),
    ("their-comment", "their_comment_on_mine", "in"),
]


@pytest.mark.parametrize(("alias", "kind", "direction"), DIRECTIONS)
def test_friendly_aliases(engage: Engage, alias: str, kind: str, direction: str) -> None:
    assert engage("log", "Will Cooke", alias, "--when", "yesterday")[0] == 0
    (event,) = engage.events()
    assert (event["kind"], event["direction"]) == (kind, direction)


# Words that do not say whose act it was: `log "Hugo Lenz" share` for his boost of my post
# was once recorded as my_share. They are refused with the choices, and nothing is logged.
UNDIRECTED = [
    ("share", ("my_share", "their_share")),
    ("shared", ("my_share", "their_share")),
    ("comment", ("my_comment", "their_comment_on_mine")),
    ("reply", ("their_reply", "my_comment")),
    ("mention", ("their_mention", "my_share")),
    ("like", ("their_like",)),
    ("follow", ("their_follow",)),
    ("email", ("email-in", "email-out")),
    ("dm", ("dm-in", "dm-out")),
]


@pytest.mark.parametrize(("word", "choices"), UNDIRECTED)
def test_a_kind_that_hides_its_direction_is_refused_with_the_choices(
    engage: Engage, word: str, choices: tuple[str, ...]
) -> None:
    code, _, err = engage("log", "will", word, "--when", "yesterday")
    assert code == 2, err
    assert f"{word!r} does not say whose" in err
    for choice in choices:
        assert choice in err
    assert "Traceback" not in err
    assert engage.events() == []


def test_wrong_kind_lists_the_valid_ones(engage: Engage) -> None:
    code, _, err = engage("log", "will", "emial")
    assert code == 2
    assert "unknown kind 'emial'" in err
    assert "their_email_or_dm" in err and "met_in_person" in err and "email-in" in err
    assert "Traceback" not in err
    assert engage.events() == []


def test_misspelt_person_gets_did_you_mean(engage: Engage) -> None:
    code, _, err = engage("log", "Will Cook", "call")
    assert code == 2
    assert "did you mean 'Will Cooke'?" in err
    assert err.count("\n") == 1


def test_contacts_can_be_logged_and_accents_do_not_matter(engage: Engage) -> None:
    assert engage("log", "ana garcia", "call", "--when", "today")[0] == 0
    assert [e["person"] for e in engage.events()] == ["Ana García"]


def test_me_is_not_a_person_to_log(engage: Engage) -> None:
    code, _, err = engage("log", "Marian Novak", "call")
    assert code == 2 and "no person or contact named 'Marian Novak'" in err


def test_bad_when_is_one_clear_line(engage: Engage) -> None:
    code, _, err = engage("log", "will", "call", "--when", "the other day")
    assert code == 2
    assert "cannot read the time 'the other day'" in err and "yesterday" in err


def test_a_time_in_the_future_is_refused(engage: Engage) -> None:
    code, _, err = engage("log", "will", "call", "--when", "2999-01-01")
    assert code == 2 and "'2999-01-01' is in the future" in err
    assert engage.events() == []


# Every option that takes a WHEN, with what it needs around it.
WHEN_OPTIONS = [
    ("log", "will", "call", "--when"),
    ("met", "will", "--when"),
    ("ask", "will", "--anyway", "--when"),
    ("status", "--at"),
    ("explain", "will", "--at"),
    ("intro", "will", "--at"),
    ("posts", "--since"),
    ("events", "--since"),
]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("999999999 days ago", "'999999999 days ago' is out of range"),
        ("0001-01-01", "'0001-01-01' is out of range"),
        ("9999-12-31T23:59:59-12:00", "is out of range"),
        ("1" * 5000 + " days ago", "is out of range"),
        ("", "cannot read an empty time"),
        ("   ", "cannot read an empty time"),
    ],
    ids=["huge count", "year 1", "year 9999", "5000 digits", "empty", "blank"],
)
@pytest.mark.parametrize("args", WHEN_OPTIONS, ids=[" ".join(a[:1] + a[-1:]) for a in WHEN_OPTIONS])
def test_every_when_option_refuses_the_same_text_in_one_line(
    engage: Engage, args: tuple[str, ...], text: str, says: str
) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    code, out, err = engage(*args, text)
    assert code == 2, (out, err)
    assert says in err and len(err.strip().splitlines()) == 1
    if "out of range" in says:
        assert "from 1970-01-01 to 2999-12-31" in err
    assert len(engage.events()) == 1  # nothing recorded


def test_the_edges_of_the_range_are_accepted(engage: Engage) -> None:
    code, out, err = engage("log", "will", "call", "--when", "1970-01-01")
    assert (code, err) == (0, ""), out
    assert "at 1970-01-01 00:00" in out
    code, out, err = engage("explain", "will", "--at", "2999-12-31T23:59")
    assert (code, err) == (0, ""), out
    code, out, err = engage("explain", "will", "--at", "1970-01-01", "--json")
    assert (code, err) == (0, "")
    assert len(json.loads(out)["history"]) > 0


def test_posts_and_events_read_since_the_same_way(engage: Engage) -> None:
    for command in ("posts", "events"):
        code, _, err = engage(command, "--since", "the other day")
        assert code == 2 and err.startswith("cannot read the time 'the other day'"), err


def test_relogging_the_same_thing_is_not_counted_twice(engage: Engage) -> None:
    args = ("log", "will", "call", "--when", "2024-05-01T09:30:10")
    assert engage(*args)[0] == 0
    code, out, _ = engage("log", "WILL", "call", "--when", "2024-05-01T09:30:45")  # same minute
    assert code == 0 and out.startswith("already logged: call with Will Cooke")
    assert len(engage.events()) == 1
    assert engage("log", "will", "call", "--when", "2024-05-01T09:31")[0] == 0
    assert len(engage.events()) == 2


# A day-sized WHEN means 00:00, so the minute alone cannot tell two calls "yesterday"
# apart: the note (for `met`, the event's name too) is part of what makes one event.
# (situation, first log, second log, events after both)
RELOGS = [
    ("two calls yesterday with different notes are two events",
     ["log", "will", "call", "--when", "yesterday", "--note", "A"],
     ["log", "will", "call", "--when", "yesterday", "--note", "B"], 2),
    ("the same call with the same note is still one",
     ["log", "will", "call", "--when", "yesterday", "--note", "A"],
     ["log", "will", "call", "--when", "yesterday", "--note", "A"], 1),
    ("two DMs 2 days ago with different notes",
     ["log", "will", "email-in", "--when", "2 days ago", "--note", "about SIP"],
     ["log", "will", "email-in", "--when", "2 days ago", "--note", "about VoIP"], 2),
    ("two meetings the same day at two events",
     ["met", "will", "--event", "PyCon", "--when", "yesterday"],
     ["met", "will", "--event", "DjangoCon", "--when", "yesterday"], 2),
    ("the same meeting logged twice",
     ["met", "will", "--event", "PyCon", "--when", "yesterday"],
     ["met", "will", "--event", "PyCon", "--when", "yesterday"], 1),
    ("a note and no note are two events",
     ["log", "will", "call", "--when", "yesterday"],
     ["log", "will", "call", "--when", "yesterday", "--note", "B"], 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("first", "second", "count"), [pytest.param(*row[1:], id=row[0]) for row in RELOGS]
)
def test_the_note_is_part_of_what_makes_a_manual_event(
    engage: Engage, first: list[str], second: list[str], count: int
) -> None:
    assert engage(*first)[0] == 0
    code, out, _ = engage(*second)
    assert code == 0
    assert out.startswith("logged" if count == 2 else "already logged")
    assert len(engage.events()) == count


def test_already_logged_says_what_was_identical_and_how_to_log_another(engage: Engage) -> None:
    args = ("log", "will", "call", "--when", "2024-05-01", "--note", "A")
    assert engage(*args)[0] == 0
    code, out, _ = engage(*args)
    assert code == 0
    assert out.splitlines() == [
        "already logged: call with Will Cooke at 2024-05-01 00:00",
        "  (an event with the same person, kind, time (to the minute), no URL, note 'A' is "
        "already there; nothing added)",
        "  To log another one, give its time of day (--when 2024-05-01THH:MM) or a different "
        "--note.",
    ]
    assert engage("log", "will", "call", "--when", "2024-05-01T15:30", "--note", "A")[0] == 0
    assert len(engage.events()) == 2


def test_old_note_less_ids_are_unchanged() -> None:
    # Events logged before the note joined the key keep matching their re-log.
    from engage.app import manual_id

    when = datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    assert manual_id("Will Cooke", EventKind.CALL, when, None) == manual_id(
        "Will Cooke", EventKind.CALL, when, None, ""
    )
    assert manual_id("Will Cooke", EventKind.CALL, when, None, "A") != manual_id(
        "Will Cooke", EventKind.CALL, when, None, "B"
    )


@pytest.mark.parametrize("kind", ["my_ask", "ask", "my-ask", "MY_ASK"])
def test_log_refuses_an_ask_and_points_to_engage_ask(engage: Engage, kind: str) -> None:
    code, _, err = engage("log", "will", kind, "--when", "2024-05-01")
    assert code == 2
    assert "does not record asks" in err and "engage ask 'Will Cooke'" in err
    assert "--anyway" in err and "Traceback" not in err
    assert engage.events() == []


def test_met_puts_the_event_name_in_the_note(engage: Engage) -> None:
    code, _, _ = engage("met", "will", "--event", "PyCon UK", "--when", "2 days ago")
    assert code == 0
    (event,) = engage.events()
    assert (event["kind"], event["direction"]) == ("met_in_person", "both")
    assert event["note"] == "at PyCon UK"


def test_events_filters_by_person_kind_and_since(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    engage("log", "will", "email-in", "--when", "2024-05-10")
    engage("log", "dana vellacott", "call", "--when", "2024-05-20")
    assert [e["when"][:10] for e in engage.events()] == ["2024-05-01", "2024-05-10", "2024-05-20"]
    assert [e["kind"] for e in engage.events("will")] == ["call", "their_email_or_dm"]
    assert [e["person"] for e in engage.events("--kind", "call")] == [
        "Will Cooke",
        "Dana Vellacott",
    ]
    assert [e["when"][:10] for e in engage.events("--since", "2024-05-05")] == [
        "2024-05-10",
        "2024-05-20",
    ]


def test_events_plain_output_shows_ids(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01", "--note", "about SIP")
    (event,) = engage.events()
    code, out, _ = engage("events")
    assert code == 0
    assert out.split("\t")[0] == event["id"]
    assert "about SIP" in out


def test_undo_by_unique_prefix(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    (event,) = engage.events()
    code, out, _ = engage("undo", event["id"][:12])
    assert code == 0 and out.startswith("removed call with Will Cooke")
    assert engage.events() == []
    code, _, err = engage("undo", event["id"])
    assert code == 2 and "no event with id" in err


@pytest.mark.parametrize("given", ["", "  "], ids=["empty", "blank"])
def test_undo_refuses_an_empty_id(engage: Engage, given: str) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    code, _, err = engage("undo", given)
    assert code == 2 and "no event with id ''" in err
    assert len(engage.events()) == 1


def test_an_ambiguous_prefix_says_how_many_it_lists_and_how_many_it_does_not(
    engage: Engage,
) -> None:
    for day in range(1, 7):
        engage("log", "will", "call", "--when", f"2024-05-0{day}")
    ids = [e["id"] for e in engage.events()]
    code, _, err = engage("undo", "manual")
    assert code == 2
    listed = err.split("(", 1)[1].split(")", 1)[0]
    assert err.startswith("'manual' matches 6 events (")
    assert listed.endswith(" and 1 more")
    assert len([i for i in ids if i in listed]) == 5
    assert len(engage.events()) == 6


def test_undo_refuses_an_ambiguous_prefix(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    engage("log", "will", "call", "--when", "2024-05-02")
    code, _, err = engage("undo", "manual:")
    assert code == 2 and "matches 2 events" in err
    assert len(engage.events()) == 2


def test_relog_after_undo_is_logged_again(engage: Engage) -> None:
    engage("log", "will", "call", "--when", "2024-05-01")
    (first,) = engage.events()
    engage("undo", first["id"])
    code, out, _ = engage("log", "will", "call", "--when", "2024-05-01")
    assert code == 0 and out.startswith("logged")
    (again,) = engage.events()
    assert again["id"] != first["id"]


def test_undone_auto_event_survives_a_rebuild(engage: Engage) -> None:
    # Two comments in Will's comment feed: mine, then his answer (an implicit reply).
    thread = "https://whizzy.example/2024/03/sip/"
    t0 = datetime(2024, 3, 1, 12, tzinfo=UTC)

    def comment(n: int, author: str, days: int) -> Comment:
        return Comment(
            person="Will Cooke",
            feed="https://whizzy.example/comments/feed/",
            id=f"{thread}#comment-{n}",
            post_link=thread,
            link=f"{thread}#comment-{n}",
            author=author,
            author_url=None,
            published=t0 + timedelta(days=days),
            snippet="words",
        )

    store = Store(engage.data)
    with store.transaction() as tx:
        tx.put_comments([comment(1, "Marian Novak", 0), comment(2, "will", 2)])
    assert engage("detect")[0] == 0
    engage("log", "will", "call", "--when", "2024-03-05")
    kinds = {e["kind"]: e for e in engage.events()}
    assert set(kinds) == {"my_comment", "their_reply", "call"}
    assert kinds["their_reply"]["source"] == "auto"
    assert kinds["their_reply"]["url"] == f"{thread}#comment-2"
    assert kinds["their_reply"]["when"] == "2024-03-03T12:00:00+00:00"

    assert engage("undo", kinds["their_reply"]["id"])[0] == 0
    code, _, err = engage("detect", "--rebuild")
    assert code == 0, err
    assert sorted(e["kind"] for e in engage.events()) == ["call", "my_comment"]
    code, _, _ = engage("detect")
    assert sorted(e["kind"] for e in engage.events()) == ["call", "my_comment"]


def test_outcome_needs_an_ask(engage: Engage) -> None:
    code, _, err = engage("outcome", "will", "accepted")
    assert code == 2 and "no ask recorded for Will Cooke" in err
    assert engage.events() == []


def test_outcome_after_an_ask(engage: Engage) -> None:
    assert engage("ask", "will", "--anyway", "--when", "2024-05-01")[0] == 0
    code, _, err = engage("outcome", "will", "no-answer", "--when", "2024-04-30")
    assert code == 2 and "before the ask" in err
    assert engage("outcome", "will", "no-answer", "--when", "2024-05-15")[0] == 0
    assert engage("outcome", "will", "accepted", "--when", "2024-05-20")[0] == 0
    assert [e["kind"] for e in engage.events()] == ["my_ask", "ask_no_answer", "ask_accepted"]
    code, _, err = engage("outcome", "will", "maybe")
    assert code == 2 and "maybe" in err


@pytest.mark.parametrize("command", ["log", "met", "events", "undo", "outcome"])
def test_help_has_an_example(engage: Engage, command: str) -> None:
    code, out, _ = engage(command, "--help")
    assert code == 0
    assert re.search(r"Example:\n\s+engage " + command + " ", out), out


def test_a_real_process_logs_and_lists(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(WATCHLIST, encoding="utf-8")
    common = ["--config", str(config), "--data", str(tmp_path / "data")]
    engage = [sys.executable, "-m", "engage"]
    logged = subprocess.run(
        [*engage, "log", "Wil Cooke", "call", *common], capture_output=True, text=True
    )
    assert logged.returncode == 2 and "did you mean 'Will Cooke'?" in logged.stderr
    logged = subprocess.run(
        [*engage, "log", "will", "call", "--when", "yesterday", *common],
        capture_output=True,
        text=True,
    )
    assert logged.returncode == 0, logged.stderr
    listed = subprocess.run(
        [*engage, "events", "--json", *common], capture_output=True, text=True, check=True
    )
    (event,) = json.loads(listed.stdout)
    when = datetime.fromisoformat(event["when"])
    assert when.utcoffset() is not None
    assert datetime.now(UTC) - when < timedelta(days=2)
