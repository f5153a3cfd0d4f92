"""The engagement meter, as a table of situations (docs/design.md, "The engagement
meter", and its worked examples). Scores were worked out by hand from the half-life
formula p·2^(−age/30), e.g.
A at day 28: 2·2^(−28/30) + 2·2^(−21/30) + 2·2^(−14/30) + 1.5 (out: 5.23, under the cap)
+ 5·2^(−20/30) + 6·2^(−7/30) (in: 8.25) = 13.48."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from engage.meter import needs_ask_warning, read_meter, saturate, status_order
from engage.models import (
    DIRECTION,
    Event,
    EventKind,
    EventSource,
    LatestPost,
    MeterRules,
    Stage,
)

K = EventKind
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # day 0 of every scenario
RULES = MeterRules()


@dataclass
class World:
    """A scenario builder: `World().did(K.MY_COMMENT, 0, 7).did(K.THEIR_REPLY, 8)`."""

    person: str = "Dana"
    events: list[Event] = field(default_factory=list)

    def did(
        self,
        kind: EventKind,
        *days: float,
        note: str = "",
        url: str | None = None,
        confirmed: bool = True,
        evidence: str = "",
    ) -> World:
        for day in days:
            n = len(self.events)
            self.events.append(
                Event(
                    id=f"{self.person}-{n}",
                    person=self.person,
                    kind=kind,
                    when=T0 + timedelta(days=day),
                    direction=DIRECTION[kind],
                    note=note,
                    url=url,
                    source=EventSource.MANUAL if confirmed and not evidence else EventSource.AUTO,
                    confirmed=confirmed,
                    evidence=evidence,
                )
            )
        return self

    def at(  # type: ignore[no-untyped-def]
        self, day: float, rules: MeterRules = RULES, latest: LatestPost | None = None
    ):
        return read_meter(
            self.person, self.events, T0 + timedelta(days=day), rules, latest=latest
        )


def example_a() -> World:
    return (
        World()
        .did(K.MY_COMMENT, 0, 7, 14)
        .did(K.THEIR_REPLY, 8)
        .did(K.THEIR_COMMENT_ON_MINE, 21)
        .did(K.MY_SHARE, 28)
    )


def example_b() -> World:
    return (
        World()
        .did(K.MET_IN_PERSON, 0, note="PyCon")
        .did(K.MY_EMAIL_OR_DM, 1)
        .did(K.THEIR_EMAIL_OR_DM, 3)
    )


def example_b_prime() -> World:
    return World().did(K.MET_IN_PERSON, 0, note="PyCon")


def example_c() -> World:
    return World().did(K.MY_COMMENT, *range(10))


def example_d() -> World:
    return World().did(K.THEIR_LIKE, *range(0, 28, 3))


# (situation, world, day, score, stage, phrase in the primary reason or None)
WORKED = [
    ("A day 28: two replies, four gives, score 13.5 → ready", example_a, 28, 13.5,
     Stage.READY, "ready to ask"),
    ("A day 35: 11.5 is under 12 but above the exit 10 → still ready", example_a, 35, 11.5,
     Stage.READY, "ready to ask"),
    ("A day 42: 9.8 falls under 10 → in dialogue, one more exchange", example_a, 42, 9.8,
     Stage.IN_DIALOGUE, "about one more exchange"),
    ("A day 60: their last reply 39 days ago → recency fails", example_a, 60, 6.4,
     Stage.IN_DIALOGUE, "39 days ago"),
    ("B day 3: met, followed up, they replied → ready by the met path", example_b, 3, 15.4,
     Stage.READY, "you have met"),
    ("B′ day 1: met, no follow-up → send the follow-up", example_b_prime, 1, 7.8,
     Stage.IN_DIALOGUE, "send the follow-up"),
    ("B′ day 30: the meeting has decayed to half", example_b_prime, 30, 4.0,
     Stage.IN_DIALOGUE, "send the follow-up"),
    ("C: ten comments and no reply are capped at 6", example_c, 10, 6.0,
     Stage.NOTICED, "needs a reply from them"),
    ("D: ten likes every 3 days are barely anything", example_d, 28, 3.6,
     Stage.NOTICED, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "score", "stage", "phrase"),
    [pytest.param(*row[1:], id=row[0]) for row in WORKED],
)
def test_worked_examples(world, day, score, stage, phrase):  # type: ignore[no-untyped-def]
    reading = world().at(day)
    assert reading.score == pytest.approx(score, abs=0.2)
    assert reading.stage is stage
    if phrase:
        assert phrase in reading.reason.lower()


def test_example_a_at_day_60_names_the_failing_recency_gate_with_its_numbers() -> None:
    reading = example_a().at(60)
    gates = {g.name: g for g in reading.gates}
    assert not gates["recency"].passed
    assert "39 days ago" in gates["recency"].detail
    assert gates["reciprocity"].passed and gates["gives"].passed
    assert reading.reason.startswith("Their last reply was 39 days ago")
    assert any("Score 6.4" in r for r in reading.reasons)


def test_example_a_at_day_42_fails_only_the_score_gate() -> None:
    gates = {g.name: g.passed for g in example_a().at(42).gates}
    assert gates == {
        "reciprocity": True,
        "recency": True,
        "gives": True,
        "score": False,
        "no_pending_ask": True,
    }


def test_example_c_explains_the_design_example_sentence() -> None:
    reading = example_c().at(10)
    assert reading.reason == (
        "Needs a reply from them — so far 10 comments from you, no reply from them "
        "(need 2, on different days)."
    )
    assert any("capped at 6" in r for r in reading.reasons)
    assert reading.score_out == 6.0 and reading.score_in == 0.0


def test_one_reply_reads_like_the_design_sentence() -> None:
    reading = World().did(K.MY_COMMENT, 0, 7, 14).did(K.THEIR_REPLY, 8).at(15)
    assert reading.reason == (
        "Needs one more reply from them — so far 3 comments from you, 1 reply from them "
        "(need 2, on different days)."
    )


def test_follow_up_next_step_names_the_event_today() -> None:
    reading = World().did(K.MET_IN_PERSON, 0, note="PyCon").at(0.2)
    assert reading.next_step == "Send the follow-up to your meeting at PyCon today."
    assert reading.action == "follow_up_meeting"


def test_a_reply_owed_is_the_next_step_with_its_date_and_url() -> None:
    world = World().did(K.MY_COMMENT, 0).did(K.THEIR_REPLY, 1, url="https://ex.org/p#c-2")
    reading = world.at(2)
    assert reading.next_step == "Reply to their reply of 3 Mar (https://ex.org/p#c-2)."
    assert reading.action == "reply"


def test_a_reply_owed_comes_before_the_ask_when_ready() -> None:
    # Ada wrote "Send me yours and I will add it to my reading list": the tool said only
    # "Ask Ada to connect". Answering is the cheapest give and the precondition of an ask.
    world = example_a().did(K.THEIR_REPLY, 28.5, url="https://ex.org/p#c-9")
    reading = world.at(29)
    assert reading.stage is Stage.READY
    assert reading.action == "reply"
    assert reading.next_step.startswith("Reply to their reply of 30 Mar (https://ex.org/p#c-9)")
    assert 'then ask Dana to connect: engage ask "Dana"' in reading.next_step
    answered = world.did(K.MY_COMMENT, 29.5).at(30)
    assert (answered.stage, answered.action) == (Stage.READY, "ask")
    assert answered.next_step.startswith("Ask Dana to connect")


def example_a_unconfirmed() -> World:
    """Example A, with their two replies matched on a name alone."""
    return (
        World()
        .did(K.MY_COMMENT, 0, 7, 14)
        .did(K.THEIR_REPLY, 8, confirmed=False)
        .did(K.THEIR_COMMENT_ON_MINE, 21, confirmed=False)
        .did(K.MY_SHARE, 28)
    )


# Unconfirmed detections (a name alone) count as contact: noticed, in dialogue, not cold,
# and on the timeline; never towards ready: no points, no gives, no replies for
# reciprocity or recency, no reply owed. (situation, world, day, stage, action, score,
# passed gates)
UNCONFIRMED = [
    ("my unconfirmed comment makes them noticed, and is worth nothing yet",
     World().did(K.MY_COMMENT, 0, confirmed=False), 1, Stage.NOTICED, "give", 0.0,
     {"no_pending_ask"}),
    ("their unconfirmed reply makes a dialogue but no reciprocity",
     World().did(K.MY_COMMENT, 0).did(K.THEIR_REPLY, 1, 2, confirmed=False), 3,
     Stage.IN_DIALOGUE, "give", 1.9, {"no_pending_ask"}),
    ("example A with its replies unconfirmed is not ready",
     example_a_unconfirmed(), 28, Stage.IN_DIALOGUE, "give", 5.2,
     {"gives", "no_pending_ask"}),
    ("an unconfirmed reply owes no answer",
     World().did(K.MY_COMMENT, 0).did(K.THEIR_REPLY, 1, confirmed=False), 2,
     Stage.IN_DIALOGUE, "give", 1.9, {"no_pending_ask"}),
    ("an unconfirmed comment of mine answers nothing",
     World().did(K.THEIR_COMMENT_ON_MINE, 0).did(K.MY_COMMENT, 1, confirmed=False), 2,
     Stage.IN_DIALOGUE, "reply", 5.7, {"recency", "no_pending_ask"}),
    ("unconfirmed contact keeps them from cold, and can go cold",
     World().did(K.THEIR_REPLY, 0, confirmed=False), 61, Stage.WENT_COLD, "reopen", 0.0,
     {"no_pending_ask"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "stage", "action", "score", "passed"),
    [pytest.param(*row[1:], id=row[0]) for row in UNCONFIRMED],
)
def test_unconfirmed_detections(  # type: ignore[no-untyped-def]
    world, day, stage, action, score, passed
):
    reading = world.at(day)
    assert reading.stage is stage, reading.reason
    assert reading.action == action
    assert reading.score == pytest.approx(score, abs=0.05)
    assert {g.name.value for g in reading.gates if g.passed} == passed
    if reading.stage is not Stage.WENT_COLD:
        assert "wait for your review (engage review)" in " ".join(reading.reasons)


def test_confirming_example_a_makes_it_ready_again() -> None:
    confirmed = World(events=[replace(e, confirmed=True) for e in example_a_unconfirmed().events])
    assert confirmed.at(28).stage is Stage.READY


def latest(day: float, title: str = "Feeds are a promise") -> LatestPost:
    return LatestPost(title, f"https://ex.org/{day:g}/", T0 + timedelta(days=day))


ADA_WORDS = 'comment on "A blogroll": "Send me yours and I will add it to my reading list."'

# Every next step says what to do, on what: the post by its title and link, the reply by
# their words, the follow-up by how late it is. (situation, world, day, latest, next step)
CONCRETE = [
    ("cold: comment on the post, named",
     World(), 1, latest(0),
     "Leave a thoughtful comment on 'Feeds are a promise' <https://ex.org/0/>."),
    ("cold, no post known yet: their latest post",
     World(), 1, None, "Leave a thoughtful comment on their latest post."),
    ("a post without a title is named by its link",
     World(), 1, latest(0, title=""),
     "Leave a thoughtful comment on their latest post <https://ex.org/0/>."),
    ("a post after the moment of a what-if is not named",
     World(), 1, latest(2), "Leave a thoughtful comment on their latest post."),
    ("noticed: give on the post, named",
     World().did(K.MY_COMMENT, 0), 1, latest(0.5),
     "Leave a thoughtful comment on 'Feeds are a promise' <https://ex.org/0.5/>, or share it "
     "with credit."),
    ("the reply to answer, in their words",
     World().did(K.MY_COMMENT, 0).did(K.THEIR_REPLY, 1, url="https://ex.org/p#c-2",
                                     evidence=ADA_WORDS), 2, None,
     'Reply to their reply of 3 Mar: "Send me yours and I will add it to my reading list." '
     "(https://ex.org/p#c-2)."),
    ("a follow-up says how late it is",
     World().did(K.MET_IN_PERSON, 0, note="PyCon"), 14, None,
     "Send the follow-up to your meeting at PyCon on 2 Mar (met 14 days ago)."),
    ("an ask's follow-up says how long ago the ask was",
     World().did(K.MY_ASK, 0), 8, None,
     "Send your one follow-up to the ask of 2 Mar (asked 8 days ago)."),
    ("gone quiet: re-open on the post, named",
     World().did(K.THEIR_REPLY, 0), 61, latest(60),
     "Re-open gently: comment on 'Feeds are a promise' <https://ex.org/60/> or send a short, "
     "no-ask note."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "post", "step"), [pytest.param(*row[1:], id=row[0]) for row in CONCRETE]
)
def test_next_steps_are_concrete(world, day, post, step):  # type: ignore[no-untyped-def]
    assert world.at(day, latest=post).next_step == step


CONNECTED = World().did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2)

# Keeping in touch: a cadence per person (the caller puts it in the rules), and their new
# posts as reasons to write. (situation, world, day, rules, latest, action, next step phrase)
KEEPING_IN_TOUCH = [
    ("a 30-day cadence is due at day 32",
     CONNECTED, 32, replace(RULES, stay_in_touch_days=30), None, "stay_in_touch",
     "Send a short note"),
    ("a 30-day cadence is not due at day 31",
     CONNECTED, 31, replace(RULES, stay_in_touch_days=30), None, "", "Stay in touch by 3 Apr."),
    ("a new post is a reason to write before it is due",
     CONNECTED, 20, RULES, latest(18, "Tape loops"), "",
     "Stay in touch by 2 Jun. A reason to write sooner: their new post 'Tape loops' "
     "<https://ex.org/18/> (20 Mar)."),
    ("a new post is what to write about once due",
     CONNECTED, 95, RULES, latest(94, "Tape loops"), "stay_in_touch",
     "Write to them about their new post 'Tape loops' <https://ex.org/94/> (yesterday)"),
    ("a post older than the last contact is no news",
     CONNECTED, 95, RULES, latest(1), "stay_in_touch", "Send a short note"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "rules", "post", "action", "phrase"),
    [pytest.param(*row[1:], id=row[0]) for row in KEEPING_IN_TOUCH],
)
def test_keeping_in_touch(world, day, rules, post, action, phrase):  # type: ignore[no-untyped-def]
    reading = world.at(day, rules, latest=post)
    assert reading.stage is Stage.CONNECTED
    assert reading.action == action
    assert phrase in reading.next_step
    assert reading.due == T0 + timedelta(days=2 + rules.stay_in_touch_days)


def test_overdue_connections_rank_by_how_overdue_they_are() -> None:
    # Both overdue; the one overdue longer comes first though its score is lower.
    long_overdue = World(person="Long").did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2).at(130)
    short_overdue = (
        World(person="Short").did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2).did(K.CALL, 30).at(130)
    )
    assert (long_overdue.action, short_overdue.action) == ("stay_in_touch", "stay_in_touch")
    assert short_overdue.score > long_overdue.score
    assert "38 days overdue" in long_overdue.reason
    order = [r.person for r in status_order([short_overdue, long_overdue])]
    assert order == ["Long", "Short"]


# (situation, world, day, gate, passed)
GATES = [
    ("two replies on the same day do not make reciprocity",
     World().did(K.MY_COMMENT, 0, 1, 2).did(K.THEIR_REPLY, 3, 3.1), 4, "reciprocity", False),
    ("two replies on different days make reciprocity",
     World().did(K.MY_COMMENT, 0, 1, 2).did(K.THEIR_REPLY, 3, 5), 6, "reciprocity", True),
    ("a like is not a composed reply",
     World().did(K.THEIR_LIKE, 1, 2, 3), 4, "reciprocity", False),
    ("a mention counts as a composed reply",
     World().did(K.THEIR_MENTION, 1).did(K.THEIR_REPLY, 2), 3, "reciprocity", True),
    ("a meeting then one reply is the met path",
     World().did(K.CALL, 0).did(K.THEIR_EMAIL_OR_DM, 1), 2, "reciprocity", True),
    ("a reply before the meeting does not make the met path",
     World().did(K.THEIR_REPLY, 0).did(K.MET_IN_PERSON, 1), 2, "reciprocity", False),
    ("an accepted intro then a reply is the met path",
     World().did(K.INTRO_ACCEPTED, 0).did(K.THEIR_REPLY, 2), 3, "reciprocity", True),
    ("their last reply 30 days ago is still recent",
     World().did(K.THEIR_REPLY, 0), 30, "recency", True),
    ("their last reply 31 days ago is not",
     World().did(K.THEIR_REPLY, 0), 31, "recency", False),
    ("only my own comments never make recency",
     World().did(K.MY_COMMENT, 0, 1), 2, "recency", False),
    ("three comments are three gives",
     World().did(K.MY_COMMENT, 0, 1, 2), 3, "gives", True),
    ("two comments are not enough gives",
     World().did(K.MY_COMMENT, 0, 1), 3, "gives", False),
    ("a favour is worth two gives",
     World().did(K.MY_FAVOUR, 0).did(K.MY_SHARE, 1), 2, "gives", True),
    ("a plain message is no give",
     World().did(K.MY_EMAIL_OR_DM, 0, 1, 2), 3, "gives", False),
    ("the third comment of a day is no give",
     World().did(K.MY_COMMENT, 0, 0.01, 0.02), 1, "gives", False),
    ("after a meeting one follow-up is enough",
     World().did(K.MET_IN_PERSON, 0).did(K.MY_EMAIL_OR_DM, 1), 2, "gives", True),
    ("an ask resets the gives",
     World().did(K.MY_COMMENT, 0, 1, 2, 3).did(K.MY_ASK, 4).did(K.ASK_DECLINED, 5), 6,
     "gives", False),
    ("gives after the ask count again",
     World().did(K.MY_ASK, 0).did(K.ASK_NO_ANSWER, 1).did(K.MY_COMMENT, 2, 3, 4), 5,
     "gives", True),
    ("an ask without outcome is pending",
     World().did(K.MY_ASK, 0), 1, "no_pending_ask", False),
    ("an outcome ends the pending ask",
     World().did(K.MY_ASK, 0).did(K.ASK_DECLINED, 2), 3, "no_pending_ask", True),
    ("score 12 passes", World().did(K.THEIR_COMMENT_ON_MINE, 0, 0), 0, "score", True),
    ("score 11 fails when never ready",
     World().did(K.THEIR_COMMENT_ON_MINE, 0).did(K.THEIR_REPLY, 0), 0, "score", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "gate", "passed"), [pytest.param(*row[1:], id=row[0]) for row in GATES]
)
def test_gates(world, day, gate, passed):  # type: ignore[no-untyped-def]
    gates = {g.name: g for g in world.at(day).gates}
    assert gates[gate].passed is passed, gates[gate].detail


# (situation, world, day, expected score)
SCORES = [
    ("points halve every 30 days", World().did(K.THEIR_REPLY, 0), 30, 2.5),
    ("and again after 60", World().did(K.THEIR_REPLY, 0), 60, 1.25),
    ("a like is half a point", World().did(K.THEIR_LIKE, 0), 0, 0.5),
    ("an ask is worth nothing", World().did(K.MY_ASK, 0), 0, 0.0),
    ("outbound is capped at 6 after decay",
     World().did(K.MY_FAVOUR, 0, 1, 2, 3), 3, 6.0),
    ("decay brings capped outbound back under the cap",
     World().did(K.MY_FAVOUR, 0, 1, 2, 3), 63, 12 * 2 ** (-61.5 / 30)),
    ("only two outbound events a day count",
     World().did(K.MY_COMMENT, 0, 0.1, 0.2, 0.3), 0.3, 2 * 2 ** (-0.3 / 30) + 2 * 2 ** (-0.2 / 30)),
    ("the per-day limit does not touch their events",
     World().did(K.THEIR_LIKE, 0, 0.1, 0.2, 0.3), 0.3, 2.0),
    ("the cap does not touch their points",
     World().did(K.MY_FAVOUR, 0, 1, 2).did(K.THEIR_COMMENT_ON_MINE, 2), 2, 12.0),
    ("events after now are ignored",
     World().did(K.THEIR_REPLY, 0).did(K.THEIR_REPLY, 10), 5, 5 * 2 ** (-5 / 30)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "score"), [pytest.param(*row[1:], id=row[0]) for row in SCORES]
)
def test_scores(world, day, score):  # type: ignore[no-untyped-def]
    assert world.at(day).score == pytest.approx(score, abs=0.02)


def test_the_cap_shows_in_points_by_kind_and_they_add_up_to_the_score() -> None:
    reading = World().did(K.MY_COMMENT, 0, 1, 2, 3, 4).did(K.THEIR_REPLY, 4).at(4)
    assert sum(reading.points_by_kind.values()) == pytest.approx(reading.score, abs=0.05)
    assert reading.points_by_kind["my_comment"] == pytest.approx(6.0, abs=0.01)
    assert reading.points_by_kind["their_reply"] == pytest.approx(5.0, abs=0.01)


# (situation, world, day, stage, action, phrase in reason or next step)
STAGES = [
    ("nothing yet is cold", World(), 0, Stage.COLD, "start", "no contact"),
    ("only an intro request to a connector is still cold",
     World().did(K.INTRO_REQUESTED, 0), 1, Stage.COLD, "start", "no contact"),
    ("an ask moves to asked", World().did(K.MY_ASK, 0), 1, Stage.ASKED, "wait",
     "one follow-up is fine from 9 Mar"),
    ("day 6 after the ask: still waiting", World().did(K.MY_ASK, 0), 6.9, Stage.ASKED,
     "wait", "give them time"),
    ("day 7 after the ask: one follow-up allowed", World().did(K.MY_ASK, 0), 7,
     Stage.ASKED, "follow_up_ask", "one short follow-up"),
    ("followed up: wait", World().did(K.MY_ASK, 0).did(K.MY_EMAIL_OR_DM, 8), 9,
     Stage.ASKED, "wait", "followed up"),
    ("day 14 after the ask: parked", World().did(K.MY_ASK, 0), 14, Stage.ASKED, "parked",
     "parked"),
    ("accepted → connected",
     World().did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2), 30, Stage.CONNECTED, "",
     "stay in touch by 2 Jun"),
    ("connected and quiet past the cadence → reminder",
     World().did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2), 92, Stage.CONNECTED, "stay_in_touch",
     "90 days ago"),
    ("connected: any contact resets the cadence",
     World().did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 2).did(K.THEIR_LIKE, 80), 92,
     Stage.CONNECTED, "", "connected"),
    ("declined → back in dialogue with a note",
     World().did(K.MY_COMMENT, 0, 1, 2).did(K.THEIR_REPLY, 1, 2).did(K.MY_ASK, 3)
     .did(K.ASK_DECLINED, 4), 5, Stage.IN_DIALOGUE, "give", "declined"),
    ("declined with no reply ever → noticed",
     World().did(K.MY_COMMENT, 0).did(K.MY_ASK, 1).did(K.ASK_DECLINED, 2), 3,
     Stage.NOTICED, "give", "declined"),
    ("weekly rhythm, 61 days quiet → went cold (60-day floor)",
     World().did(K.MY_COMMENT, 0, 14, 28).did(K.THEIR_REPLY, 7, 21), 89,
     Stage.WENT_COLD, "reopen", "usual gap is 7 days"),
    ("weekly rhythm, 59 days quiet → not yet",
     World().did(K.MY_COMMENT, 0, 14, 28).did(K.THEIR_REPLY, 7, 21), 87,
     Stage.IN_DIALOGUE, "give", "their last reply"),
    ("a monthly rhythm stays warm at 200 days (8 × 30 = 240)",
     World().did(K.MY_COMMENT, 0, 60).did(K.THEIR_REPLY, 30, 90), 290,
     Stage.IN_DIALOGUE, "give", ""),
    ("a monthly rhythm goes cold after 240 days",
     World().did(K.MY_COMMENT, 0, 60).did(K.THEIR_REPLY, 30, 90), 331,
     Stage.WENT_COLD, "reopen", "241 days"),
    ("a single old contact goes cold after 60 days",
     World().did(K.THEIR_REPLY, 0), 61, Stage.WENT_COLD, "reopen", "61 days"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "stage", "action", "phrase"),
    [pytest.param(*row[1:], id=row[0]) for row in STAGES],
)
def test_stages(world, day, stage, action, phrase):  # type: ignore[no-untyped-def]
    reading = world.at(day)
    assert reading.stage is stage, reading.reason
    assert reading.action == action
    text = " ".join((reading.reason, *reading.reasons, reading.next_step)).lower()
    assert phrase.lower() in text


def test_an_ask_from_ready_leaves_ready_and_must_earn_it_again() -> None:
    world = example_a().did(K.MY_ASK, 28.5).did(K.ASK_NO_ANSWER, 29)
    reading = world.at(30)
    assert reading.stage is Stage.IN_DIALOGUE
    gates = {g.name: g for g in reading.gates}
    assert not gates["gives"].passed
    assert "0 gives since your last ask" in gates["gives"].detail


def test_hysteresis_needs_to_have_reached_12_first() -> None:
    # Like A at day 35 (all gates but the score pass, 11.7), but reached without ever
    # passing 12: not ready. The third give arrives on day 5, when the score is 11.69.
    world = World().did(K.THEIR_MENTION, 0, 2).did(K.MY_SHARE, 3, 4, 5)
    reading = world.at(5)
    assert reading.score == pytest.approx(11.69, abs=0.02)
    assert reading.stage is Stage.IN_DIALOGUE


def test_a_lapse_in_recency_between_events_leaves_ready_for_good() -> None:
    # Ready on day 2 (15.5). Recency (10 days here) lapses on day 11 while the score is still
    # above the exit line; a small mention on day 20 restores recency with the score at 11.2,
    # over the exit 10 but under 12: a meter that only looked at `now` would say ready.
    points = {**MeterRules().points, K.THEIR_MENTION: 1.0}
    rules = replace(MeterRules(), recency_days=10, points=points)
    world = World().did(K.THEIR_REPLY, 0, 1).did(K.MY_COMMENT, 0, 1, 2)
    assert world.at(2, rules).stage is Stage.READY
    world.did(K.THEIR_MENTION, 20)
    reading = world.at(20, rules)
    assert reading.score == pytest.approx(11.2, abs=0.1)
    assert all(g.passed for g in reading.gates if g.name != "score")
    assert reading.stage is Stage.IN_DIALOGUE


def test_history_is_180_days_ending_with_todays_score_and_matches_point_readings() -> None:
    world = example_a()
    reading = world.at(42)
    assert len(reading.history) == 180
    assert reading.history[-1] == ((T0 + timedelta(days=42)).date().isoformat(), 9.75)
    by_date = dict(reading.history)
    for day in (0, 7, 8, 21, 28, 35):
        expected = world.at(day).score
        assert by_date[(T0 + timedelta(days=day)).date().isoformat()] == pytest.approx(
            expected, abs=0.01
        )
    assert by_date[(T0 - timedelta(days=1)).date().isoformat()] == 0.0


def test_days_are_counted_in_nows_time_zone() -> None:
    # 23:30 and 00:30 UTC are the same day in UTC−5, so three comments hit the 2-a-day limit.
    kind = K.MY_COMMENT
    events = [
        Event(f"e{i}", "Dana", kind, when, DIRECTION[kind])
        for i, when in enumerate(
            [
                datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
                datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
                datetime(2026, 3, 3, 0, 30, tzinfo=UTC),
            ]
        )
    ]
    east = timezone(timedelta(hours=-5))
    now_utc = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert read_meter("Dana", events, now_utc, RULES).score == pytest.approx(6.0, abs=0.05)
    assert read_meter("Dana", events, now_utc.astimezone(east), RULES).score == pytest.approx(
        4.0, abs=0.05
    )


def test_other_peoples_events_are_ignored() -> None:
    mixed = [*example_a().events, *World(person="Sam").did(K.THEIR_REPLY, 27).events]
    assert read_meter("Dana", mixed, T0 + timedelta(days=28), RULES).score == pytest.approx(
        13.48, abs=0.02
    )


def test_rules_are_honoured() -> None:
    rules = replace(MeterRules(), ready_score=20.0, ready_exit_score=15.0)
    assert example_a().at(28, rules).stage is Stage.IN_DIALOGUE
    short = replace(MeterRules(), half_life_days=10.0)
    assert World().did(K.THEIR_REPLY, 0).at(10, short).score == pytest.approx(2.5, abs=0.01)


def test_status_order_puts_what_needs_action_first() -> None:
    readings = [
        World(person="Cold").at(1),
        World(person="Parked").did(K.MY_ASK, 0).at(20),
        World(person="Noticed").did(K.MY_COMMENT, 0).at(1),
        World(person="Met").did(K.MET_IN_PERSON, 0).at(1),
        World(person="Ready").did(K.MY_COMMENT, 0, 7, 14).did(K.THEIR_REPLY, 8)
        .did(K.THEIR_COMMENT_ON_MINE, 21).did(K.MY_SHARE, 28).at(28),
        World(person="AskFollowUp").did(K.MY_ASK, 0).at(8),
        World(person="Dialogue").did(K.MY_COMMENT, 0, 2).did(K.THEIR_REPLY, 1).at(3),
        World(person="Gone").did(K.THEIR_REPLY, 0).at(100),
        World(person="Owed").did(K.MY_COMMENT, 0).did(K.THEIR_REPLY, 1).at(2),
    ]  # fmt: skip
    order = [r.person for r in status_order(readings)]
    assert order == [
        "Ready",
        "Met",
        "Owed",
        "AskFollowUp",
        "Dialogue",
        "Noticed",
        "Gone",
        "Parked",
        "Cold",
    ]


# (situation, world, day, warning phrase or None)
WARNINGS = [
    ("ready: no warning", example_a(), 28, None),
    ("noticed: a cold invitation", example_c(), 10, "cold invitation"),
    ("already asked", World().did(K.MY_ASK, 0), 1, "already asked"),
    ("already connected", World().did(K.MY_ASK, 0).did(K.ASK_ACCEPTED, 1), 2,
     "already connected"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in WARNINGS]
)
def test_needs_ask_warning(world, day, phrase):  # type: ignore[no-untyped-def]
    warning = needs_ask_warning(world.at(day))
    if phrase is None:
        assert warning is None
    else:
        assert warning is not None and phrase in warning


def test_saturate_maps_scores_into_0_1() -> None:
    assert saturate(0) == 0.0
    assert saturate(12) == pytest.approx(0.632, abs=0.001)
    assert 0.99 < saturate(100) < 1.0


def test_naive_times_are_read_as_utc() -> None:
    kind = K.THEIR_REPLY
    naive = Event("n1", "Dana", kind, datetime(2026, 3, 2, 10, 0), DIRECTION[kind])
    reading = read_meter("Dana", [naive], datetime(2026, 4, 1, 10, 0), RULES)
    assert reading.score == pytest.approx(2.5, abs=0.01)
    assert reading.last_contact == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# A meeting or call is not a reply (docs/design.md, "The engagement meter": recency is
# "their last reply within 30 days"); it counts for reciprocity's met path only.
# (situation, world, day, recency passes, phrase in the recency detail)
RECENCY = [
    ("a call alone is not a recent reply",
     World().did(K.CALL, 0), 2, False, "no reply from them yet"),
    ("a meeting alone is not a recent reply",
     World().did(K.MET_IN_PERSON, 0), 2, False, "no reply from them yet"),
    ("a call does not refresh an old reply",
     World().did(K.THEIR_REPLY, 0).did(K.CALL, 35), 36, False,
     "their last reply was 36 days ago"),
    ("the reply after a call is what counts",
     World().did(K.CALL, 0).did(K.THEIR_EMAIL_OR_DM, 1), 3, True,
     "their last reply was 2 days ago"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("world", "day", "passed", "phrase"), [pytest.param(*row[1:], id=row[0]) for row in RECENCY]
)
def test_recency_is_their_last_reply_not_a_meeting(world, day, passed, phrase):  # type: ignore[no-untyped-def]
    gates = {g.name: g for g in world.at(day).gates}
    assert gates["recency"].passed is passed
    assert phrase in gates["recency"].detail
    assert "meeting or call" not in gates["recency"].detail


def test_the_ready_sentence_names_their_last_reply_not_a_later_call() -> None:
    # Three replies on days 0, 2, 4 and three gives: ready. A call on day 7 is not "the
    # last reply": it was 4 days ago when read on day 8, and the call yesterday.
    world = (
        World().did(K.MY_COMMENT, 0, 1, 3).did(K.THEIR_REPLY, 0.5, 2, 4).did(K.CALL, 7)
    )
    reading = world.at(8)
    assert reading.stage is Stage.READY
    assert reading.reason.startswith(
        "Ready to ask: 3 replies from them on different days, the last 4 days ago;"
    )


def test_a_reading_centuries_later_does_not_overflow() -> None:
    # `engage status --at 2999-12-20` is a valid what-if: everything has decayed to 0.
    reading = read_meter("Dana", example_a().events, datetime(2999, 12, 20, tzinfo=UTC), RULES)
    assert reading.score == 0.0
    assert reading.stage is Stage.WENT_COLD
