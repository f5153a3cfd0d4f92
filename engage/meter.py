"""The engagement meter (DESIGN §4): events + now + rules → a Reading.

Pure: nothing here reads the clock, the disk or the network, so every rule is a
row in a table of tests with an invented clock.

Choices the worked examples forced (see tests/test_meter.py):

- The outbound cap applies to the *decayed* outbound sum at the moment of the
  reading, not to raw points before decay. Example A at day 28 has 2+2+2+1.5 = 7.5
  raw outbound points; capping before decay would give ≈ 12.9, not the required
  13.5. Capping after decay (5.2 < 6, no cap) gives 13.48. Example C (ten comments)
  still lands on exactly 6.
- "Ready" has hysteresis but stays a pure function of the events: the meter
  replays the history event by event. Ready is entered only when every gate passes
  with score ≥ ready_score (12); it is left when the score falls under
  ready_exit_score (10), when their last reply grows older than recency_days, or
  when an ask is made (which resets the gives and makes an ask pending).
  Reciprocity never drops once earned. Between two events the score only decays
  and recency only ages, so checking just before and just after each event (and
  at `now`) finds every crossing exactly, in O(events).
- Recency is their last composed reply (their_reply, their_comment_on_mine,
  their_email_or_dm, their_mention), as DESIGN §4 says: a meeting or call is not a
  reply. It counts only for reciprocity's met path (a meeting/call/intro plus one reply
  after it) and for the gives needed; example B still holds (their reply on day 3).
- An ask stays pending until its outcome is logged. After ask_park_days it is
  "parked" (stop chasing), still in stage asked, so it is never forgotten.
- The 2-per-day outbound limit keeps the first two point-earning outbound events
  of a day (in `now`'s time zone): later ones neither score nor give.
- Gives needed: gives_needed_met (1) once we have met, talked or been introduced
  (any met_in_person / call / intro_accepted), otherwise gives_needed (3).
"""

from __future__ import annotations

import itertools
import math
import operator
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from engage.models import (
    DIRECTION,
    Direction,
    Event,
    EventKind,
    Gate,
    MeterRules,
    Reading,
    Stage,
)

K = EventKind

# Their own words, aimed at me: what reciprocity and recency are made of.
COMPOSED_REPLIES = frozenset(
    {K.THEIR_REPLY, K.THEIR_COMMENT_ON_MINE, K.THEIR_EMAIL_OR_DM, K.THEIR_MENTION}
)
# Two-way contact: counts for the met path of reciprocity (not for recency).
MET_KINDS = frozenset({K.MET_IN_PERSON, K.CALL, K.INTRO_ACCEPTED})
# After these, my first message is "the follow-up".
FOLLOW_UP_AFTER = frozenset({K.MET_IN_PERSON, K.CALL})
FOLLOW_UP_KINDS = frozenset({K.MY_EMAIL_OR_DM, K.MY_COMMENT})
GIVES: Mapping[EventKind, int] = {K.MY_COMMENT: 1, K.MY_SHARE: 1, K.MY_FAVOUR: 2}
ASK_OUTCOMES = frozenset({K.ASK_ACCEPTED, K.ASK_DECLINED, K.ASK_NO_ANSWER})
# Outbound events that can earn points or gives, and so fall under the per-day limit.
# Asking and requesting an intro are not engagement.
LIMITED_OUT = frozenset(k for k, d in DIRECTION.items() if d is Direction.OUT) - {
    K.MY_ASK,
    K.INTRO_REQUESTED,
}
# Between me and a connector, not me and this person: not contact with them.
NOT_CONTACT = frozenset({K.INTRO_REQUESTED, K.INTRO_DECLINED})

# The order the gates are explained in: the cheapest fix first. An ask pending is
# a state, not a fix; gives are in my hands today; reciprocity and recency need
# them to answer; the score needs time and several exchanges.
CHECK_ORDER = ("no_pending_ask", "gives", "reciprocity", "recency", "score")
# The order gates are listed in a Reading (models.Gate documents it).
GATE_ORDER = ("reciprocity", "recency", "gives", "score", "no_pending_ask")

HISTORY_DAYS = 180
DAY = timedelta(days=1)

# What is due now, as Reading.action: stable strings for the digest, web and JSON.
ACTION_ASK = "ask"
ACTION_FOLLOW_UP_MEETING = "follow_up_meeting"
ACTION_REPLY = "reply"
ACTION_FOLLOW_UP_ASK = "follow_up_ask"
ACTION_GIVE = "give"
ACTION_STAY_IN_TOUCH = "stay_in_touch"
ACTION_REOPEN = "reopen"
ACTION_WAIT = "wait"
ACTION_PARKED = "parked"
ACTION_START = "start"
ACTION_NONE = ""

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_KIND_NOUN: Mapping[EventKind, tuple[str, str]] = {
    K.MY_COMMENT: ("comment", "comments"),
    K.MY_SHARE: ("share", "shares"),
    K.MY_FAVOUR: ("favour", "favours"),
    K.MY_EMAIL_OR_DM: ("message", "messages"),
    K.THEIR_REPLY: ("reply", "replies"),
    K.THEIR_COMMENT_ON_MINE: ("comment on your blog", "comments on your blog"),
    K.THEIR_EMAIL_OR_DM: ("message", "messages"),
    K.THEIR_MENTION: ("mention", "mentions"),
}


@dataclass(slots=True)
class _Counted:
    """An event as the meter weighs it. Not frozen: a frozen dataclass's __init__ costs a
    setattr per field, and 50,000 of these are made per `engage status` (bench_status).
    Slots, not a NamedTuple: CPython 3.11 specializes reading a slot but not a tuple
    field's getter, and the gates read these more often than they are built (a NamedTuple
    version was no faster for 200 readings on the benchmark)."""

    event: Event
    when: datetime  # in now's time zone
    day: date
    points: float  # 0 when over the per-day outbound limit
    gives: int
    counted: bool  # False when over the per-day outbound limit
    follow_up: bool  # my first message after a meeting or call
    ts: float  # POSIX seconds
    weight: float  # points · 2^((ts − now)/half-life): see _weigh
    slot: int  # 0 in, 1 out, 2 both
    traits: _Traits


@dataclass
class _State:
    """Everything the gates need, updated one event at a time."""

    reply_days: set[date]
    replies: int = 0
    met_then_reply: bool = False
    met_any: bool = False
    last_meeting: _Counted | None = None
    follow_up_owed: bool = False  # a meeting or call with no message from me since
    last_reply: datetime | None = None  # their last composed reply: recency
    last_reply_ts: float | None = None
    gives: int = 0
    pending_ask: _Counted | None = None
    ask_follow_up_sent: bool = False
    last_outcome: _Counted | None = None
    connected_at: datetime | None = None


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _word(n: int) -> str:
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def day_label(d: date, today: date) -> str:
    """'12 Nov', with the year only when it is not this year."""
    text = f"{d.day} {d:%b}"
    return text if d.year == today.year else f"{text} {d.year}"


def _relative(d: date, today: date) -> str:
    if d == today:
        return "today"
    if d == today - DAY:
        return "yesterday"
    return f"on {day_label(d, today)}"


_LN2 = math.log(2.0)
# exp() overflows past ~709. A factor that large only multiplies weights that have already
# underflowed to 0 (a moment ~80 years before `now`, e.g. `--at 2999-01-01`), so capping it
# changes no score that can be represented anyway.
_MAX_EXPONENT = 700.0
_SLOT = {Direction.IN: 0, Direction.OUT: 1, Direction.BOTH: 2}


@dataclass(frozen=True, slots=True)
class _Traits:
    """What the meter needs to know about a kind, looked up once per event: an Enum's
    __hash__ is Python code, so eight set-membership tests per event add up."""

    limited: bool
    composed: bool
    met: bool
    follow_up_after: bool
    follow_up_kind: bool
    gives: int
    ask: bool
    outcome: bool
    accepted: bool
    contact: bool


_TRAITS: Mapping[EventKind, _Traits] = {
    kind: _Traits(
        limited=kind in LIMITED_OUT,
        composed=kind in COMPOSED_REPLIES,
        met=kind in MET_KINDS,
        follow_up_after=kind in FOLLOW_UP_AFTER,
        follow_up_kind=kind in FOLLOW_UP_KINDS,
        gives=GIVES.get(kind, 0),
        ask=kind is K.MY_ASK,
        outcome=kind in ASK_OUTCOMES,
        accepted=kind is K.ASK_ACCEPTED,
        contact=kind not in NOT_CONTACT,
    )
    for kind in EventKind
}


_PERSON = operator.attrgetter("person")


def _weigh(events: Iterable[Event], now: datetime, rules: MeterRules) -> list[_Counted]:
    """Sort, drop the future, and apply the per-day outbound limit and the gives. Each
    event's decayed weight is computed here once, as p·2^((t − now)/h): the score at any
    t ≤ now is then a running sum times 2^((now − t)/h), O(1) per question."""
    tz = now.tzinfo
    now_ts = now.timestamp()
    rate = _LN2 / (rules.half_life_days * 86400.0)
    timed: list[tuple[datetime, str, int, Event]] = []
    for n, event in enumerate(events):
        when = event.when
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if when <= now:
            timed.append((when, event.id, n, event))
    timed.sort()
    out_per_day: dict[date, int] = {}
    follow_up_owed = False
    counted_events: list[_Counted] = []
    points_of = {kind: rules.points.get(kind, 0.0) for kind in EventKind}
    per_day = rules.outbound_per_day
    exp = math.exp
    for when, _, _, event in timed:
        local = when.astimezone(tz)
        day = local.date()
        kind = event.kind
        traits = _TRAITS[kind]
        counted = True
        if traits.limited:
            used = out_per_day.get(day, 0)
            counted = used < per_day
            out_per_day[day] = used + 1
        points = points_of[kind] if counted else 0.0
        gives = traits.gives if counted else 0
        follow_up = False
        if traits.follow_up_after:
            follow_up_owed = True
        elif traits.follow_up_kind and counted and follow_up_owed:
            follow_up = True
            follow_up_owed = False
            gives = 1  # the follow-up is one give, whether a comment or a message
        ts = when.timestamp()
        weight = points * exp((ts - now_ts) * rate) if points else 0.0
        counted_events.append(
            _Counted(
                event, local, day, points, gives, counted, follow_up,
                ts, weight, _SLOT[event.direction], traits,
            )
        )  # fmt: skip
    return counted_events


class _Decay:
    """Turns the running sums of _Counted.weight back into scores at a moment t ≤ now."""

    def __init__(self, now: datetime, half_life_days: float) -> None:
        self.now = now
        self.now_ts = now.timestamp()
        self.rate = _LN2 / (half_life_days * 86400.0)

    def factor(self, ts: float) -> float:
        return math.exp(min((self.now_ts - ts) * self.rate, _MAX_EXPONENT))


def _score(sums: list[float], factor: float, cap: float) -> float:
    return (sums[0] + sums[2]) * factor + min(sums[1] * factor, cap)


def _gates_pass(
    state: _State, ts: float, score: float, threshold: float, rules: MeterRules
) -> bool:
    """All five gates at once, for the replay."""
    return _state_gates_pass(state, ts, rules) and score >= threshold


def _state_gates_pass(state: _State, ts: float, rules: MeterRules) -> bool:
    """Every gate but the score; the cheap ones first, since this runs for every event."""
    if state.pending_ask is not None:
        return False
    if not (state.met_then_reply or len(state.reply_days) >= 2):
        return False
    needed = rules.gives_needed_met if state.met_any else rules.gives_needed
    if state.gives < needed:
        return False
    return state.last_reply_ts is not None and ts - state.last_reply_ts <= (
        rules.recency_days * 86400.0
    )


def _apply(state: _State, item: _Counted) -> None:
    traits = item.traits
    if traits.composed:
        state.replies += 1
        state.reply_days.add(item.day)
        if state.met_any:
            state.met_then_reply = True
        state.last_reply = item.when
        state.last_reply_ts = item.ts
    if traits.met:
        state.met_any = True
    if traits.follow_up_after:
        state.last_meeting = item
        state.follow_up_owed = True
    if item.follow_up:
        state.follow_up_owed = False
    state.gives += item.gives
    if traits.ask:
        # An ask spends the goodwill: giving starts again from zero.
        state.gives = 0
        state.pending_ask = item
        state.ask_follow_up_sent = False
        state.last_outcome = None
    elif traits.outcome:
        state.pending_ask = None
        state.last_outcome = item
        if traits.accepted and state.connected_at is None:
            state.connected_at = item.when
    elif state.pending_ask is not None and traits.follow_up_kind and item.counted:
        state.ask_follow_up_sent = True


def _replay(
    counted: Sequence[_Counted], now: datetime, rules: MeterRules, decay: _Decay
) -> tuple[_State, bool]:
    """Walk the events once; return the final state and whether ready holds at `now`."""
    state = _State(reply_days=set())
    sums = [0.0, 0.0, 0.0]
    ready = False
    cap = rules.outbound_cap
    enter, leave = rules.ready_score, rules.ready_exit_score
    recency_s = rules.recency_days * 86400.0
    needed_met, needed = rules.gives_needed_met, rules.gives_needed
    now_ts, rate, exp = decay.now_ts, decay.rate, math.exp
    # _state_gates_pass and _score, inlined: this loop runs once per event of everyone.
    for item in counted:
        ts = item.ts
        if ready:
            e = (now_ts - ts) * rate
            factor = exp(e if e < _MAX_EXPONENT else _MAX_EXPONENT)
            ready = (
                state.last_reply_ts is not None
                and ts - state.last_reply_ts <= recency_s
                and (sums[0] + sums[2]) * factor + min(sums[1] * factor, cap) >= leave
            )
        if item.weight:
            sums[item.slot] += item.weight
        _apply(state, item)
        if (
            state.pending_ask is None
            and (state.met_then_reply or len(state.reply_days) >= 2)
            and state.gives >= (needed_met if state.met_any else needed)
            and state.last_reply_ts is not None
            and ts - state.last_reply_ts <= recency_s
        ):
            e = (now_ts - ts) * rate
            factor = exp(e if e < _MAX_EXPONENT else _MAX_EXPONENT)
            score = (sums[0] + sums[2]) * factor + min(sums[1] * factor, cap)
            ready = score >= (leave if ready else enter)
        else:
            ready = False
    if ready:
        ready = _gates_pass(state, decay.now_ts, _score(sums, 1.0, cap), leave, rules)
    return state, ready


def _history(
    counted: Sequence[_Counted], now: datetime, rules: MeterRules, decay: _Decay, days: int
) -> tuple[tuple[str, float], ...]:
    """Score at the same time of day as `now`, for each of the last `days` days: one
    sweep over the events, not days × events."""
    if days <= 0:
        return ()
    samples = [now - DAY * k for k in range(days - 1, -1, -1)]
    sums = [0.0, 0.0, 0.0]
    rows: list[tuple[str, float]] = []
    i = 0
    for t in samples:
        ts = t.timestamp()
        while i < len(counted) and counted[i].ts <= ts:
            sums[counted[i].slot] += counted[i].weight
            i += 1
        score = _score(sums, decay.factor(ts), rules.outbound_cap)
        rows.append((t.date().isoformat(), round(score, 2)))
    return tuple(rows)


def _median_gap(counted: Sequence[_Counted]) -> float | None:
    days = sorted({c.day for c in counted if c.traits.contact})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    return float(statistics.median(gaps)) if gaps else None


def _describe_mine(counted: Sequence[_Counted]) -> str:
    counts: dict[EventKind, int] = {}
    for c in counted:
        if c.traits.limited:
            counts[c.event.kind] = counts.get(c.event.kind, 0) + 1
    if not counts:
        return "nothing from you yet"
    parts = [_plural(n, *_KIND_NOUN.get(k, (k.value, k.value))) for k, n in counts.items()]
    return _join(parts) + " from you"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _score_split(
    counted: Sequence[_Counted], rules: MeterRules
) -> tuple[float, float, float, float, dict[str, float]]:
    """(in, out after the cap, both, out before the cap, points by kind) at `now`."""
    by_kind_enum: dict[EventKind, float] = {}
    totals = [0.0, 0.0, 0.0]
    for c in counted:
        if c.weight:
            totals[c.slot] += c.weight
            kind = c.event.kind
            by_kind_enum[kind] = by_kind_enum.get(kind, 0.0) + c.weight
    by_kind = {kind.value: value for kind, value in by_kind_enum.items()}
    out = raw_out = totals[1]
    if out > rules.outbound_cap:
        # Shown scaled so the points by kind add up to the score the gates saw.
        scale = rules.outbound_cap / out
        for kind in LIMITED_OUT:
            if kind.value in by_kind:
                by_kind[kind.value] *= scale
        out = rules.outbound_cap
    rounded = {k: round(v, 2) for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1])}
    return totals[0], out, totals[2], raw_out, rounded


def _last_of(counted: Sequence[_Counted], kinds: frozenset[EventKind]) -> _Counted | None:
    for c in reversed(counted):
        if c.event.kind in kinds:
            return c
    return None


def _where(item: _Counted) -> str:
    """How to name an event for the user: its note (the event's name) and its URL."""
    note = item.event.note.strip()
    url = item.event.url
    # `engage met --event PyCon` stores "at PyCon"; a bare note gets its "at" here.
    text = f" {note}" if note.casefold().startswith("at ") else f" at {note}" if note else ""
    return f"{text} ({url})" if url else text


def read_meter(
    person: str,
    events: Sequence[Event],
    now: datetime,
    rules: MeterRules,
    *,
    history_days: int = HISTORY_DAYS,
) -> Reading:
    """The reading for one person at `now`. `events` may hold other people's events and
    events after `now` (for --at): both are ignored."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    folded = person.casefold()
    if {name.casefold() for name in set(map(_PERSON, events))} <= {folded}:
        # Already one person's (status groups them), checked in C: the filter below, run
        # event by event, was 0.02–0.03 s of 200 readings over 50,000 events.
        mine = list(events)
    else:
        mine = [e for e in events if e.person == person or e.person.casefold() == folded]
    counted = _weigh(mine, now, rules)
    decay = _Decay(now, rules.half_life_days)
    state, ready = _replay(counted, now, rules, decay)
    score_in, score_out, score_both, out_raw, by_kind = _score_split(counted, rules)
    score = score_in + score_out + score_both
    contacts = [c for c in counted if c.traits.contact]
    last_contact = contacts[-1].when if contacts else None

    gates = _gates(state, counted, now, score, ready, rules)
    by_name = {g.name: g for g in gates}
    stage = _stage(state, counted, contacts, now, ready, rules)
    primary, secondary, next_step, action = _explain(
        person, stage, state, counted, by_name, now, score, out_raw, rules
    )
    return Reading(
        person=person,
        stage=stage,
        score=round(score, 2),
        score_in=round(score_in, 2),
        score_out=round(score_out, 2),
        score_both=round(score_both, 2),
        gates=tuple(by_name[name] for name in GATE_ORDER),
        reason=primary,
        reasons=tuple(secondary[:2]),
        next_step=next_step,
        points_by_kind=by_kind,
        history=_history(counted, now, rules, decay, history_days),
        last_contact=last_contact,
        action=action,
    )


def _ago(then: datetime, now: datetime) -> str:
    days = (now - then).days
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def _last_reply(state: _State, now: datetime) -> str:
    assert state.last_reply is not None
    return f"their last reply was {_ago(state.last_reply, now)}"


def _gates(
    state: _State,
    counted: Sequence[_Counted],
    now: datetime,
    score: float,
    ready: bool,
    rules: MeterRules,
) -> list[Gate]:
    days = len(state.reply_days)
    if state.met_then_reply:
        recip = Gate(
            "reciprocity", True, "a meeting, call or intro, and a reply from them after it"
        )
    else:
        recip = Gate(
            "reciprocity",
            days >= 2,
            f"{_plural(state.replies, 'reply', 'replies')} from them on "
            f"{_plural(days, 'day', 'different days')} (need 2, on different days, "
            "or a meeting and one reply after it)",
        )
    if state.last_reply is None:
        recency = Gate(
            "recency", False, f"no reply from them yet (need one within {rules.recency_days} days)"
        )
    else:
        recency = Gate(
            "recency",
            now - state.last_reply <= timedelta(days=rules.recency_days),
            f"{_last_reply(state, now)} (need one within {rules.recency_days} days)",
        )
    needed = rules.gives_needed_met if state.met_any else rules.gives_needed
    gives = Gate(
        "gives",
        state.gives >= needed,
        f"{_plural(state.gives, 'give', 'gives')} since your last ask (need {needed})"
        if any(c.event.kind is K.MY_ASK for c in counted)
        else f"{_plural(state.gives, 'give', 'gives')} (need {needed})",
    )
    threshold = rules.ready_exit_score if ready else rules.ready_score
    score_gate = Gate(
        "score",
        score >= threshold,
        f"score {_fmt(score)} (need {rules.ready_score:g}; once ready, it stays ready "
        f"down to {rules.ready_exit_score:g})",
    )
    if state.pending_ask is None:
        ask = Gate("no_pending_ask", True, "no ask waiting for an answer")
    else:
        asked = state.pending_ask.day
        ask = Gate(
            "no_pending_ask",
            False,
            f"your ask of {day_label(asked, now.date())} is waiting for an answer "
            f"({(now.date() - asked).days} days)",
        )
    return [recip, recency, gives, score_gate, ask]


def _stage(
    state: _State,
    counted: Sequence[_Counted],
    contacts: Sequence[_Counted],
    now: datetime,
    ready: bool,
    rules: MeterRules,
) -> Stage:
    if not contacts:
        return Stage.COLD
    if state.connected_at is not None:
        return Stage.CONNECTED
    if state.pending_ask is not None:
        return Stage.ASKED
    if _went_cold(contacts, now, rules) is not None:
        return Stage.WENT_COLD
    if ready:
        return Stage.READY
    if state.replies or state.met_any:
        return Stage.IN_DIALOGUE
    return Stage.NOTICED


def _went_cold(
    contacts: Sequence[_Counted], now: datetime, rules: MeterRules
) -> tuple[int, float, float | None] | None:
    """(days of silence, the limit, the pair's median gap) when the silence is longer than
    max(cold_min_days, cold_gap_factor × the pair's median gap); None otherwise."""
    silence = (now - contacts[-1].when) / DAY
    gap = _median_gap(contacts)
    limit = max(float(rules.cold_min_days), rules.cold_gap_factor * gap if gap else 0.0)
    return (int(silence), limit, gap) if silence > limit else None


def _exchanges_needed(deficit: float, rules: MeterRules) -> int:
    """An exchange is one reply from them: the biggest thing that moves the score."""
    per = rules.points.get(K.THEIR_REPLY, 5.0) or 5.0
    return max(1, math.ceil(deficit / per))


def _explain(
    person: str,
    stage: Stage,
    state: _State,
    counted: Sequence[_Counted],
    gates: Mapping[str, Gate],
    now: datetime,
    score: float,
    out_raw: float,
    rules: MeterRules,
) -> tuple[str, list[str], str, str]:
    """(primary reason, secondary reasons, next step, action)."""
    today = now.date()
    secondary: list[str] = []
    if out_raw > rules.outbound_cap:
        secondary.append(
            f"Your side is capped at {rules.outbound_cap:g} points: more comments will "
            "not raise the score, a reply from them will."
        )
    outcome = state.last_outcome
    if outcome is not None and outcome.event.kind in (K.ASK_DECLINED, K.ASK_NO_ANSWER):
        what = "declined" if outcome.event.kind is K.ASK_DECLINED else "did not answer"
        secondary.insert(
            0,
            f"They {what} your ask ({_relative(outcome.day, today)}): keep giving, no "
            "pressure; the gives count started again from zero.",
        )

    if stage is Stage.COLD:
        return (
            f"No contact with {person} yet: start by following their posts.",
            secondary,
            "Leave a thoughtful comment on their latest post.",
            ACTION_START,
        )
    if stage is Stage.CONNECTED:
        return _connected(state, counted, now, rules, secondary)
    if stage is Stage.ASKED:
        return _asked(person, state, now, rules, secondary)
    if stage is Stage.WENT_COLD:
        contacts = [c for c in counted if c.event.kind not in NOT_CONTACT]
        cold = _went_cold(contacts, now, rules)
        assert cold is not None
        silence, limit, gap = cold
        rhythm = (
            f"your usual gap is {_plural(round(gap), 'day', 'days')}, so quiet for more than "
            f"{round(limit)} days means cold"
            if gap
            else f"quiet for more than {round(limit)} days means cold"
        )
        return (
            f"Gone quiet: no contact for {silence} days ({rhythm}).",
            secondary,
            "Re-open gently: comment on their latest post or send a short, no-ask note.",
            ACTION_REOPEN,
        )

    owed = _follow_up_owed(state, today)
    reply = _reply_owed(state, counted, now, rules)
    if stage is Stage.READY:
        return (
            _ready_sentence(state, now, score, rules),
            secondary,
            f'Ask {person} to connect: engage ask "{person}".',
            ACTION_ASK,
        )

    failing = [name for name in CHECK_ORDER if not gates[name].passed]
    sentences = [
        text
        for name in failing
        if (text := _why_not(name, state, counted, gates, now, score, rules, owed))
    ]
    primary = sentences[0] if sentences else "Almost there."
    secondary = [*secondary, *sentences[1:]]
    if owed is not None:
        return primary, secondary, owed, ACTION_FOLLOW_UP_MEETING
    if reply is not None:
        return primary, secondary, reply, ACTION_REPLY
    return primary, secondary, _gate_step(failing[0] if failing else "score", state), ACTION_GIVE


def _ready_sentence(state: _State, now: datetime, score: float, rules: MeterRules) -> str:
    if state.met_then_reply:
        tie = "you have met and they replied since"
    else:
        tie = f"{_plural(state.replies, 'reply', 'replies')} from them on different days"
    assert state.last_reply is not None
    last = _ago(state.last_reply, now)
    needed = rules.gives_needed_met if state.met_any else rules.gives_needed
    return (
        f"Ready to ask: {tie}, the last {last}; {_plural(state.gives, 'give', 'gives')} "
        f"from you (need {needed}); score {_fmt(score)} (need {rules.ready_score:g})."
    )


def _follow_up_owed(state: _State, today: date) -> str | None:
    meeting = state.last_meeting
    if meeting is None or not state.follow_up_owed:
        return None
    what = "meeting" if meeting.event.kind is K.MET_IN_PERSON else "call"
    return f"Send the follow-up to your {what}{_where(meeting)} {_relative(meeting.day, today)}."


def _reply_owed(
    state: _State, counted: Sequence[_Counted], now: datetime, rules: MeterRules
) -> str | None:
    """Their words are the newest thing between us and still fresh: answer them."""
    theirs = _last_of(counted, COMPOSED_REPLIES)
    if theirs is None or now - theirs.when > timedelta(days=rules.recency_days):
        return None
    mine = _last_of(counted, LIMITED_OUT | {K.MY_ASK})
    if mine is not None and mine.when >= theirs.when:
        return None
    noun = {
        K.THEIR_REPLY: "reply",
        K.THEIR_COMMENT_ON_MINE: "comment",
        K.THEIR_EMAIL_OR_DM: "message",
        K.THEIR_MENTION: "mention of you",
    }[theirs.event.kind]
    url = f" ({theirs.event.url})" if theirs.event.url else ""
    return f"Reply to their {noun} of {day_label(theirs.day, now.date())}{url}."


def _why_not(
    name: str,
    state: _State,
    counted: Sequence[_Counted],
    gates: Mapping[str, Gate],
    now: datetime,
    score: float,
    rules: MeterRules,
    follow_up: str | None,
) -> str:
    if name == "gives":
        needed = rules.gives_needed_met if state.met_any else rules.gives_needed
        if follow_up is not None:
            return (
                f"{follow_up[:-1]} — after a meeting one message is all the giving it takes "
                f"({state.gives} of {needed} gives so far)."
            )
        missing = needed - state.gives
        return (
            f"Give a little more first: {state.gives} of {needed} gives so far — "
            f"{_word(missing)} more (a thoughtful comment, a share with credit, a favour)."
        )
    if name == "reciprocity":
        mine = _describe_mine(counted)
        replies = state.replies
        theirs = (
            "no reply from them"
            if not replies
            else (f"{_plural(replies, 'reply', 'replies')} from them")
        )
        if replies and len(state.reply_days) < 2 and replies >= 2:
            theirs += ", all on one day"
        if state.met_any and not state.met_then_reply and not replies:
            meeting = state.last_meeting
            when = f" {_relative(meeting.day, now.date())}" if meeting else ""
            return f"Needs a reply from them after you met{when} — so far {mine}, {theirs}."
        lead = "Needs a reply from them" if not replies else "Needs one more reply from them"
        return f"{lead} — so far {mine}, {theirs} (need 2, on different days)."
    if name == "recency":
        if state.last_reply is None:
            # Reciprocity has already said it: they have not replied yet.
            return ""
        return (
            f"{_last_reply(state, now).capitalize()} (need one within {rules.recency_days} "
            "days): restart the conversation on their latest post."
        )
    if name == "score":
        deficit = rules.ready_score - score
        n = _exchanges_needed(deficit, rules)
        return (
            f"Score {_fmt(score)}, needs {rules.ready_score:g}: about {_word(n)} more "
            f"exchange{'s' if n != 1 else ''} (a reply from them adds "
            f"{rules.points.get(K.THEIR_REPLY, 5.0):g})."
        )
    return gates[name].detail


def _gate_step(name: str, state: _State) -> str:
    if name == "gives":
        return "Leave a thoughtful comment on their latest post, or share it with credit."
    if name in ("reciprocity", "recency"):
        return "Comment on their latest post with a real question, so they have a reason to reply."
    return "Keep the exchange going: answer their next post or reply."


def _asked(
    person: str, state: _State, now: datetime, rules: MeterRules, secondary: list[str]
) -> tuple[str, list[str], str, str]:
    ask = state.pending_ask
    assert ask is not None
    today = now.date()
    age = (now - ask.when) / DAY
    asked = day_label(ask.day, today)
    outcome_hint = f'engage outcome "{person}" accepted|declined|no-answer'
    if age >= rules.ask_park_days:
        return (
            f"Parked: no answer {int(age)} days after your ask of {asked} — don't chase.",
            secondary,
            f"Let it rest; when you hear back, log it: {outcome_hint}.",
            ACTION_PARKED,
        )
    follow_up_day = day_label((ask.when + timedelta(days=rules.ask_follow_up_days)).date(), today)
    park_day = day_label((ask.when + timedelta(days=rules.ask_park_days)).date(), today)
    if age >= rules.ask_follow_up_days and not state.ask_follow_up_sent:
        return (
            f"Asked on {asked}, no answer after {int(age)} days: one short follow-up is fine now.",
            secondary,
            f"Send your one follow-up to the ask of {asked}.",
            ACTION_FOLLOW_UP_ASK,
        )
    if state.ask_follow_up_sent:
        return (
            f"Asked on {asked} and followed up: the rest is up to them (parked on {park_day} "
            "if no answer).",
            secondary,
            f"Wait; log the answer when it comes: {outcome_hint}.",
            ACTION_WAIT,
        )
    return (
        f"Asked on {asked}: give them time; one follow-up is fine from {follow_up_day}.",
        secondary,
        f"Wait until {follow_up_day}; log the answer when it comes: {outcome_hint}.",
        ACTION_WAIT,
    )


def _connected(
    state: _State,
    counted: Sequence[_Counted],
    now: datetime,
    rules: MeterRules,
    secondary: list[str],
) -> tuple[str, list[str], str, str]:
    contacts = [c for c in counted if c.event.kind not in NOT_CONTACT]
    last = contacts[-1]
    ago = (now - last.when) / DAY
    today = now.date()
    due = last.when + timedelta(days=rules.stay_in_touch_days)
    if ago >= rules.stay_in_touch_days:
        return (
            f"Connected; time to get back in touch — last contact {int(ago)} days ago "
            f"(every {rules.stay_in_touch_days} days).",
            secondary,
            "Send a short note: something of theirs you enjoyed, or something useful to them.",
            ACTION_STAY_IN_TOUCH,
        )
    return (
        f"Connected; last contact {_relative(last.day, today)}.",
        secondary,
        f"Stay in touch by {day_label(due.date(), today)}.",
        ACTION_NONE,
    )


# The order `engage status` shows people in: what needs action first.
_RANK: Mapping[tuple[Stage, str], int] = {
    (Stage.READY, ACTION_ASK): 0,
    (Stage.IN_DIALOGUE, ACTION_FOLLOW_UP_MEETING): 1,
    (Stage.NOTICED, ACTION_FOLLOW_UP_MEETING): 1,
    (Stage.IN_DIALOGUE, ACTION_REPLY): 2,
    (Stage.NOTICED, ACTION_REPLY): 2,
    (Stage.ASKED, ACTION_FOLLOW_UP_ASK): 3,
    (Stage.IN_DIALOGUE, ACTION_GIVE): 4,
    (Stage.CONNECTED, ACTION_STAY_IN_TOUCH): 5,
    (Stage.NOTICED, ACTION_GIVE): 6,
    (Stage.WENT_COLD, ACTION_REOPEN): 7,
    (Stage.ASKED, ACTION_WAIT): 8,
    (Stage.ASKED, ACTION_PARKED): 9,
    (Stage.CONNECTED, ACTION_NONE): 10,
    (Stage.COLD, ACTION_START): 11,
}


def action_rank(reading: Reading) -> int:
    return _RANK.get((reading.stage, reading.action), 6)


def status_order(readings: Iterable[Reading]) -> list[Reading]:
    """Ready first, then follow-ups due (a meeting, a reply owed, an ask's one follow-up),
    then people in dialogue, stay-in-touch reminders, noticed, gone cold, asks waiting,
    parked asks, connected, cold; within a group the higher score first."""
    return sorted(readings, key=lambda r: (action_rank(r), -r.score, r.person.casefold()))


def needs_ask_warning(reading: Reading) -> str | None:
    """None when asking now is fine; otherwise why it would be a cold invitation."""
    if reading.stage is Stage.READY:
        return None
    if reading.stage is Stage.CONNECTED:
        return f"You are already connected with {reading.person}; no need to ask."
    if reading.stage is Stage.ASKED:
        return f"You have already asked {reading.person}. {reading.reason}"
    return (
        f"Asking {reading.person} now would be a cold invitation "
        f"(stage: {reading.stage.value.replace('_', ' ')}). {reading.reason}"
    )


def saturate(score: float, scale: float = 12.0) -> float:
    """A meter score as a tie strength in 0..1: 12 points (ready) ≈ 0.63."""
    return 1.0 - math.exp(-max(score, 0.0) / scale)
