"""The meter's rules: how events weigh, the five gates of "ready", the stage, and what is
due now. Pure. The words that explain a reading live in `engage.meter.words`; this module
decides and the other one says.

Each gate is defined once, as a method of `State`, and used by the replay (event by event,
for the hysteresis) and by the reading's gates alike.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from engage.models import (
    COMPOSED_REPLIES,
    DIRECTION,
    Action,
    Direction,
    Event,
    EventKind,
    GateName,
    MeterRules,
    Obligation,
    Stage,
)

K = EventKind
G = GateName

# Two-way contact: counts for the met path of reciprocity (not for recency).
MET_KINDS = frozenset({K.MET_IN_PERSON, K.CALL, K.INTRO_ACCEPTED})
# After these, my first message is "the follow-up": an accepted introduction is as
# perishable as a meeting (and the introducer is owed thanks).
FOLLOW_UP_AFTER = frozenset({K.MET_IN_PERSON, K.CALL, K.INTRO_ACCEPTED})
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

# The order the gates are explained in: the cheapest fix first. An ask pending is a state,
# not a fix; gives are in my hands today; reciprocity and recency need them to answer; the
# score needs time and several exchanges.
CHECK_ORDER = (G.NO_PENDING_ASK, G.GIVES, G.RECIPROCITY, G.RECENCY, G.SCORE)
# The order gates are listed in a Reading.
GATE_ORDER = (G.RECIPROCITY, G.RECENCY, G.GIVES, G.SCORE, G.NO_PENDING_ASK)

HISTORY_DAYS = 180
DAY = timedelta(days=1)
_LN2 = math.log(2.0)
# exp() overflows past ~709. A factor that large only multiplies weights that have already
# underflowed to 0 (a moment ~80 years before `now`, e.g. `--at 2999-01-01`), so capping it
# changes no score that can be represented anyway.
_MAX_EXPONENT = 700.0
_SLOT = {Direction.IN: 0, Direction.OUT: 1, Direction.BOTH: 2}


@dataclass(frozen=True, slots=True)
class Traits:
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


TRAITS: Mapping[EventKind, Traits] = {
    kind: Traits(
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


@dataclass(slots=True)
class Counted:
    """An event as the meter weighs it. Not frozen: a frozen dataclass's __init__ costs a
    setattr per field, and 50,000 of these are made per `engage status` (bench_status).
    Slots, not a NamedTuple: CPython 3.11 specializes reading a slot but not a tuple
    field's getter, and the gates read these more often than they are built."""

    event: Event
    when: datetime  # in now's time zone
    day: date
    points: float  # 0 when over the per-day outbound limit
    gives: int
    counted: bool  # False when over the per-day outbound limit
    follow_up: bool  # my first message after a meeting or call
    ts: float  # POSIX seconds
    weight: float  # points · 2^((ts − now)/half-life): see weigh
    slot: int  # 0 in, 1 out, 2 both
    traits: Traits
    confirmed: bool  # False: a detection on a name alone, waiting for review


@dataclass
class State:
    """Everything the gates need, updated one event at a time by `apply`."""

    reply_days: set[date]
    replies: int = 0
    met_then_reply: bool = False
    met_any: bool = False
    last_meeting: Counted | None = None
    follow_up_owed: bool = False  # a meeting or call with no message from me since
    last_reply: datetime | None = None  # their last composed reply: recency
    last_reply_ts: float | None = None
    gives: int = 0
    pending_ask: Counted | None = None
    ask_follow_up_sent: bool = False
    last_outcome: Counted | None = None
    connected_at: datetime | None = None
    unconfirmed: int = 0  # detections on a name alone, waiting for review
    unconfirmed_replies: int = 0  # of which their words: enough for "in dialogue"

    # -- the gates, each defined here once

    def has_reciprocity(self) -> bool:
        """Two composed replies from them on two different days, or a meeting, call or
        intro and one reply after it. Once earned, it never drops."""
        return self.met_then_reply or len(self.reply_days) >= 2

    def is_recent(self, ts: float, rules: MeterRules) -> bool:
        """Their last composed reply is at most recency_days before `ts`."""
        return self.last_reply_ts is not None and ts - self.last_reply_ts <= (
            rules.recency_days * 86400.0
        )

    def gives_needed(self, rules: MeterRules) -> int:
        """After a meeting, a call or an intro, the follow-up is all the giving it takes."""
        return rules.gives_needed_met if self.met_any else rules.gives_needed

    def has_gives(self, rules: MeterRules) -> bool:
        return self.gives >= self.gives_needed(rules)

    def no_pending_ask(self) -> bool:
        return self.pending_ask is None

    def gates_but_score(self, ts: float, rules: MeterRules) -> bool:
        """Every gate but the score, the cheap ones first: the replay asks this per event."""
        return (
            self.no_pending_ask()
            and self.has_reciprocity()
            and self.has_gives(rules)
            and self.is_recent(ts, rules)
        )


def score_passes(score: float, ready: bool, rules: MeterRules) -> bool:
    """The score gate, with its hysteresis: enter "ready" at ready_score, leave it only
    under ready_exit_score, so a person does not flicker in and out."""
    return score >= (rules.ready_exit_score if ready else rules.ready_score)


def gate_results(
    state: State, now: datetime, score: float, ready: bool, rules: MeterRules
) -> dict[GateName, bool]:
    return {
        G.RECIPROCITY: state.has_reciprocity(),
        G.RECENCY: state.is_recent(now.timestamp(), rules),
        G.GIVES: state.has_gives(rules),
        G.SCORE: score_passes(score, ready, rules),
        G.NO_PENDING_ASK: state.no_pending_ask(),
    }


# ---------------------------------------------------------------------------
# Weighing and replaying


def weigh(events: Iterable[Event], now: datetime, rules: MeterRules) -> list[Counted]:
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
    counted_events: list[Counted] = []
    points_of = {kind: rules.points.get(kind, 0.0) for kind in EventKind}
    per_day = rules.outbound_per_day
    exp = math.exp
    for when, _, _, event in timed:
        local = when.astimezone(tz)
        day = local.date()
        kind = event.kind
        traits = TRAITS[kind]
        counted = True
        confirmed = event.confirmed
        if not confirmed:
            # A name alone can be a stranger's: contact, but no points, no gives, no
            # follow-up, and no slot of the day's outbound limit (docs/design.md, "The
            # engagement meter").
            ts = when.timestamp()
            counted_events.append(
                Counted(
                    event, local, day, 0.0, 0, False, False,
                    ts, 0.0, _SLOT[event.direction], traits, False,
                )
            )  # fmt: skip
            continue
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
            Counted(
                event, local, day, points, gives, counted, follow_up,
                ts, weight, _SLOT[event.direction], traits, True,
            )
        )  # fmt: skip
    return counted_events


class Decay:
    """Turns the running sums of Counted.weight back into scores at a moment t ≤ now."""

    def __init__(self, now: datetime, half_life_days: float) -> None:
        self.now = now
        self.now_ts = now.timestamp()
        self.rate = _LN2 / (half_life_days * 86400.0)

    def factor(self, ts: float) -> float:
        return math.exp(min((self.now_ts - ts) * self.rate, _MAX_EXPONENT))


def score_of(sums: Sequence[float], factor: float, cap: float) -> float:
    """In and both as they are, out capped (after decay: docs/design.md, "Meter")."""
    return (sums[0] + sums[2]) * factor + min(sums[1] * factor, cap)


def apply(state: State, item: Counted) -> None:
    traits = item.traits
    if not item.confirmed:
        # Waits for review: it makes a person noticed or in dialogue, and nothing more.
        state.unconfirmed += 1
        if traits.composed:
            state.unconfirmed_replies += 1
        return
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


def replay(counted: Sequence[Counted], rules: MeterRules, decay: Decay) -> tuple[State, bool]:
    """Walk the events once; return the final state and whether ready holds at `now`.

    Between two events the score only decays and recency only ages, so checking just
    before and just after each event (and at `now`) finds every crossing exactly."""
    state = State(reply_days=set())
    sums = [0.0, 0.0, 0.0]
    ready = False
    cap = rules.outbound_cap
    for item in counted:
        ts = item.ts
        if ready:
            # Just before this event: has time alone taken them out of "ready"?
            before = score_of(sums, decay.factor(ts), cap)
            ready = state.is_recent(ts, rules) and score_passes(before, True, rules)
        if item.weight:
            sums[item.slot] += item.weight
        apply(state, item)
        if state.gates_but_score(ts, rules):
            ready = score_passes(score_of(sums, decay.factor(ts), cap), ready, rules)
        else:
            ready = False
    if ready:
        ready = state.gates_but_score(decay.now_ts, rules) and score_passes(
            score_of(sums, 1.0, cap), True, rules
        )
    return state, ready


def history(
    counted: Sequence[Counted], now: datetime, rules: MeterRules, decay: Decay, days: int
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
        score = score_of(sums, decay.factor(ts), rules.outbound_cap)
        rows.append((t.date().isoformat(), round(score, 2)))
    return tuple(rows)


@dataclass(frozen=True)
class Split:
    """The score at `now` by direction, and the points by kind."""

    score_in: float
    score_out: float  # after the outbound cap
    score_both: float
    out_raw: float  # before the cap
    by_kind: Mapping[str, float]


def split_score(counted: Sequence[Counted], rules: MeterRules) -> Split:
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
    return Split(totals[0], out, totals[2], raw_out, rounded)


# ---------------------------------------------------------------------------
# Stage and what is due


def median_gap(counted: Sequence[Counted]) -> float | None:
    days = sorted({c.day for c in counted if c.traits.contact})
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    if not gaps:
        return None
    import statistics  # 6 ms of imports (fractions, decimal) that most commands never need

    return float(statistics.median(gaps))


@dataclass(frozen=True)
class Silence:
    """Gone cold: `days` of silence, more than `limit` (max(cold_min_days,
    cold_gap_factor × the pair's median gap `gap`))."""

    days: int
    limit: float
    gap: float | None


def went_cold(contacts: Sequence[Counted], now: datetime, rules: MeterRules) -> Silence | None:
    silence = (now - contacts[-1].when) / DAY
    gap = median_gap(contacts)
    limit = max(float(rules.cold_min_days), rules.cold_gap_factor * gap if gap else 0.0)
    return Silence(int(silence), limit, gap) if silence > limit else None


def stage_of(
    state: State, contacts: Sequence[Counted], now: datetime, ready: bool, rules: MeterRules
) -> Stage:
    if not contacts:
        return Stage.COLD
    if state.connected_at is not None:
        return Stage.CONNECTED
    if state.pending_ask is not None:
        return Stage.ASKED
    if went_cold(contacts, now, rules) is not None:
        return Stage.WENT_COLD
    if ready:
        return Stage.READY
    if state.replies or state.met_any or state.unconfirmed_replies:
        return Stage.IN_DIALOGUE
    return Stage.NOTICED


def last_of(counted: Sequence[Counted], kinds: frozenset[EventKind]) -> Counted | None:
    """The last confirmed event of these kinds: an unconfirmed reply owes no answer, and
    an unconfirmed comment of "mine" answers nothing."""
    for c in reversed(counted):
        if c.event.kind in kinds and c.confirmed:
            return c
    return None


def follow_up_owed(state: State) -> Counted | None:
    """The meeting or call whose follow-up message I have not sent yet."""
    return state.last_meeting if state.follow_up_owed else None


def reply_owed(counted: Sequence[Counted], now: datetime, rules: MeterRules) -> Counted | None:
    """Their words, when they are the newest thing between us and still fresh: answer them."""
    theirs = last_of(counted, COMPOSED_REPLIES)
    if theirs is None or now - theirs.when > timedelta(days=rules.recency_days):
        return None
    mine = last_of(counted, LIMITED_OUT | {K.MY_ASK})
    if mine is not None and mine.when >= theirs.when:
        return None
    return theirs


def ask_action(state: State, now: datetime, rules: MeterRules) -> Action:
    """After an ask: wait; one follow-up after ask_follow_up_days; parked (stop chasing)
    after ask_park_days with no answer."""
    ask = state.pending_ask
    assert ask is not None
    age = (now - ask.when) / DAY
    if age >= rules.ask_park_days:
        return Action.PARKED
    if age >= rules.ask_follow_up_days and not state.ask_follow_up_sent:
        return Action.FOLLOW_UP_ASK
    return Action.WAIT


def stay_in_touch_due_at(contacts: Sequence[Counted], rules: MeterRules) -> datetime:
    """When getting back in touch is due: the last contact plus the cadence (the person's
    own, or their tag's, as the caller put it in `rules`)."""
    return contacts[-1].when + DAY * rules.stay_in_touch_days


def stay_in_touch_due(contacts: Sequence[Counted], now: datetime, rules: MeterRules) -> bool:
    return now >= stay_in_touch_due_at(contacts, rules)


def next_action(
    stage: Stage,
    state: State,
    counted: Sequence[Counted],
    contacts: Sequence[Counted],
    now: datetime,
    rules: MeterRules,
) -> Action:
    """What is due now: the stage decides, and in between a meeting's follow-up comes
    before a reply I owe, which comes before giving more. A reply owed comes before the
    ask too: answering is the cheapest give, and asking over an unanswered message is
    the cold move this tool exists to prevent."""
    if stage is Stage.COLD:
        return Action.START
    if stage is Stage.CONNECTED:
        return Action.STAY_IN_TOUCH if stay_in_touch_due(contacts, now, rules) else Action.NONE
    if stage is Stage.ASKED:
        return ask_action(state, now, rules)
    if stage is Stage.WENT_COLD:
        return Action.REOPEN
    if stage is Stage.READY:
        return Action.REPLY if reply_owed(counted, now, rules) is not None else Action.ASK
    if follow_up_owed(state) is not None:
        return Action.FOLLOW_UP_MEETING
    if reply_owed(counted, now, rules) is not None:
        return Action.REPLY
    return Action.GIVE


def obligations(
    stage: Stage,
    state: State,
    counted: Sequence[Counted],
    contacts: Sequence[Counted],
    now: datetime,
    rules: MeterRules,
) -> tuple[Obligation, ...]:
    """Everything I owe this person now, the most overdue (relative to its own period)
    first. Unlike `next_action`, which names the one thing to do, this lists them all: the
    digest's follow-ups and the web report's to-do list are made of these."""
    found: list[Obligation] = []
    meeting = follow_up_owed(state)
    if meeting is not None:
        # The follow-up belongs to the day after the meeting: a meeting logged today is
        # not overdue yet.
        day_after = datetime.combine(meeting.day + DAY, time(0, 0), tzinfo=now.tzinfo)
        if now >= day_after:
            found.append(Obligation(Action.FOLLOW_UP_MEETING, meeting.event, day_after, 1.0))
    theirs = reply_owed(counted, now, rules)
    if theirs is not None:
        found.append(
            Obligation(Action.REPLY, theirs.event, theirs.when, float(rules.reply_within_days))
        )
    if stage is Stage.ASKED and ask_action(state, now, rules) is Action.FOLLOW_UP_ASK:
        ask = state.pending_ask
        assert ask is not None
        due = ask.when + DAY * rules.ask_follow_up_days
        found.append(
            Obligation(Action.FOLLOW_UP_ASK, ask.event, due, float(rules.ask_follow_up_days))
        )
    if stage is Stage.CONNECTED and stay_in_touch_due(contacts, now, rules):
        last = contacts[-1]
        due = last.when + DAY * rules.stay_in_touch_days
        found.append(
            Obligation(Action.STAY_IN_TOUCH, last.event, due, float(rules.stay_in_touch_days))
        )
    return tuple(sorted(found, key=lambda o: -o.overdue(now)))
