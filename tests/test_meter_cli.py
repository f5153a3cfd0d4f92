"""`engage status / explain / intro / ask / import-linkedin` against a tmp watchlist and a
real data folder. Commands run in-process through engage.cli.main (the `engage` script's
entry point, exit codes included); one runs as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from inprocess import EngageCLI

from engage.models import DIRECTION, Event, EventKind, EventSource, IntroEvidence

K = EventKind
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

WATCHLIST = """\
me:
  name: Marian Novak
  sites: [https://marian.example/]
  interests: [python]
people:
  - name: Ada Lovelace
    aliases: [ada]
    tags: [python]
  - name: Bo Met
    knows: [Ada Lovelace]
  - name: Cy Commenter
  - name: Dee Nobody
contacts:
  - name: Kim Known
    knows: [Ada Lovelace]
  - name: Lou Later
    knows: [Bo Met]
"""


def at(day: float) -> str:
    return (T0 + timedelta(days=day)).isoformat()


def event(
    person: str, kind: EventKind, day: float, url: str | None = None, note: str = ""
) -> Event:
    return Event(
        id=f"test:{person}:{kind.value}:{day}",
        person=person,
        kind=kind,
        when=T0 + timedelta(days=day),
        direction=DIRECTION[kind],
        source=EventSource.AUTO,
        url=url,
        note=note,
    )


EVENTS = [
    # Example A: ready on day 28.
    event("Ada Lovelace", K.MY_COMMENT, 0, "https://ada.example/p1#c1"),
    event("Ada Lovelace", K.MY_COMMENT, 7, "https://ada.example/p2#c3"),
    event("Ada Lovelace", K.MY_COMMENT, 14, "https://ada.example/p3#c2"),
    event("Ada Lovelace", K.THEIR_REPLY, 8, "https://ada.example/p2#c4"),
    event("Ada Lovelace", K.THEIR_COMMENT_ON_MINE, 21, "https://marian.example/x#c9"),
    event("Ada Lovelace", K.MY_SHARE, 28, "https://marian.example/links"),
    # B′: met yesterday (as of day 28), no follow-up yet.
    event("Bo Met", K.MET_IN_PERSON, 27, note="at PyCon"),
    # C: comments only.
    *[event("Cy Commenter", K.MY_COMMENT, d) for d in range(18, 28)],
]


class Engage(EngageCLI):
    """Runs `engage ARGS --config … --data …` in-process; the store starts with EVENTS and
    Kim's comment on Ada's post unless `seed` is False."""

    def __init__(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        watchlist: str = WATCHLIST,
        *,
        seed: bool = True,
    ) -> None:
        super().__init__(tmp_path, capsys, watchlist)
        if not seed:
            return
        with self.store.transaction() as tx:
            tx.add_events(EVENTS)
            tx.put_intro_evidence(
                [
                    IntroEvidence(
                        id="ev1",
                        contact="Kim Known",
                        person="Ada Lovelace",
                        url="https://ada.example/p3#c7",
                        when=T0 + timedelta(days=20),
                        kind="contact_commented",
                        evidence="Kim Known commented on Ada's post",
                    )
                ]
            )


@pytest.fixture
def engage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    return Engage(tmp_path, capsys)


def test_status_json_sorts_by_what_needs_action(engage: Engage) -> None:
    rows = engage.json("status", "--at", at(28))
    assert [(r["person"], r["stage"]) for r in rows] == [
        ("Ada Lovelace", "ready"),
        ("Bo Met", "in_dialogue"),
        ("Cy Commenter", "noticed"),
        ("Dee Nobody", "cold"),
    ]
    ada = rows[0]
    assert ada["score"] == pytest.approx(13.48, abs=0.02)
    assert ada["action"] == "ask"
    assert {g["name"] for g in ada["gates"]} == {
        "reciprocity", "recency", "gives", "score", "no_pending_ask",
    }  # fmt: skip
    assert ada["last_contact"] == at(28)
    bo = rows[1]
    assert bo["next_step"] == "Send the follow-up to your meeting at PyCon yesterday."
    assert rows[2]["score"] == 6.0
    assert "needs a reply from them" in rows[2]["reason"].lower()
    for row in rows:
        assert set(row) >= {"person", "stage", "score", "reason", "next_step"}


def test_at_moves_the_clock(engage: Engage) -> None:
    rows = {r["person"]: r for r in engage.json("status", "--at", at(42))}
    assert rows["Ada Lovelace"]["stage"] == "in_dialogue"
    assert "about one more exchange" in rows["Ada Lovelace"]["reason"]


def test_stage_filter(engage: Engage) -> None:
    rows = engage.json("status", "--at", at(28), "--stage", "noticed", "--stage", "cold")
    assert [r["person"] for r in rows] == ["Cy Commenter", "Dee Nobody"]


def test_status_as_text_has_a_bar_and_the_reason(engage: Engage) -> None:
    code, out, err = engage("status", "--at", at(28))
    assert (code, err) == (0, "")
    first = out.splitlines()[0]
    assert first.startswith("Ada Lovelace")
    assert "ready" in first and "13.5" in first and "#########---" in first
    assert "→ Ask Ada Lovelace to connect" in out


def test_explain_json_has_everything(engage: Engage) -> None:
    data = engage.json("explain", "ada", "--at", at(60))
    assert data["person"] == "Ada Lovelace"
    assert data["stage"] == "in_dialogue"
    gates = {g["name"]: g for g in data["gates"]}
    assert not gates["recency"]["passed"] and "39 days ago" in gates["recency"]["detail"]
    assert len(data["history"]) == 180
    assert data["history"][-1] == [(T0 + timedelta(days=60)).date().isoformat(), 6.44]
    assert set(data["points_by_kind"]) == {"my_comment", "their_reply",
                                           "their_comment_on_mine", "my_share"}  # fmt: skip
    assert [e["kind"] for e in data["timeline"]][:2] == ["my_share", "their_comment_on_mine"]
    path = data["intro_paths"][0]
    assert path["via"] == ["Kim Known"]
    assert "https://ada.example/p3#c7" in [e["url"] for e in path["evidence"]]
    assert data["linkedin"] is False


def test_explain_as_text(engage: Engage) -> None:
    code, out, _ = engage("explain", "Cy Commenter", "--at", at(28))
    assert code == 0
    assert out.startswith("Cy Commenter — noticed, score 6.0")
    assert "FAIL  reciprocity" in out and "pass  gives" in out
    assert "my_comment" in out
    assert "Nobody you know is known to know Cy Commenter yet" in out


def test_explain_an_unknown_person_is_one_clear_line(engage: Engage) -> None:
    code, _, err = engage("explain", "Adda Lovelace")
    assert code == 2
    assert "did you mean 'Ada Lovelace'" in err and "Traceback" not in err


def test_intro_ranks_paths_and_drafts_the_note(engage: Engage) -> None:
    code, out, _ = engage("intro", "Ada Lovelace", "--at", at(28))
    assert code == 0
    assert "Kim Known  (strength" in out
    assert "Kim Known commented on Ada's post" in out and "https://ada.example/p3#c7" in out
    assert "Subject: Would you be comfortable introducing me to Ada Lovelace?" in out
    assert "Hi Kim," in out


def test_intro_two_hops(engage: Engage) -> None:
    # Ada: Kim knows her (stated + a comment), Bo (met yesterday, in dialogue) knows her;
    # with two hops, Lou → Bo joins: 0.5 × 0.5 × 0.5.
    one = engage.json("intro", "Ada Lovelace", "--at", at(28))
    assert [p["via"] for p in one["paths"]] == [["Kim Known"], ["Bo Met"]]
    two = engage.json("intro", "Ada Lovelace", "--hops", "2", "--at", at(28))
    assert [p["via"] for p in two["paths"]] == [["Kim Known"], ["Bo Met"], ["Lou Later", "Bo Met"]]
    assert two["paths"][2]["strength"] == 0.125
    assert two["note"].startswith("Subject:")
    code, _, err = engage("intro", "Bo Met", "--hops", "3")
    assert code == 2 and "--hops" in err


def asks(engage: Engage, person: str) -> list[Event]:
    return [e for e in engage.store.events(person) if e.kind is K.MY_ASK]


def test_ask_before_ready_is_refused_with_the_reason_and_who_could_introduce(
    engage: Engage,
) -> None:
    code, _, err = engage("ask", "Cy Commenter", "--when", at(28))
    assert code == 1
    assert "would be a cold invitation" in err
    assert "Needs a reply from them" in err
    assert "Nothing recorded" in err
    assert asks(engage, "Cy Commenter") == []
    code, _, err = engage("ask", "Ada", "--when", at(60))
    assert code == 1
    assert "Who could introduce you instead: Kim Known" in err


def test_ask_anyway_records_it(engage: Engage) -> None:
    code, out, _ = engage("ask", "Cy Commenter", "--when", at(28), "--anyway", "--note", "hi")
    assert code == 0
    assert "Recording anyway" in out and "Recorded your ask to Cy Commenter" in out
    (recorded,) = asks(engage, "Cy Commenter")
    assert recorded.source is EventSource.MANUAL and recorded.note == "hi"
    assert recorded.when == T0 + timedelta(days=28)
    rows = {r["person"]: r for r in engage.json("status", "--at", at(29))}
    assert rows["Cy Commenter"]["stage"] == "asked"


def test_ask_when_ready_records_without_anyway(engage: Engage) -> None:
    code, out, err = engage("ask", "Ada Lovelace", "--when", at(28))
    assert (code, err) == (0, "")
    assert "Recorded your ask to Ada Lovelace" in out
    assert len(asks(engage, "Ada Lovelace")) == 1
    again = engage("ask", "Ada Lovelace", "--when", at(29))
    assert again[0] == 1 and "already asked" in again[2]


CONNECTIONS = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    'are missing."\n'
    "\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Kim,Known,https://www.linkedin.com/in/kim,kim@example.org,Acme,CTO,12 Mar 2021\n"
    "Ada,Lovelace,https://www.linkedin.com/in/ada,,Analytical,Engineer,1 Jan 2020\n"
    'Pat,Peer,https://www.linkedin.com/in/pat,,"Cy Corp, Ltd",Engineer,2 Feb 2022\n'
)


def test_import_linkedin_twice_updates_without_duplicates(engage: Engage, tmp_path: Path) -> None:
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text("\ufeff" + CONNECTIONS, encoding="utf-8")
    code, out, _ = engage("import-linkedin", str(csv_file))
    assert code == 0
    assert "Imported 3 LinkedIn connections from Connections.csv: 3 new, 0 updated" in out
    assert "Ada Lovelace: already connected on LinkedIn" in out
    assert "Kim Known: your contact" in out
    code, out, _ = engage("import-linkedin", str(csv_file), "--strength", "0.5")
    assert "0 new, 3 updated" in out
    stored = {p.name: p for p in engage.store.linkedin_contacts()}
    assert set(stored) == {"Kim Known", "Ada Lovelace", "Pat Peer"}
    assert stored["Pat Peer"].strength == 0.5
    assert engage.json("explain", "Ada Lovelace", "--at", at(28))["linkedin"] is True


def test_import_linkedin_refuses_another_csv(engage: Engage, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("name,email\nA,b@c\n", encoding="utf-8")
    code, _, err = engage("import-linkedin", str(other))
    assert code == 2 and "no header row" in err


def test_status_json_in_a_real_subprocess(engage: Engage) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engage", "status", "--json", "--at", at(28),
         "--config", str(engage.config), "--data", str(engage.data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["person"] == "Ada Lovelace"


WHIZZY = "https://whizzy.org"
CISCO = f"{WHIZZY}/2017/02/23/cisco-7941-asterisk-and-sip/"
PIHOLE = f"{WHIZZY}/2021/01/02/double-helping-of-pi-hole/"
OVER_ENGINEERING = f"{WHIZZY}/2012/03/08/over-engineering-ftw/"
WHIZZY_FEEDS = [
    ("blogs/wp_whizzy_feed.xml", f"{WHIZZY}/feed/", "blog"),
    ("comments/wp_whizzy_comments.xml", f"{WHIZZY}/comments/feed/", "comments"),
    ("comments/wp_whizzy_post_cisco_comments.xml", f"{CISCO}feed/", "comments"),
    ("comments/wp_whizzy_post_pihole_comments.xml", f"{PIHOLE}feed/", "comments"),
]
IRA_WATCHLIST = """\
me:
  name: Ira
people:
  - name: Will Cooke
    aliases: [will]
    sites: [https://whizzy.org/]
contacts:
  - name: Gareth
"""


def test_explain_and_intro_on_the_real_whizzy_comment_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whizzy.org WordPress group (shared/feeds): Ira commented on 9 Dec 2018, Will
    replied on 14 Dec ("In reply to … #43"), Ira commented again on 23 Mar 2020; Gareth, a
    contact, commented on the Cisco post on 8 Oct 2020. Evaluated on 20 Oct 2020."""
    from conftest import FEEDS

    from engage.config import load
    from engage.detect import detect
    from engage.models import FeedKind, MeterRules
    from engage.poll.items import split_entries
    from engage.poll.parse import parse_feed

    assert FEEDS.is_dir(), f"test data missing: {FEEDS}"
    engage = Engage(tmp_path, capsys, IRA_WATCHLIST, seed=False)
    watchlist = load(engage.config)
    posts, comments = [], []
    for name, url, kind in WHIZZY_FEEDS:
        parsed = parse_feed((FEEDS / name).read_bytes(), url=url)
        more_posts, more_comments = split_entries(
            parsed.entries, kind=FeedKind(kind), person="Will Cooke", feed=url, now=None
        )
        posts += more_posts
        comments += more_comments
    # "Ira" is a first name alone in a feed without author URLs: unconfirmed until the user
    # trusts "ira" on whizzy.org (engage review ID trust), as this user has.
    untrusted = detect(watchlist, posts, comments, rules=MeterRules())
    assert [e.confirmed for e in untrusted.events] == [False, False, False]
    assert {e.name_matches for e in untrusted.events} == {(("whizzy.org", "ira"),)}
    trusted = {("whizzy.org", "ira")}
    found = detect(watchlist, posts, comments, rules=MeterRules(), trusted=trusted)
    assert [e.confirmed for e in found.events] == [True, True, True]
    with engage.store.transaction() as tx:
        tx.add_events(found.events)
        tx.put_intro_evidence(found.intro_evidence)
    data = engage.json("explain", "Will Cooke", "--at", "2020-10-20T12:00:00+00:00")
    assert [(e["kind"], e["when"][:10]) for e in data["timeline"]] == [
        ("my_comment", "2020-03-23"),
        ("their_reply", "2018-12-14"),
        ("my_comment", "2018-12-09"),
    ]
    # Their rhythm is slow (gaps of 5 and 465 days): 211 quiet days are not "cold" for them.
    assert data["stage"] == "in_dialogue"
    gates = {g["name"]: g for g in data["gates"]}
    assert gates["gives"]["detail"] == "2 gives (need 3)"
    assert not gates["recency"]["passed"]
    assert data["reason"].startswith("Give a little more first: 2 of 3 gives so far")
    # Two old comments and a reply are worth almost nothing now: 2·2^(-211/30) + …
    assert data["score"] < 0.1
    (path,) = data["intro_paths"]
    assert path["via"] == ["Gareth"]
    assert f"{CISCO}#comment-170" in [e["url"] for e in path["evidence"]]
    # 0.5 (a listed contact) × 0.4 · 2^(−12/30) (one comment, 12 days old) = 0.1516
    assert path["strength"] == pytest.approx(0.1516, abs=0.001)
    code, out, _ = engage("intro", "will", "--at", "2020-10-20T12:00:00+00:00")
    assert code == 0
    # One comment of Gareth's is a weak tie: the path and its evidence, and no draft.
    assert f"{CISCO}#comment-170" in out
    assert "No draft: the best path, through Gareth, is weak (strength 0.15, under 0.3)" in out
    assert "Hi Gareth," not in out


def test_a_bad_at_is_one_clear_line(engage: Engage) -> None:
    code, _, err = engage("status", "--at", "next blue moon")
    assert code == 2
    assert "cannot read the time 'next blue moon'" in err and "Traceback" not in err


def test_intro_without_any_path_says_how_to_add_one_and_drafts_nothing(engage: Engage) -> None:
    code, out, _ = engage("intro", "Dee Nobody", "--at", at(28))
    assert code == 0
    assert "Nobody you know is known to know Dee Nobody yet" in out
    assert "Subject:" not in out


def test_a_link_with_no_evidence_is_no_recommendation_and_gets_no_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zero = "  - name: Zed Zero\n    strength: 0\n    knows: [Dee Nobody]\n"
    engage = Engage(tmp_path, capsys, WATCHLIST + zero)
    code, out, _ = engage("intro", "Dee Nobody", "--at", at(28))
    assert code == 0
    assert out.splitlines() == [
        "Nobody can introduce you to Dee Nobody yet: the links found have no evidence worth "
        "an ask behind them, so no note is drafted.",
        "  Zed Zero  (strength 0.00)",
        "      missing: nothing shows that you know Zed Zero well (you know Zed Zero "
        "(strength 0 in feeds.yaml); tie strength 0.00): if you do, give Zed Zero a "
        "`strength:` (0.1 to 1) under contacts: in feeds.yaml",
    ]
    data = engage.json("intro", "Dee Nobody", "--at", at(28))
    assert (data["paths"], data["note"]) == ([], None)
    (weak,) = data["unsupported_paths"]
    assert (weak["via"], weak["strength"]) == (["Zed Zero"], 0.0)
    assert weak["missing"].startswith("nothing shows that you know Zed Zero well")
    # Nor do explain and ask offer Zed Zero as someone who could introduce.
    assert engage.json("explain", "Dee Nobody", "--at", at(28))["intro_paths"] == []
    _, _, err = engage("ask", "Dee Nobody")
    assert "Zed Zero" not in err


def future(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


# --at is a what-if: any moment, past or future. Recording commands keep the
# future check: they log what already happened.
# (situation, argv, exit code, phrase in stdout or stderr)
AT_ANY_MOMENT = [
    ("status --at a future date evaluates the meter", ["status", "--at", future(400)], 0,
     "Ada Lovelace"),
    ("status --at a future date as a plain date", ["status", "--at", "2999-12-20"], 0,
     "went cold"),
    ("explain --at a future date", ["explain", "ada", "--at", future(400)], 0,
     "Ada Lovelace — went cold"),
    ("intro --at a future date", ["intro", "ada", "--at", future(400)], 0, "Kim Known"),
    ("ask --when in the future is still refused", ["ask", "ada", "--when", future(400)], 2,
     "is in the future"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "code", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in AT_ANY_MOMENT]
)
def test_at_takes_any_moment_but_ask_when_only_the_past(
    engage: Engage, argv: list[str], code: int, phrase: str
) -> None:
    got, out, err = engage(*argv)
    assert got == code, err
    assert phrase in out + err
    assert asks(engage, "Ada Lovelace") == []


def test_status_json_at_a_future_moment(engage: Engage) -> None:
    rows = {r["person"]: r for r in engage.json("status", "--at", "2999-12-20")}
    assert rows["Ada Lovelace"]["stage"] == "went_cold"
    assert rows["Dee Nobody"]["stage"] == "cold"


def test_intro_to_a_contact_says_you_know_them(engage: Engage) -> None:
    code, out, _ = engage("intro", "Kim Known", "--at", at(28))
    assert code == 0
    assert "Kim Known is one of your contacts: you already know them" in out
    assert "Subject:" not in out and "Who could introduce" not in out
    data = engage.json("intro", "kim known", "--at", at(28))
    assert (data["contact"], data["paths"], data["note"]) == (True, [], None)


def test_the_cli_draft_follows_the_counts(engage: Engage) -> None:
    # Ada at day 28: 3 comments from me, a reply and a comment on my blog from her.
    code, out, _ = engage("intro", "Ada Lovelace", "--at", at(28))
    assert code == 0
    assert "We've exchanged a few comments, and I'd like" in out
    assert "comments and replies" not in out
    # Cy at day 28: ten comments from me (on ten posts, as far as we know), no reply.
    watchlist = WATCHLIST.replace(
        "    knows: [Bo Met]", "    strength: 0.8\n    knows: [Bo Met, Cy Commenter]"
    )
    engage.config.write_text(watchlist, encoding="utf-8")
    code, out, _ = engage("intro", "Cy Commenter", "--at", at(28))
    assert code == 0
    assert "I've left comments on several of their posts, and I'd like" in out
    assert "exchanged" not in out


FAR_WATCHLIST = """\
me:
  name: Marian Novak
people:
  - name: Mid Person
    knows: [Zed Far]
  - name: Zed Far
contacts:
  - name: Kim Known
    knows: [Mid Person]
"""


def test_intro_with_only_a_two_hop_path_says_so_and_counts_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engage = Engage(tmp_path, capsys, FAR_WATCHLIST, seed=False)
    code, out, _ = engage("intro", "Zed Far")
    assert code == 0
    assert out.strip() == (
        "Nobody you know knows Zed Far directly; `engage intro 'Zed Far' --hops 2` "
        "finds 1 longer path."
    )
    assert engage.json("intro", "Zed Far")["longer_paths"] == 1
    code, out, _ = engage("explain", "Zed Far")
    assert "`engage intro 'Zed Far' --hops 2` finds 1 longer path." in out
    code, out, _ = engage("intro", "Zed Far", "--hops", "2")
    # Two stated ties after a listed contact: 0.5 × 0.5 × 0.5, too weak to draft a note.
    assert "Kim Known → Mid Person" in out and "Subject:" not in out
    assert "No draft: the best path, through Kim Known, is weak (strength 0.12" in out
    assert engage.json("intro", "Zed Far", "--hops", "2")["withheld"].startswith("No draft")


JO_BLOGGS = (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Jo,Bloggs,https://www.linkedin.com/in/jo-acme,,Acme,CTO,12 Mar 2021\n"
    "Jo,Bloggs,https://www.linkedin.com/in/jo-globex,,Globex,Engineer,1 Jan 2020\n"
    "Kim,Known,https://www.linkedin.com/in/kim,,Acme,CTO,12 Mar 2021\n"
    "Pat,Peer,https://www.linkedin.com/in/pat,,Initech,Engineer,2 Feb 2022\n"
)


def test_import_linkedin_keeps_two_connections_who_share_a_name(
    engage: Engage, tmp_path: Path
) -> None:
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text(JO_BLOGGS, encoding="utf-8")
    code, out, _ = engage("import-linkedin", str(csv_file))
    assert code == 0
    imported = "Imported 4 LinkedIn connections from Connections.csv"
    assert f"{imported}: 4 new, 0 updated, 0 unchanged" in out
    stored = sorted((p.name, p.company) for p in engage.store.linkedin_contacts())
    assert stored == [("Jo Bloggs", "Acme"), ("Jo Bloggs", "Globex"), ("Kim Known", "Acme"),
                      ("Pat Peer", "Initech")]  # fmt: skip
    code, out, _ = engage("import-linkedin", str(csv_file))
    assert "Imported 4 LinkedIn connections" in out and "0 new, 0 updated, 4 unchanged" in out
    code, out, _ = engage("import-linkedin", str(csv_file), "--strength", "0.6")
    assert "0 new, 4 updated, 0 unchanged" in out
    assert len(engage.store.linkedin_contacts()) == 4


@pytest.mark.parametrize("bad", ["nan", "NaN", "1.5", "-0.1", "inf"])
def test_import_linkedin_refuses_a_strength_out_of_range_or_nan(
    engage: Engage, tmp_path: Path, bad: str
) -> None:
    csv_file = tmp_path / "Connections.csv"
    csv_file.write_text(JO_BLOGGS, encoding="utf-8")
    code, _, err = engage("import-linkedin", str(csv_file), "--strength", bad)
    assert code == 2
    assert "--strength" in err and "Traceback" not in err
    assert engage.store.linkedin_contacts() == []


def test_an_accepted_introduction_owes_the_introducer_thanks_and_counts_for_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engage = Engage(tmp_path, capsys, seed=False)
    code, _, err = engage("log", "Dee Nobody", "intro-requested", "--via", "Kim Known",
                          "--when", at(0))  # fmt: skip
    assert code == 0, err
    code, out, err = engage("log", "Dee Nobody", "intro-accepted", "--when", at(2))
    assert code == 0, err
    # The introducer comes from the request; the favour is on their record too.
    assert "logged intro_accepted with Dee Nobody" in out
    assert "logged their_intro with Kim Known" in out
    dee = engage.json("explain", "Dee Nobody", "--at", at(3))
    assert dee["action"] == "follow_up_meeting"
    assert dee["next_step"] == (
        "Thank Kim Known for the introduction yesterday, and write to Dee Nobody while it "
        "is fresh."
    )
    kim = engage.json("explain", "Kim Known", "--at", at(3))
    assert kim["points_by_kind"]["their_intro"] == pytest.approx(6 * 2 ** (-1 / 30), abs=0.01)
    assert kim["action"] == "reply"
    assert kim["next_step"] == "Thank them: they introduced you to Dee Nobody (4 Mar)."
    # Thanked: nothing owed any more.
    assert engage("log", "Kim Known", "dm-out", "--when", at(2.5))[0] == 0
    assert engage.json("explain", "Kim Known", "--at", at(3))["action"] != "reply"


def test_via_goes_only_with_an_introduction(engage: Engage) -> None:
    code, _, err = engage("log", "Dee Nobody", "call", "--via", "Kim Known")
    assert code == 2 and "--via names who made an introduction" in err
    code, _, err = engage("log", "Dee Nobody", "intro-accepted", "--via", "Dee Nobody")
    assert code == 2 and "cannot introduce you to themselves" in err
