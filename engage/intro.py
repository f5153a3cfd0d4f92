"""Who can introduce me ("find your Doctor Cupido"): a graph of me, my contacts and the
people I follow, ranked paths to one person, and the context for a double opt-in note.

Pure: the caller passes the watchlist, the evidence, the readings and `now`.

Edge strengths, all in 0..1:
- me ↔ contact: the strength stated in feeds.yaml; otherwise the meter's score through
  a saturating map (1 − e^(−score/12), so "ready" ≈ 0.63), never below 0.5 for someone I
  listed as a contact (I said I know them). A LinkedIn connection: its stated strength
  (0.3 by default), or the stronger of the two when it is also a listed contact.
- me ↔ a person I follow: only once a dialogue exists (in dialogue, ready, asked,
  connected), from the meter's score; a connection counts at least 0.5.
- contact ↔ person: `knows:` in feeds.yaml is a stated 0.5; each piece of public evidence
  (a comment, a link) adds 0.4 decayed like events (half-life of the meter), combined
  as a noisy-or so more evidence approaches but never reaches 1; colleagues at the same
  company (from LinkedIn or feeds.yaml) add 0.3.
A path's strength is the product of its edges: Dodds, Muhamad & Watts (2003) found that
chains succeed through a few strong, specific ties, and a product punishes a weak link.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from engage.meter import day_label, saturate, their_words
from engage.models import (
    COMPOSED_REPLIES,
    Event,
    EventKind,
    IntroEvidence,
    MeterRules,
    Person,
    Reading,
    Stage,
    Watchlist,
    fold_name,
)

STATED_KNOWS = 0.5
CONTACT_FLOOR = 0.5
EVIDENCE_WEIGHT = 0.4
COLLEAGUE = 0.3
CONNECTED_FLOOR = 0.5
DIALOGUE_STAGES = frozenset({Stage.IN_DIALOGUE, Stage.READY, Stage.ASKED, Stage.CONNECTED})
MAX_HOPS = 2
# A path weaker than this has no evidence worth an ask behind it: a contact given strength
# 0, a LinkedIn connection imported at 0, or a clue so old it has decayed to nothing. It
# is not recommended (and no note is drafted); `missing_evidence` says what would make it
# one. Shown with two decimals it would read "strength 0.00" or "0.01".
MIN_PATH_STRENGTH = 0.01


@dataclass(frozen=True)
class Evidence:
    """Why two people are tied, in words, with where to see it. `kind` says what it is
    (`stated` in feeds.yaml, `colleague`, or an IntroEvidence kind such as
    `contact_commented`) and `detail` the detection's own words (`comment on "Title":
    "…"`), so a drafted note can say it as a person would."""

    text: str
    url: str | None = None
    when: datetime | None = None
    kind: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Tie:
    a: str
    b: str
    strength: float
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class IntroPath:
    """me → via[0] (→ via[1]) → target."""

    target: str
    via: tuple[str, ...]
    strength: float
    ties: tuple[Tie, ...] = field(default=())

    @property
    def connector(self) -> str:
        return self.via[0]

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(e for tie in self.ties for e in tie.evidence)


@dataclass
class _Edge:
    parts: list[tuple[float, Evidence]] = field(default_factory=list)
    fixed: float | None = None  # me-edges: one decided strength, not a noisy-or

    def strength(self) -> float:
        if self.fixed is not None:
            return self.fixed
        return 1.0 - math.prod(1.0 - s for s, _ in self.parts)


class _Graph:
    def __init__(self) -> None:
        self.edges: dict[frozenset[str], _Edge] = {}
        self.adjacent: dict[str, set[str]] = {}

    def _edge(self, a: str, b: str) -> _Edge:
        key = frozenset((a, b))
        if key not in self.edges:
            self.edges[key] = _Edge()
            self.adjacent.setdefault(a, set()).add(b)
            self.adjacent.setdefault(b, set()).add(a)
        return self.edges[key]

    def add(self, a: str, b: str, strength: float, evidence: Evidence) -> None:
        if a != b and strength > 0:
            self._edge(a, b).parts.append((min(strength, 1.0), evidence))

    def set_fixed(self, a: str, b: str, strength: float, evidence: Evidence) -> None:
        edge = self._edge(a, b)
        edge.fixed = max(edge.fixed or 0.0, min(strength, 1.0))
        edge.parts.append((strength, evidence))

    def tie(self, a: str, b: str) -> Tie:
        edge = self.edges[frozenset((a, b))]
        return Tie(a, b, round(edge.strength(), 3), tuple(e for _, e in edge.parts))


class _Names:
    """Folded names and aliases → the name feeds.yaml uses, so every source agrees on a node."""

    def __init__(self, watchlist: Watchlist) -> None:
        self.canonical: dict[str, str] = {}
        for person in watchlist.everyone():
            for name in (person.name, *person.aliases):
                self.canonical.setdefault(fold_name(name), person.name)

    def __call__(self, name: str) -> str:
        return self.canonical.get(fold_name(name), name)


def _decay(when: datetime, now: datetime, rules: MeterRules) -> float:
    age_days = max((now - when).total_seconds() / 86400.0, 0.0)
    return float(2.0 ** (-age_days / rules.half_life_days))


def build_graph(
    watchlist: Watchlist,
    evidence: Sequence[IntroEvidence],
    readings: Mapping[str, Reading],
    linkedin: Sequence[Person],
    now: datetime,
    rules: MeterRules,
) -> _Graph:
    graph = _Graph()
    name = _Names(watchlist)
    me = watchlist.me.name

    for contact in watchlist.contacts:
        reading = readings.get(contact.name)
        if contact.strength is not None:
            graph.set_fixed(
                me, contact.name, contact.strength,
                Evidence(f"you know {contact.name} (strength {contact.strength:g} in feeds.yaml)"),
            )  # fmt: skip
        else:
            score = reading.score if reading else 0.0
            graph.set_fixed(
                me, contact.name, max(CONTACT_FLOOR, saturate(score)),
                Evidence(f"{contact.name} is one of your contacts"
                         + (f" (meter score {score:.1f})" if score else "")),
            )  # fmt: skip
    for person in watchlist.people:
        reading = readings.get(person.name)
        if reading is None or reading.stage not in DIALOGUE_STAGES:
            continue
        strength = saturate(reading.score)
        if reading.stage is Stage.CONNECTED:
            strength = max(strength, CONNECTED_FLOOR)
        graph.set_fixed(
            me, person.name, strength,
            Evidence(f"you and {person.name}: {reading.stage.value.replace('_', ' ')}, "
                     f"score {reading.score:.1f}"),
        )  # fmt: skip
    for connection in linkedin:
        node = name(connection.name)
        strength = connection.strength if connection.strength is not None else COLLEAGUE
        graph.set_fixed(
            me, node, strength,
            Evidence(f"connected on LinkedIn with {connection.name}",
                     connection.handles.get("linkedin")),
        )  # fmt: skip

    for person in (*watchlist.people, *watchlist.contacts):
        for other in person.knows:
            graph.add(
                person.name, name(other), STATED_KNOWS,
                Evidence(f"{person.name} knows {name(other)} (feeds.yaml)", kind="stated"),
            )  # fmt: skip
    for item in evidence:
        text = item.evidence or item.kind.replace("_", " ")
        graph.add(
            name(item.contact), name(item.person),
            EVIDENCE_WEIGHT * _decay(item.when, now, rules),
            Evidence(f"{text}, {day_label(item.when.date(), now.date())}", item.url, item.when,
                     kind=item.kind, detail=item.evidence),
        )  # fmt: skip

    companies: dict[str, set[str]] = {}
    for person in (*watchlist.people, *watchlist.contacts, *linkedin):
        if person.company:
            companies.setdefault(fold_name(person.company), set()).add(name(person.name))
    for members in companies.values():
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                graph.add(
                    a, b, COLLEAGUE,
                    Evidence(f"{a} and {b} work at the same company", kind="colleague"),
                )  # fmt: skip
    return graph


def intro_paths(
    target: str,
    watchlist: Watchlist,
    evidence: Sequence[IntroEvidence],
    readings: Mapping[str, Reading],
    linkedin: Sequence[Person],
    now: datetime,
    rules: MeterRules,
    *,
    hops: int = 1,
) -> list[IntroPath]:
    """Every path from me to `target` through one intermediary (two with hops=2), the
    strongest first (the product of the ties), each with its evidence."""
    if hops not in range(1, MAX_HOPS + 1):
        raise ValueError(f"hops must be 1 or 2, not {hops}")
    graph = build_graph(watchlist, evidence, readings, linkedin, now, rules)
    target = _Names(watchlist)(target)
    me = watchlist.me.name

    def strength(a: str, b: str) -> float:
        return graph.edges[frozenset((a, b))].strength()

    found: list[tuple[float, tuple[str, ...]]] = []
    first = graph.adjacent.get(me, set()) - {target}
    for x in first:
        if target in graph.adjacent.get(x, set()):
            found.append((strength(me, x) * strength(x, target), (x,)))
        if hops == 2:
            for y in graph.adjacent.get(x, set()) - {me, target, x}:
                if target in graph.adjacent.get(y, set()):
                    s = strength(me, x) * strength(x, y) * strength(y, target)
                    found.append((s, (x, y)))
    found.sort(key=lambda item: (-item[0], len(item[1]), item[1]))
    paths = []
    for value, via in found:
        chain = (me, *via, target)
        ties = tuple(graph.tie(a, b) for a, b in itertools.pairwise(chain))
        paths.append(IntroPath(target, via, round(value, 4), ties))
    return paths


def supported(path: IntroPath) -> bool:
    """Strong enough to recommend asking the connector (see MIN_PATH_STRENGTH)."""
    return path.strength >= MIN_PATH_STRENGTH


def missing_evidence(path: IntroPath) -> str:
    """What an unsupported path lacks, on its weakest tie, and how the user can add it."""
    weakest = min(path.ties, key=lambda tie: tie.strength)
    seen = "; ".join(e.text for e in weakest.evidence) or "no evidence"
    if weakest is path.ties[0]:  # my own tie to the connector
        other = weakest.b
        return (
            f"nothing shows that you know {other} well ({seen}; tie strength "
            f"{weakest.strength:.2f}): if you do, give {other} a `strength:` (0.1 to 1) "
            "under contacts: in feeds.yaml"
        )
    return (
        f"nothing recent shows that {weakest.a} knows {weakest.b} ({seen}; tie strength "
        f"{weakest.strength:.2f}): if they do, add {weakest.b} to `knows:` under {weakest.a} "
        "in feeds.yaml"
    )


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c': a list as a sentence says it."""
    items = [i for i in items if i]
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def weak_path(path: IntroPath, rules: MeterRules) -> str | None:
    """Why no note is drafted for this path, or None when it is strong enough: asking a
    weak tie to vouch for me is a cold ask by proxy."""
    if path.strength >= rules.intro_min_strength:
        return None
    return (
        f"No draft: the best path, through {path.connector}, is weak (strength "
        f"{path.strength:.2f}, under {rules.intro_min_strength:g}), and an introduction "
        f"through a weak tie is a cold ask by proxy. Get to know {path.target} directly "
        f"(engage explain {path.target!r}), or strengthen the tie to {path.connector} first."
    )


def draft_context(
    path: IntroPath,
    watchlist: Watchlist,
    target_reading: Reading | None,
    events: Sequence[Event] = (),
) -> dict[str, object]:
    """What templates/intro_request.txt.j2 needs for a forwardable double opt-in note.
    `events` are the target's events up to the reading's moment: the note says only what
    they show (one comment is not "a few comments and replies"), quotes their own words
    where a detection kept them, and never names a file or a setting."""
    me = watchlist.me
    target = watchlist.find(path.target)
    ask_whom = path.via[1] if len(path.via) > 1 else path.target
    interests = {i.casefold() for i in me.interests}
    topics = sorted({t for t in (target.tags if target else ()) if t.casefold() in interests})
    stage = target_reading.stage if target_reading else Stage.COLD
    # The same fact told to the connector (about them) and to the target (to them).
    exchange, exchange_to_target = exchange_words(events, stage)
    tie = path.ties[1] if len(path.ties) > 1 else None
    told = [_how_they_know(e, _first(ask_whom)) for e in _newest_first(tie.evidence)] if tie else []
    return {
        "me": me.name,
        "me_first": _first(me.name),
        "my_site": me.sites[0] if me.sites else "",
        "connector": path.connector,
        "connector_first": _first(path.connector),
        "ask_whom": ask_whom,
        "ask_whom_first": _first(ask_whom),
        "target": path.target,
        "target_first": _first(path.target),
        "two_hops": len(path.via) > 1,
        "topics": join_words(topics),
        "exchange": exchange,
        "exchange_to_target": exchange_to_target,
        "quote": _last_words(events) if exchange else "",
        "how_they_know": [t for t in told if t][:1],
        "evidence": [{"text": e.text, "url": e.url} for e in path.evidence],
        "interests": join_words(list(me.interests[:2])),
    }


def _newest_first(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Public evidence, newest first, before what I stated: it is what the connector will
    recognise."""
    dated = [e for e in evidence if e.when is not None]
    dated.sort(key=lambda e: e.when.timestamp() if e.when else 0.0, reverse=True)
    return [*dated, *(e for e in evidence if e.when is None)]


def _how_they_know(evidence: Evidence, other: str) -> str:
    """One piece of evidence told to the connector, as a person would say it ("I saw your
    comment on Dana's post "Title": "…""), never as a file says it."""
    detail = evidence.detail.strip()
    quoted = _after(detail, "comment on ") or detail
    title = _title_in(detail)
    in_title = f" in {title}" if title else ""
    match evidence.kind:
        case "contact_commented":
            return f"I saw your comment on {other}'s post {quoted}".rstrip()
        case "person_commented_contact":
            return f"I saw {other}'s comment on your post {quoted}".rstrip()
        case "person_linked_contact":
            return f"I saw {other} link to your site{in_title}"
        case "person_mentioned_contact":
            return f"I saw {other} mention you{in_title}"
        case "contact_linked_person":
            return f"I saw you link to {other}'s site{in_title}"
        case "colleague":
            return f"I understand you and {other} work together"
        case "stated":
            return f"I believe you and {other} know each other"
    return ""


def _after(text: str, prefix: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else ""


def _title_in(detail: str) -> str:
    """'"Title"' from a detection's `post "Title" links to …`."""
    if not detail.startswith('post "'):
        return ""
    title, quote, _rest = detail[len('post "') :].partition('"')
    return f'"{title}"' if quote else ""


def _last_words(events: Sequence[Event]) -> str:
    """Their own words from their latest composed reply, when a detection quoted them."""
    for event in sorted(events, key=lambda e: e.when, reverse=True):
        if event.kind in COMPOSED_REPLIES and event.confirmed:
            words = their_words(event)
            if words:
                return words
    return ""


_THREAD_NOUN = {
    EventKind.THEIR_REPLY: "reply",
    EventKind.THEIR_COMMENT_ON_MINE: "comment on my blog",
    EventKind.THEIR_EMAIL_OR_DM: "message",
    EventKind.THEIR_MENTION: "mention",
}


def ask_context(
    watchlist: Watchlist,
    target: str,
    thread: Event | None,
    events: Sequence[Event],
    stage: Stage,
    titles: Mapping[str, str],
) -> dict[str, object]:
    """What templates/ask_request.txt.j2 needs for a short ask to someone who is ready:
    the shared thread (their latest words to me, its post's title from `titles`, keyed by
    thread_key of the post link) and the exchange so far, in words that follow the counts."""
    from engage.urls import thread_key

    me = watchlist.me
    person = watchlist.find(target)
    interests = {i.casefold() for i in me.interests}
    topics = sorted(t for t in (person.tags if person else ()) if t.casefold() in interests)
    _them, to_target = exchange_words(events, stage)
    words = their_words(thread).rstrip(" .!?…") if thread is not None else ""
    return {
        "target": target,
        "target_first": _first(target),
        "me": me.name,
        "me_first": _first(me.name),
        "my_site": me.sites[0] if me.sites else "",
        "topics": ", ".join(topics),
        "thread_url": thread.url if thread is not None and thread.url else "",
        "thread_title": titles.get(thread_key(thread.url), "") if thread and thread.url else "",
        "thread_words": words,
        "thread_noun": _THREAD_NOUN.get(thread.kind, "reply") if thread is not None else "",
        "exchange_to_target": to_target,
    }


def exchange_words(events: Sequence[Event], stage: Stage) -> tuple[str, str]:
    """How I know the target, in words that follow the counts: (told to the connector,
    told to the target). Empty when there is nothing to say. What rests on a name alone
    (unconfirmed) is not told: it may be a stranger's."""
    events = [e for e in events if e.confirmed]
    kinds = [e.kind for e in events]
    posts = {(e.url or e.id).split("#", 1)[0] for e in events if e.kind is EventKind.MY_COMMENT}
    replies = sum(k in COMPOSED_REPLIES for k in kinds)
    on_my_blog = EventKind.THEIR_COMMENT_ON_MINE in kinds
    messages = EventKind.MY_EMAIL_OR_DM in kinds or EventKind.THEIR_EMAIL_OR_DM in kinds
    them: list[str] = []
    you: list[str] = []
    if EventKind.MET_IN_PERSON in kinds:
        them.append("we've met in person")
        you.append("we've met in person")
    elif EventKind.CALL in kinds:
        them.append("we've spoken")
        you.append("we've spoken")
    medium = "messages" if messages and not posts else "comments"
    if replies >= 2 and (posts or messages):
        if stage is Stage.WENT_COLD:
            them.append(f"we exchanged a few {medium} a while ago")
            you.append(f"we exchanged a few {medium} a while ago")
        else:
            them.append(f"we've exchanged a few {medium}")
            you.append(f"we've exchanged a few {medium}")
    elif posts:
        n = len(posts)
        where = "one of" if n == 1 else "a couple of" if n == 2 else "several of"
        what = "a comment" if n == 1 else "comments"
        them.append(f"I've left {what} on {where} their posts")
        you.append(f"I've left {what} on {where} your posts")
        if replies:
            them[-1] += " and they replied"
            you[-1] += " and you replied"
    elif replies:
        if on_my_blog:
            them.append("they've commented on my blog")
            you.append("you've commented on my blog")
        else:
            them.append("they've written to me")
            you.append("you've written to me")
    elif EventKind.MY_EMAIL_OR_DM in kinds:
        them.append("I've written to them")
        you.append("I've written to you")
    elif EventKind.MY_SHARE in kinds:
        them.append("I've shared some of their work")
        you.append("I've shared some of your work")
    return " and ".join(them), " and ".join(you)
