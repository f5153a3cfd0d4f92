"""Introductions: who can introduce me, ranked by the product of tie strengths, with the
evidence behind each tie, and the drafted double opt-in note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
import pytest

from engage.intro import draft_context, intro_paths, missing_evidence, supported
from engage.meter import read_meter
from engage.models import (
    DIRECTION,
    Event,
    EventKind,
    IntroEvidence,
    MeterRules,
    Person,
    Reading,
    Role,
    Watchlist,
)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
RULES = MeterRules()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

WATCHLIST = Watchlist(
    me=Person("Marian Example", role=Role.ME, interests=("python", "packaging"),
              sites=("https://marian.example",)),
    people=(
        Person("Dana Target", tags=("packaging", "rust")),
        Person("Eve Friend", knows=("Dana Target",)),
        Person("Olga Other"),
    ),
    contacts=(
        Person("Carl Close", role=Role.CONTACT, strength=0.9),
        Person("Kim Known", role=Role.CONTACT, knows=("Dana Target",)),
        Person("Lou Later", role=Role.CONTACT, strength=0.8, knows=("Eve Friend",)),
    ),
)  # fmt: skip


def evidence(
    contact: str,
    person: str,
    days_ago: float,
    url: str,
    kind: str = "contact_commented",
    detail: str = 'comment on "Packaging in 2026": "Lockfiles saved my week"',
) -> IntroEvidence:
    return IntroEvidence(
        id=f"{contact}-{person}-{days_ago}",
        contact=contact,
        person=person,
        url=url,
        when=NOW - timedelta(days=days_ago),
        kind=kind,
        evidence=detail,
    )


def test_stated_knows_ranks_by_my_tie_to_the_connector() -> None:
    # Kim: me 0.5 (listed contact) × 0.5 (knows) = 0.25.
    paths = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES)
    assert [(p.via, p.strength) for p in paths] == [(("Kim Known",), 0.25)]
    assert "Kim Known knows Dana Target (feeds.yaml)" in [e.text for e in paths[0].evidence]


def test_fresh_public_evidence_beats_a_stated_tie_and_carries_its_url() -> None:
    # Carl: 0.9 × (two fresh comments: 1 − 0.6²) = 0.9 × 0.64 = 0.576 > Kim's 0.25.
    found = [
        evidence("Carl Close", "Dana Target", 0, "https://dana.example/a#c1"),
        evidence("Carl Close", "Dana Target", 0, "https://dana.example/b#c7"),
    ]
    paths = intro_paths("Dana Target", WATCHLIST, found, {}, [], NOW, RULES)
    assert [p.connector for p in paths] == ["Carl Close", "Kim Known"]
    assert paths[0].strength == pytest.approx(0.576, abs=0.001)
    urls = {e.url for e in paths[0].evidence}
    assert {"https://dana.example/a#c1", "https://dana.example/b#c7"} <= urls


def test_old_evidence_decays_like_events() -> None:
    # One comment 60 days ago: 0.4 × 0.25 = 0.1; × Carl 0.9 = 0.09, under Kim's 0.25.
    found = [evidence("Carl Close", "Dana Target", 60, "https://dana.example/old")]
    paths = intro_paths("Dana Target", WATCHLIST, found, {}, [], NOW, RULES)
    assert [p.connector for p in paths] == ["Kim Known", "Carl Close"]
    assert paths[1].strength == pytest.approx(0.09, abs=0.001)


def test_two_hops_only_when_asked() -> None:
    # Lou knows Eve, Eve knows Dana: 0.8 × 0.5 × 0.5 = 0.2.
    one = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES)
    two = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES, hops=2)
    assert ("Lou Later", "Eve Friend") not in [p.via for p in one]
    assert [(p.via, p.strength) for p in two] == [
        (("Kim Known",), 0.25),
        (("Lou Later", "Eve Friend"), 0.2),
    ]
    with pytest.raises(ValueError, match="hops"):
        intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES, hops=3)


def events_for(name: str, *kinds_days: tuple[EventKind, float]) -> list[Event]:
    return [
        Event(f"{name}{i}", name, kind, NOW - timedelta(days=ago), DIRECTION[kind],
              url=f"https://{name.split()[0].lower()}.example/post-{i}#c{i}")
        for i, (kind, ago) in enumerate(kinds_days)
    ]  # fmt: skip


def reading_for(name: str, *kinds_days: tuple[EventKind, float]) -> Reading:
    return read_meter(name, events_for(name, *kinds_days), NOW, RULES)


def test_a_person_i_am_in_dialogue_with_can_introduce_me_by_the_meter_score() -> None:
    eve = reading_for(
        "Eve Friend",
        (EventKind.MET_IN_PERSON, 2),
        (EventKind.MY_EMAIL_OR_DM, 1),
        (EventKind.THEIR_EMAIL_OR_DM, 0),
    )
    paths = intro_paths("Dana Target", WATCHLIST, [], {"Eve Friend": eve}, [], NOW, RULES)
    eve_path = next(p for p in paths if p.via == ("Eve Friend",))
    expected = (1 - 2.718281828 ** (-eve.score / 12)) * 0.5
    assert eve_path.strength == pytest.approx(expected, abs=0.001)


def test_someone_i_only_noticed_is_no_intermediary() -> None:
    eve = reading_for("Eve Friend", (EventKind.MY_COMMENT, 1))
    paths = intro_paths("Dana Target", WATCHLIST, [], {"Eve Friend": eve}, [], NOW, RULES)
    assert all(p.via != ("Eve Friend",) for p in paths)


def test_a_linkedin_colleague_of_the_target_is_a_path() -> None:
    watchlist = Watchlist(
        me=WATCHLIST.me,
        people=(Person("Dana Target", company="Acme"),),
    )
    colleague = Person("Pat Acme", role=Role.CONTACT, company="ACME", strength=0.3,
                       handles={"linkedin": "https://www.linkedin.com/in/pat"})  # fmt: skip
    paths = intro_paths("dana target", watchlist, [], {}, [colleague], NOW, RULES)
    assert [(p.via, p.strength) for p in paths] == [(("Pat Acme",), 0.09)]
    texts = [e.text for e in paths[0].evidence]
    assert "connected on LinkedIn with Pat Acme" in texts
    assert "Dana Target and Pat Acme work at the same company" in texts


def test_no_path_is_an_empty_list() -> None:
    assert intro_paths("Olga Other", WATCHLIST, [], {}, [], NOW, RULES) == []


def render(context: dict[str, object]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("intro_request.txt.j2").render(**context)


def test_the_drafted_note_asks_the_connector_first_and_is_forwardable() -> None:
    found = [evidence("Carl Close", "Dana Target", 3, "https://dana.example/a#c1")]
    path = intro_paths("Dana Target", WATCHLIST, found, {}, [], NOW, RULES)[0]
    noticed = reading_for("Dana Target", (EventKind.MY_COMMENT, 4))
    mine = events_for("Dana Target", (EventKind.MY_COMMENT, 4))
    text = render(draft_context(path, WATCHLIST, noticed, mine))
    assert text.startswith("Subject: Would you be comfortable introducing me to Dana Target?")
    assert "Hi Carl," in text
    assert "whether they'd be open to an introduction" in text
    assert "a note you can forward" in text and "Hi Dana," in text
    # The public evidence, as a person says it, with their words; no file named.
    assert (
        "I saw your comment on Dana's post \"Packaging in 2026\": \"Lockfiles saved my week\", "
        "so I thought of you." in text
    )
    assert "feeds.yaml" not in text and "strength" not in text
    assert "I've left a comment on one of your posts" in text
    assert "exchanged" not in text and "replies" not in text
    assert "their work on packaging" in text
    # Not "I work on python, packaging": a sentence, with the site it is written at.
    assert (
        "I'm Marian Example, and I write about python and packaging at https://marian.example."
        in text
    )
    assert "no pressure" in text


def test_a_two_hop_note_asks_the_connector_to_ask_the_next_person() -> None:
    path = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES, hops=2)[1]
    text = render(draft_context(path, WATCHLIST, None))
    assert "Hi Lou," in text
    assert "asking Eve whether they might introduce me to Dana" in text
    assert "introducing me to Dana Target?" in text
    assert "I believe you and Eve know each other, so I thought of you." in text
    assert "feeds.yaml" not in text


K = EventKind
# The note tells the connector and the target only what the events show.
# (situation, events as (kind, days ago), told to the connector, told to the target)
EXCHANGES = [
    ("nothing yet: nothing said", [], "", ""),
    ("one comment, no reply: no 'exchange'", [(K.MY_COMMENT, 3)],
     "I've left a comment on one of their posts", "I've left a comment on one of your posts"),
    ("two comments on two posts", [(K.MY_COMMENT, 3), (K.MY_COMMENT, 2)],
     "I've left comments on a couple of their posts",
     "I've left comments on a couple of your posts"),
    ("one comment and one reply", [(K.MY_COMMENT, 3), (K.THEIR_REPLY, 2)],
     "I've left a comment on one of their posts and they replied",
     "I've left a comment on one of your posts and you replied"),
    ("comments and two replies: an exchange",
     [(K.MY_COMMENT, 5), (K.THEIR_REPLY, 4), (K.MY_COMMENT, 3), (K.THEIR_REPLY, 2)],
     "we've exchanged a few comments", "we've exchanged a few comments"),
    ("messages both ways", [(K.MY_EMAIL_OR_DM, 5), (K.THEIR_EMAIL_OR_DM, 4),
                            (K.MY_EMAIL_OR_DM, 3), (K.THEIR_EMAIL_OR_DM, 2)],
     "we've exchanged a few messages", "we've exchanged a few messages"),
    ("met, then one message", [(K.MET_IN_PERSON, 5), (K.MY_EMAIL_OR_DM, 4)],
     "we've met in person and I've written to them",
     "we've met in person and I've written to you"),
    ("they commented on my blog", [(K.THEIR_COMMENT_ON_MINE, 2)],
     "they've commented on my blog", "you've commented on my blog"),
    ("a like is not worth telling", [(K.THEIR_LIKE, 2)], "", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kinds_days", "about", "to_them"), [pytest.param(*row[1:], id=row[0]) for row in EXCHANGES]
)
def test_the_note_follows_the_counts(kinds_days, about, to_them):  # type: ignore[no-untyped-def]
    events = events_for("Dana Target", *kinds_days)
    reading = read_meter("Dana Target", events, NOW, RULES)
    path = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES)[0]
    context = draft_context(path, WATCHLIST, reading, events)
    assert (context["exchange"], context["exchange_to_target"]) == (about, to_them)
    text = render(context)
    if about:
        assert about[:1].upper() + about[1:] + ", and I'd like" in text
    else:
        assert "exchanged" not in text


# How each kind of evidence is told to the connector: never as a file or a score.
# (situation, kind, the detection's words, the sentence in the note)
TOLD = [
    ("the connector commented on the target's post", "contact_commented",
     'comment on "Packaging in 2026": "Lockfiles saved my week"',
     'I saw your comment on Dana\'s post "Packaging in 2026": "Lockfiles saved my week"'),
    ("the target commented on the connector's post", "person_commented_contact",
     'comment on "Rust at work": "We did the same"',
     'I saw Dana\'s comment on your post "Rust at work": "We did the same"'),
    ("the target linked to the connector", "person_linked_contact",
     'post "Ten blogs I read" links to the contact\'s site',
     'I saw Dana link to your site in "Ten blogs I read"'),
    ("the target named the connector", "person_mentioned_contact",
     'post "Thanks, friends" names the contact',
     'I saw Dana mention you in "Thanks, friends"'),
    ("the connector linked to the target", "contact_linked_person",
     'post "Links" links to the person\'s site',
     'I saw you link to Dana\'s site in "Links"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "detail", "sentence"), [pytest.param(*row[1:], id=row[0]) for row in TOLD]
)
def test_evidence_is_told_as_a_person_would(kind: str, detail: str, sentence: str) -> None:
    found = [evidence("Carl Close", "Dana Target", 3, "https://x.example/", kind, detail)]
    path = intro_paths("Dana Target", WATCHLIST, found, {}, [], NOW, RULES)[0]
    context = draft_context(path, WATCHLIST, None)
    assert context["how_they_know"] == [sentence]
    assert f"{sentence}, so I thought of you." in render(context)


def test_the_note_quotes_their_last_words() -> None:
    events = [
        *events_for("Dana Target", (K.MY_COMMENT, 5), (K.MY_COMMENT, 3)),
        Event("r1", "Dana Target", K.THEIR_REPLY, NOW - timedelta(days=4), DIRECTION[K.THEIR_REPLY],
              evidence='reply to my comment of 2026-04-26 on "Lockfiles": "Thanks, good point"'),
        Event("r2", "Dana Target", K.THEIR_REPLY, NOW - timedelta(days=2), DIRECTION[K.THEIR_REPLY],
              evidence='reply to my comment of 2026-04-28 on "Lockfiles": "Send me your notes!"'),
    ]  # fmt: skip
    reading = read_meter("Dana Target", events, NOW, RULES)
    path = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES)[0]
    text = render(draft_context(path, WATCHLIST, reading, events))
    assert (
        "We've exchanged a few comments (most recently Dana wrote: \"Send me your notes!\"), "
        "and I'd like to take the conversation further." in text
    )


# (situation, path strength, settings.meter.intro_min_strength, drafted?)
WEAK = [
    ("under the default 0.3: no draft", 0.25, 0.3, False),
    ("at the bar: a draft", 0.3, 0.3, True),
    ("a lower bar the user chose", 0.25, 0.2, True),
]


@pytest.mark.parametrize(
    ("strength", "bar", "drafted"), [pytest.param(*row[1:], id=row[0]) for row in WEAK]
)
def test_a_weak_path_gets_the_reason_not_a_draft(
    strength: float, bar: float, drafted: bool
) -> None:
    from dataclasses import replace

    from engage.intro import IntroPath, weak_path

    path = IntroPath("Dana Target", ("Kim Known",), strength)
    reason = weak_path(path, replace(RULES, intro_min_strength=bar))
    if drafted:
        assert reason is None
    else:
        assert reason is not None
        assert reason.startswith("No draft: the best path, through Kim Known, is weak")
        assert f"strength {strength:.2f}, under {bar:g}" in reason


def test_what_rests_on_a_name_alone_is_not_told() -> None:
    # Two "replies" on different days would read "we've exchanged a few comments"; one of
    # them answered a stranger who shares my name.
    events = [
        *events_for("Dana Target", (K.MY_COMMENT, 5), (K.THEIR_REPLY, 4), (K.MY_COMMENT, 3)),
        Event("s1", "Dana Target", K.THEIR_REPLY, NOW - timedelta(days=2),
              DIRECTION[K.THEIR_REPLY], confirmed=False),
    ]  # fmt: skip
    reading = read_meter("Dana Target", events, NOW, RULES)
    path = intro_paths("Dana Target", WATCHLIST, [], {}, [], NOW, RULES)[0]
    context = draft_context(path, WATCHLIST, reading, events)
    assert context["exchange"] == "I've left comments on a couple of their posts and they replied"


# A path with no evidence worth an ask behind it is not a recommendation.
UNSUPPORTED = [
    (
        "a contact I gave strength 0",
        Person("Zed Zero", role=Role.CONTACT, strength=0.0, knows=("Dana Target",)),
        [],
        0.0,
        "nothing shows that you know Zed Zero well (you know Zed Zero (strength 0 in "
        "feeds.yaml); tie strength 0.00): if you do, give Zed Zero a `strength:` (0.1 to 1) "
        "under contacts: in feeds.yaml",
    ),
    (
        "a clue from years ago, decayed to nothing",
        Person("Carl Close", role=Role.CONTACT, strength=0.9),
        [evidence("Carl Close", "Dana Target", 1000, "https://dana.example/old#c1")],
        0.0,
        'nothing recent shows that Carl Close knows Dana Target (comment on "Packaging in '
        '2026": "Lockfiles saved my week", ',
    ),
]


@pytest.mark.parametrize(
    ("contact", "clues", "strength", "missing"),
    [row[1:] for row in UNSUPPORTED],
    ids=[row[0] for row in UNSUPPORTED],
)
def test_a_path_without_evidence_is_unsupported_and_says_what_is_missing(
    contact: Person, clues: list[IntroEvidence], strength: float, missing: str
) -> None:
    watchlist = Watchlist(me=WATCHLIST.me, people=WATCHLIST.people[:1], contacts=(contact,))
    (path,) = intro_paths("Dana Target", watchlist, clues, {}, [], NOW, RULES)
    assert path.strength == pytest.approx(strength, abs=0.0001)
    assert not supported(path)
    assert missing_evidence(path).startswith(missing)


def test_the_weakest_supported_path_is_a_recommendation() -> None:
    # A LinkedIn-strength contact (0.3) who merely knows the target (0.5): 0.15.
    contact = Person("Pat Plain", role=Role.CONTACT, strength=0.3, knows=("Dana Target",))
    watchlist = Watchlist(me=WATCHLIST.me, people=WATCHLIST.people[:1], contacts=(contact,))
    (path,) = intro_paths("Dana Target", watchlist, [], {}, [], NOW, RULES)
    assert supported(path) and path.strength == pytest.approx(0.15)
