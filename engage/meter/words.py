"""The meter's words: each gate's numbers, the one-sentence reason, the secondary reasons
and the next step, in plain English with the numbers in them. Pure.

`engage.meter.rules` decides (the gates, the stage, what is due); this module only says it,
cheapest fix first: the first failing gate in `CHECK_ORDER` is the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from engage.meter.rules import (
    CHECK_ORDER,
    DAY,
    NOT_CONTACT,
    Counted,
    State,
    follow_up_owed,
    reply_owed,
    went_cold,
)
from engage.models import (
    Action,
    Event,
    EventKind,
    Gate,
    GateName,
    LatestPost,
    MeterRules,
    Stage,
    shorten,
)

K = EventKind
G = GateName

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
_REPLY_NOUN: Mapping[EventKind, str] = {
    K.THEIR_REPLY: "reply",
    K.THEIR_COMMENT_ON_MINE: "comment",
    K.THEIR_EMAIL_OR_DM: "message",
    K.THEIR_MENTION: "mention of you",
    K.THEIR_INTRO: "introduction",
}


def plural(n: int, one: str, many: str) -> str:
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


def _ago(then: datetime, now: datetime) -> str:
    days = (now - then).days
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def post_words(latest: LatestPost | None) -> str:
    """How a next step names their latest post: its title and link when known, so "leave a
    thoughtful comment" says on what."""
    if latest is None:
        return "their latest post"
    if latest.title.strip():
        return f"'{shorten(' '.join(latest.title.split()), 80)}' <{latest.link}>"
    return f"their latest post <{latest.link}>"


def their_words(event: Event) -> str:
    """The words a detection quoted from them (its evidence reads `where: "words"`), so the
    reply to answer says what it is answering; '' when there are none."""
    _lead, sep, rest = event.evidence.partition(': "')
    if not sep:
        return ""
    words, quote, _suffix = rest.rpartition('"')
    return shorten(words, 120) if quote else ""


def _ago_days(then: date, today: date) -> str:
    """'(14 days ago)' from two days on; nothing for today and yesterday, which say it."""
    days = (today - then).days
    return f" ({days} days ago)" if days >= 2 else ""


def _last_reply(state: State, now: datetime) -> str:
    assert state.last_reply is not None
    return f"their last reply was {_ago(state.last_reply, now)}"


# ---------------------------------------------------------------------------
# The gates' details


def gate_detail(
    name: GateName,
    state: State,
    counted: Sequence[Counted],
    now: datetime,
    score: float,
    rules: MeterRules,
) -> str:
    """The numbers behind one gate, in words."""
    if name is G.RECIPROCITY:
        if state.met_then_reply:
            return "a meeting, call or intro, and a reply from them after it"
        return (
            f"{plural(state.replies, 'reply', 'replies')} from them on "
            f"{plural(len(state.reply_days), 'day', 'different days')} (need 2, on different "
            "days, or a meeting and one reply after it)"
        )
    if name is G.RECENCY:
        need = f"need one within {rules.recency_days} days"
        if state.last_reply is None:
            return f"no reply from them yet ({need})"
        return f"{_last_reply(state, now)} ({need})"
    if name is G.GIVES:
        gives = plural(state.gives, "give", "gives")
        since = " since your last ask" if any(c.event.kind is K.MY_ASK for c in counted) else ""
        return f"{gives}{since} (need {state.gives_needed(rules)})"
    if name is G.SCORE:
        return (
            f"score {_fmt(score)} (need {rules.ready_score:g}; once ready, it stays ready "
            f"down to {rules.ready_exit_score:g})"
        )
    if state.pending_ask is None:
        return "no ask waiting for an answer"
    asked = state.pending_ask.day
    return (
        f"your ask of {day_label(asked, now.date())} is waiting for an answer "
        f"({(now.date() - asked).days} days)"
    )


# ---------------------------------------------------------------------------
# The reason and the next step


def explain(
    person: str,
    stage: Stage,
    action: Action,
    state: State,
    counted: Sequence[Counted],
    gates: Mapping[GateName, Gate],
    now: datetime,
    score: float,
    out_raw: float,
    rules: MeterRules,
    latest: LatestPost | None = None,
) -> tuple[str, list[str], str]:
    """(primary reason, secondary reasons, next step). `latest`: their newest post, named
    in the next step wherever it asks for a comment or a note."""
    post = post_words(latest)
    today = now.date()
    secondary: list[str] = []
    if out_raw > rules.outbound_cap:
        secondary.append(
            f"Your side is capped at {rules.outbound_cap:g} points: more comments will "
            "not raise the score, a reply from them will."
        )
    if state.unconfirmed:
        secondary.append(
            f"{plural(state.unconfirmed, 'detection rests', 'detections rest')} on a name "
            "alone and wait for your review (engage review): they count as contact, not "
            "towards ready."
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
            f"Leave a thoughtful comment on {post}.",
        )
    if stage is Stage.CONNECTED:
        return _connected(action, counted, now, rules, secondary, latest)
    if stage is Stage.ASKED:
        return _asked(person, action, state, now, rules, secondary)
    if stage is Stage.WENT_COLD:
        return _gone_quiet(counted, now, rules, secondary, post)
    if stage is Stage.READY:
        ask = f'ask {person} to connect: engage ask "{person}".'
        if action is Action.REPLY:
            step = f"{_reply_sentence(counted, now, rules)[:-1]}; then {ask}"
        else:
            step = ask[:1].upper() + ask[1:]
        return _ready_sentence(state, now, score, rules), secondary, step

    owed = _follow_up_sentence(person, state, today)
    failing = [name for name in CHECK_ORDER if not gates[name].passed]
    sentences = [
        text
        for name in failing
        if (text := _why_not(name, state, counted, now, score, rules, owed))
    ]
    primary = sentences[0] if sentences else "Almost there."
    secondary = [*secondary, *sentences[1:]]
    if action is Action.FOLLOW_UP_MEETING and owed is not None:
        return primary, secondary, owed
    if action is Action.REPLY:
        return primary, secondary, _reply_sentence(counted, now, rules)
    return primary, secondary, _gate_step(failing[0] if failing else G.SCORE, post)


def _gone_quiet(
    counted: Sequence[Counted],
    now: datetime,
    rules: MeterRules,
    secondary: list[str],
    post: str,
) -> tuple[str, list[str], str]:
    contacts = [c for c in counted if c.event.kind not in NOT_CONTACT]
    cold = went_cold(contacts, now, rules)
    assert cold is not None
    rhythm = (
        f"your usual gap is {plural(round(cold.gap), 'day', 'days')}, so quiet for more than "
        f"{round(cold.limit)} days means cold"
        if cold.gap
        else f"quiet for more than {round(cold.limit)} days means cold"
    )
    return (
        f"Gone quiet: no contact for {cold.days} days ({rhythm}).",
        secondary,
        f"Re-open gently: comment on {post} or send a short, no-ask note.",
    )


def _ready_sentence(state: State, now: datetime, score: float, rules: MeterRules) -> str:
    if state.met_then_reply:
        tie = "you have met and they replied since"
    else:
        tie = f"{plural(state.replies, 'reply', 'replies')} from them on different days"
    assert state.last_reply is not None
    last = _ago(state.last_reply, now)
    return (
        f"Ready to ask: {tie}, the last {last}; {plural(state.gives, 'give', 'gives')} "
        f"from you (need {state.gives_needed(rules)}); score {_fmt(score)} "
        f"(need {rules.ready_score:g})."
    )


def _follow_up_sentence(person: str, state: State, today: date) -> str | None:
    meeting = follow_up_owed(state)
    if meeting is None:
        return None
    if meeting.event.kind is K.INTRO_ACCEPTED:
        # `engage log X intro-accepted --via Kim` notes "via Kim": Kim is owed thanks.
        note = meeting.event.note.strip()
        via = note.removeprefix("via ").split(";", 1)[0].strip() if note.startswith("via ") else ""
        when = f"{_relative(meeting.day, today)}{_ago_days(meeting.day, today)}"
        thanks = f"Thank {via} for the introduction" if via else "Thank whoever introduced you"
        return f"{thanks} {when}, and write to {person} while it is fresh."
    what = "meeting" if meeting.event.kind is K.MET_IN_PERSON else "call"
    late = _ago_days(meeting.day, today).replace("(", "(met " if what == "meeting" else "(")
    return (
        f"Send the follow-up to your {what}{_where(meeting)} {_relative(meeting.day, today)}"
        f"{late}."
    )


def _reply_sentence(counted: Sequence[Counted], now: datetime, rules: MeterRules) -> str:
    theirs = reply_owed(counted, now, rules)
    assert theirs is not None
    url = f" ({theirs.event.url})" if theirs.event.url else ""
    noun = _REPLY_NOUN[theirs.event.kind]
    if theirs.event.kind is K.THEIR_INTRO:
        what = theirs.event.note.strip() or "introduced you"
        return f"Thank them: they {what} ({day_label(theirs.day, now.date())})."
    words = their_words(theirs.event)
    said = f': "{words}"' if words else ""
    return f"Reply to their {noun} of {day_label(theirs.day, now.date())}{said}{url}."


def _why_not(
    name: GateName,
    state: State,
    counted: Sequence[Counted],
    now: datetime,
    score: float,
    rules: MeterRules,
    follow_up: str | None,
) -> str:
    if name is G.GIVES:
        needed = state.gives_needed(rules)
        if follow_up is not None:
            return (
                f"{follow_up[:-1]} — after a meeting, a call or an introduction one message "
                f"is all the giving it takes ({state.gives} of {needed} gives so far)."
            )
        missing = needed - state.gives
        return (
            f"Give a little more first: {state.gives} of {needed} gives so far — "
            f"{_word(missing)} more (a thoughtful comment, a share with credit, a favour)."
        )
    if name is G.RECIPROCITY:
        mine = _describe_mine(counted)
        replies = state.replies
        theirs = (
            "no reply from them"
            if not replies
            else f"{plural(replies, 'reply', 'replies')} from them"
        )
        if replies and len(state.reply_days) < 2 and replies >= 2:
            theirs += ", all on one day"
        if state.met_any and not state.met_then_reply and not replies:
            meeting = state.last_meeting
            when = f" {_relative(meeting.day, now.date())}" if meeting else ""
            return f"Needs a reply from them after you met{when} — so far {mine}, {theirs}."
        lead = "Needs a reply from them" if not replies else "Needs one more reply from them"
        return f"{lead} — so far {mine}, {theirs} (need 2, on different days)."
    if name is G.RECENCY:
        if state.last_reply is None:
            # Reciprocity has already said it: they have not replied yet.
            return ""
        return (
            f"{_last_reply(state, now).capitalize()} (need one within {rules.recency_days} "
            "days): restart the conversation on their latest post."
        )
    if name is G.SCORE:
        deficit = rules.ready_score - score
        n = _exchanges_needed(deficit, rules)
        return (
            f"Score {_fmt(score)}, needs {rules.ready_score:g}: about {_word(n)} more "
            f"exchange{'s' if n != 1 else ''} (a reply from them adds "
            f"{rules.points.get(K.THEIR_REPLY, 5.0):g})."
        )
    return gate_detail(name, state, counted, now, score, rules)


def _exchanges_needed(deficit: float, rules: MeterRules) -> int:
    """An exchange is one reply from them: the biggest thing that moves the score."""
    per = rules.points.get(K.THEIR_REPLY, 5.0) or 5.0
    return max(1, math.ceil(deficit / per))


def _gate_step(name: GateName, post: str) -> str:
    if name is G.GIVES:
        return f"Leave a thoughtful comment on {post}, or share it with credit."
    if name in (G.RECIPROCITY, G.RECENCY):
        return f"Comment on {post} with a real question, so they have a reason to reply."
    return "Keep the exchange going: answer their next post or reply."


def _asked(
    person: str,
    action: Action,
    state: State,
    now: datetime,
    rules: MeterRules,
    secondary: list[str],
) -> tuple[str, list[str], str]:
    ask = state.pending_ask
    assert ask is not None
    today = now.date()
    age = (now - ask.when) / DAY
    asked = day_label(ask.day, today)
    outcome_hint = f'engage outcome "{person}" accepted|declined|no-answer'
    if action is Action.PARKED:
        return (
            f"Parked: no answer {int(age)} days after your ask of {asked} — don't chase.",
            secondary,
            f"Let it rest; when you hear back, log it: {outcome_hint}.",
        )
    if action is Action.FOLLOW_UP_ASK:
        return (
            f"Asked on {asked}, no answer after {int(age)} days: one short follow-up is fine now.",
            secondary,
            f"Send your one follow-up to the ask of {asked} (asked {int(age)} days ago).",
        )
    park_day = day_label((ask.when + DAY * rules.ask_park_days).date(), today)
    if state.ask_follow_up_sent:
        return (
            f"Asked on {asked} and followed up: the rest is up to them (parked on {park_day} "
            "if no answer).",
            secondary,
            f"Wait; log the answer when it comes: {outcome_hint}.",
        )
    follow_up_day = day_label((ask.when + DAY * rules.ask_follow_up_days).date(), today)
    return (
        f"Asked on {asked}: give them time; one follow-up is fine from {follow_up_day}.",
        secondary,
        f"Wait until {follow_up_day}; log the answer when it comes: {outcome_hint}.",
    )


def _connected(
    action: Action,
    counted: Sequence[Counted],
    now: datetime,
    rules: MeterRules,
    secondary: list[str],
    latest: LatestPost | None,
) -> tuple[str, list[str], str]:
    contacts = [c for c in counted if c.event.kind not in NOT_CONTACT]
    last = contacts[-1]
    ago = (now - last.when) / DAY
    today = now.date()
    due = last.when + DAY * rules.stay_in_touch_days
    # A post of theirs since we last spoke is the natural reason to get in touch.
    new = latest if latest is not None and latest.published > last.when else None
    if new is not None:
        posted = _relative(new.published.astimezone(now.tzinfo).date(), today)
        news = f"their new post {post_words(new)} ({posted.removeprefix('on ')})"
    if action is Action.STAY_IN_TOUCH:
        overdue = (now - due) / DAY
        late = f", {plural(int(overdue), 'day', 'days')} overdue" if overdue >= 1 else ""
        return (
            f"Connected; time to get back in touch — last contact {int(ago)} days ago "
            f"(every {rules.stay_in_touch_days} days{late}).",
            secondary,
            f"Write to them about {news}: what you took from it, or something useful to them."
            if new is not None
            else "Send a short note: something of theirs you enjoyed, or something useful to "
            "them.",
        )
    step = f"Stay in touch by {day_label(due.date(), today)}."
    if new is not None:
        step += f" A reason to write sooner: {news}."
    return f"Connected; last contact {_relative(last.day, today)}.", secondary, step


def _describe_mine(counted: Sequence[Counted]) -> str:
    counts: dict[EventKind, int] = {}
    for c in counted:
        if c.traits.limited and c.confirmed:
            counts[c.event.kind] = counts.get(c.event.kind, 0) + 1
    if not counts:
        return "nothing from you yet"
    parts = [plural(n, *_KIND_NOUN.get(k, (k.value, k.value))) for k, n in counts.items()]
    return _join(parts) + " from you"


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _where(item: Counted) -> str:
    """How to name an event for the user: its note (the event's name) and its URL."""
    note = item.event.note.strip()
    url = item.event.url
    # `engage met --event PyCon` stores "at PyCon"; a bare note gets its "at" here.
    text = f" {note}" if note.casefold().startswith("at ") else f" at {note}" if note else ""
    return f"{text} ({url})" if url else text
