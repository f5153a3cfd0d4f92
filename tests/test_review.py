"""Detections a user can trust: `engage review`, `events --json`'s `confirmed`, what
`status` and `check` say, and my answers on my own blog, end to end through the CLI on a
real data folder (commands in-process through engage.cli.main, exit codes included).

The world is the one the issue was found in: my aliases are [lucia, "Lucía M."]; a
stranger signing "Lucia" comments on Ben's blog, Ben answers "Thanks Lucia!", and his
post says "My colleague Lucia ran the retro"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from inprocess import EngageCLI

from engage.models import Comment, Post

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BEN_FEED = "https://ben.example/comments/feed/"
RETRO = "https://ben.example/2026/retro/"
MY_POST = "https://lucia.example/2026/notes/"

WATCHLIST = """\
me:
  name: Lucía Martín
  aliases: [lucia, "Lucía M."]
  sites: [https://lucia.example/]
  feeds:
    - {url: https://lucia.example/comments/feed/, kind: comments}
people:
  - name: Ben Ortiz
    aliases: [Ben O.]
    sites: [https://ben.example/]
    feeds:
      - {url: https://ben.example/comments/feed/, kind: comments}
  - name: Ada Quill
    sites: [https://ada.example/]
"""


def comment(
    n: int,
    author: str,
    day: float,
    *,
    blog: str = "Ben Ortiz",
    thread: str = RETRO,
    snippet: str = "",
    author_url: str | None = None,
    in_reply_to: str | None = None,
) -> Comment:
    return Comment(
        person=blog,
        feed=BEN_FEED if blog == "Ben Ortiz" else "https://lucia.example/comments/feed/",
        id=f"{thread}#comment-{n}",
        post_link=thread,
        link=f"{thread}#comment-{n}",
        author=author,
        author_url=author_url,
        published=T0 + timedelta(days=day),
        snippet=snippet or f"comment {n}",
        in_reply_to=in_reply_to,
    )


def at(day: float) -> str:
    return (T0 + timedelta(days=day)).isoformat()


class Engage(EngageCLI):
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(tmp_path, capsys, WATCHLIST)

    def polled(self, comments: list[Comment], posts: tuple[Post, ...] = ()) -> None:
        with self.store.transaction() as tx:
            tx.put_comments(comments)
            tx.put_posts(posts)
        code, _, err = self("detect")
        assert code == 0, err

    def by_kind(self) -> dict[str, dict[str, Any]]:
        return {e["kind"]: e for e in self.json("events")}


@pytest.fixture
def engage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    app = Engage(tmp_path, capsys)
    retro_post = Post(
        person="Ben Ortiz",
        feed="https://ben.example/feed/",
        id=RETRO,
        link=RETRO,
        title="Retro",
        published=T0 + timedelta(days=2),
        summary="<p>My colleague Lucia ran the retro.</p>",
    )
    app.polled(
        [
            comment(1, "Lucia", 0, author_url="https://lucia-bakes.example/"),
            comment(2, "Ben O.", 1, snippet="Thanks Lucia!"),
        ],
        (retro_post,),
    )
    return app


def test_name_only_detections_are_unconfirmed_and_do_not_make_anyone_ready(
    engage: Engage,
) -> None:
    events = engage.by_kind()
    assert {k: e["confirmed"] for k, e in events.items()} == {
        "my_comment": False,
        "their_reply": False,
        "their_mention": False,
    }
    engage("log", "Ben Ortiz", "call", "--when", at(3))
    assert engage.by_kind()["call"]["confirmed"] is None  # logged by hand: nothing to confirm
    (ben,) = [r for r in engage.json("status", "--at", at(4)) if r["person"] == "Ben Ortiz"]
    # A call and two "replies": ready, had the replies counted. They wait for review.
    assert ben["stage"] == "in_dialogue"
    assert not {g["name"]: g["passed"] for g in ben["gates"]}["reciprocity"]
    assert any("wait for your review" in reason for reason in ben["reasons"])
    code, out, _ = engage("status", "--at", at(4))
    assert code == 0
    assert "3 detections on a name alone wait for your review" in out
    assert "engage review" in out


def test_review_lists_what_waits_and_what_it_rests_on(engage: Engage) -> None:
    code, out, _ = engage("review")
    assert code == 0
    assert out.startswith("3 detections rest on a name alone")
    assert out.count("rests on the name 'lucia' on ben.example") == 3
    assert "Thanks Lucia!" in out
    listed = engage.json("review")
    assert [e["kind"] for e in listed] == ["my_comment", "their_reply", "their_mention"]


def test_a_rejection_survives_re_detection(engage: Engage) -> None:
    mine = engage.by_kind()["my_comment"]["id"]
    code, out, err = engage("review", mine[:12], "reject")
    assert code == 0, err
    assert out.startswith("rejected my_comment with Ben Ortiz")
    assert engage("detect", "--rebuild")[0] == 0
    assert engage("detect")[0] == 0
    assert "my_comment" not in engage.by_kind()


def test_a_confirmation_survives_a_rebuild(engage: Engage) -> None:
    mention = engage.by_kind()["their_mention"]["id"]
    assert engage("review", mention, "confirm")[1].startswith("confirmed their_mention")
    assert engage("detect", "--rebuild")[0] == 0
    assert engage.by_kind()["their_mention"]["confirmed"] is True
    assert engage.by_kind()["my_comment"]["confirmed"] is False
    assert len(engage.json("review")) == 2


def test_trusting_a_name_on_a_site_confirms_what_rests_on_it_now_and_later(
    engage: Engage,
) -> None:
    reply = engage.by_kind()["their_reply"]["id"]
    code, out, _ = engage("review", reply, "trust")
    assert code == 0
    assert out.strip() == "trusted 'lucia' on ben.example: confirmed 3 detections"
    assert all(e["confirmed"] for e in engage.json("events"))
    assert engage("review")[1].startswith("Nothing waits for review")
    # A later comment signed "Lucia" on Ben's blog is mine at once; on Ada's blog it is not.
    engage.polled([comment(3, "lucia", 5, thread=RETRO + "2/")])
    later = [e for e in engage.json("events") if e["url"] == RETRO + "2/#comment-3"]
    assert [e["confirmed"] for e in later] == [True]


def test_review_needs_a_decision_and_refuses_a_manual_event(engage: Engage) -> None:
    mine = engage.by_kind()["my_comment"]["id"]
    code, _, err = engage("review", mine)
    assert code == 2 and "confirm, reject or trust" in err
    engage("log", "Ben Ortiz", "call", "--when", at(3))
    call = engage.by_kind()["call"]["id"]
    code, _, err = engage("review", call, "confirm")
    assert code == 2 and "you logged yourself" in err
    code, _, err = engage("review", "auto:nothing-like-this", "confirm")
    assert code == 2 and "no event with id" in err


def test_interactive_review_asks_about_each(
    engage: Engage, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    # skip the comment, reject the reply, trust on the mention (which confirms the comment)
    monkeypatch.setattr("sys.stdin", io.StringIO("s\nr\nt\n"))
    code, out, err = engage("review", "--interactive")
    assert code == 0, err
    assert "rejected their_reply" in out
    assert "trusted 'lucia' on ben.example: confirmed 2 detections" in out
    assert engage.json("review") == []
    assert set(engage.by_kind()) == {"my_comment", "their_mention"}


def test_check_warns_about_first_name_aliases_without_failing(engage: Engage) -> None:
    code, out, err = engage("check")
    assert code == 0
    assert ": OK" in out
    lines = [line for line in err.splitlines() if "warning:" in line]
    assert lines == [
        f"{engage.config}:3:13: warning: alias 'lucia' of Lucía Martín is a first name alone: "
        "strangers sign with it too, so a comment matched on it alone is not "
        "taken for you until you review it (add the site or profile URL that identifies them "
        "under sites:, or a fuller alias)"
    ]


def test_an_auto_event_stored_before_confirmation_existed_takes_detections_word(
    engage: Engage,
) -> None:
    # A store written by an older engage: the event has no "confirmed" key, and reads as
    # confirmed until detection sees it again.
    mine = engage.by_kind()["my_comment"]["id"]
    raw = json.loads((engage.data / "engage.json").read_text(encoding="utf-8"))
    for doc in raw["events"].values():
        doc.pop("confirmed", None)
        doc.pop("name_matches", None)
    (engage.data / "engage.json").write_text(json.dumps(raw), encoding="utf-8")
    assert engage.by_kind()["my_comment"]["confirmed"] is True
    assert engage("detect")[0] == 0
    assert engage.by_kind()["my_comment"]["confirmed"] is False
    assert engage.by_kind()["my_comment"]["id"] == mine


def test_my_answer_on_my_own_blog_ends_the_reply_owed(engage: Engage) -> None:
    # Ada comments on my blog (with her site's URL); the next step is to answer her. I
    # answer in the thread: the next step stops saying "Reply to their comment".
    ada = comment(7, "Ada Quill", 10, blog="Lucía Martín", thread=MY_POST,
                  author_url="https://ada.example/")  # fmt: skip
    engage.polled([ada])
    (before,) = [r for r in engage.json("status", "--at", at(11)) if r["person"] == "Ada Quill"]
    assert before["action"] == "reply"
    assert before["next_step"].startswith("Reply to their comment of 12 Mar")
    engage.polled([ada, comment(8, "Lucía Martín", 10.5, blog="Lucía Martín", thread=MY_POST)])
    answers = [e for e in engage.json("events", "Ada Quill") if e["kind"] == "my_comment"]
    assert [(e["url"], e["confirmed"]) for e in answers] == [(MY_POST + "#comment-8", True)]
    (after,) = [r for r in engage.json("status", "--at", at(11)) if r["person"] == "Ada Quill"]
    assert after["action"] != "reply"
    assert "Reply to" not in after["next_step"]


def test_review_decisions_travel_with_export_and_import(
    engage: Engage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_kind = engage.by_kind()
    assert engage("review", by_kind["their_mention"]["id"], "confirm")[0] == 0
    assert engage("review", by_kind["my_comment"]["id"], "trust")[0] == 0
    code, exported, err = engage("export")
    assert code == 0, err
    document = json.loads(exported)
    assert {c["id"] for c in document["confirmations"]} == {e["id"] for e in by_kind.values()}
    assert [(t["site"], t["name"]) for t in document["trusted_names"]] == [
        ("ben.example", "lucia")
    ]
    (tmp_path / "elsewhere").mkdir()
    elsewhere = EngageCLI(tmp_path / "elsewhere", capsys, WATCHLIST)
    (tmp_path / "backup.json").write_text(exported, encoding="utf-8")
    code, _, err = elsewhere("import", str(tmp_path / "backup.json"))
    assert code == 0, err
    # Detection again from scratch: the decisions hold (nothing to review, all confirmed).
    with elsewhere.store.transaction() as tx:
        tx.put_comments([comment(1, "Lucia", 0), comment(2, "Ben O.", 1, snippet="Thanks Lucia!")])
    assert elsewhere("detect", "--rebuild")[0] == 0
    assert elsewhere.json("review") == []
    assert all(e["confirmed"] for e in elsewhere.events())
