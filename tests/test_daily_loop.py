"""The daily loop through the CLI on a real data folder: `status` short and concrete (the
cold share one line, every next step names the post, the words or the lateness), and
keeping in touch (a cadence per person and per tag, new posts as reasons, the most
overdue first). Commands run in-process through engage.cli.main."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from inprocess import EngageCLI

from engage.models import DIRECTION, Event, EventKind, EventSource, Post

K = EventKind
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

WATCHLIST = """\
me:
  name: Wren Inkwell
people:
  - name: Ada Lanternfield
    tags: [close]
  - name: Bram Quillhaven
    stay_in_touch: 30d
  - name: Cyra Moonwhistle
  - name: Dov Teaselby
  - name: Esme Fernwhistle
  - name: Fenn Marrowby
  - name: Gil Met
settings:
  stay_in_touch:
    close: 2w
"""


def at(day: float) -> str:
    return (T0 + timedelta(days=day)).isoformat()


def event(person: str, kind: EventKind, day: float, note: str = "") -> Event:
    return Event(
        id=f"test:{person}:{kind.value}:{day}",
        person=person,
        kind=kind,
        when=T0 + timedelta(days=day),
        direction=DIRECTION[kind],
        source=EventSource.MANUAL,
        note=note,
    )


def post(person: str, slug: str, title: str, day: float) -> Post:
    link = f"https://{person.split()[0].lower()}.example.org/{slug}/"
    return Post(
        person=person,
        feed=f"https://{person.split()[0].lower()}.example.org/feed/",
        id=link,
        link=link,
        title=title,
        published=T0 + timedelta(days=day),
    )


class Engage(EngageCLI):
    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        super().__init__(tmp_path, capsys, WATCHLIST)
        with self.store.transaction() as tx:
            tx.add_events(
                [
                    # Connected: Ada (her tag's 14 days), Bram (his own 30 days).
                    event("Ada Lanternfield", K.MY_ASK, 0),
                    event("Ada Lanternfield", K.ASK_ACCEPTED, 2),
                    event("Bram Quillhaven", K.MY_ASK, 0),
                    event("Bram Quillhaven", K.ASK_ACCEPTED, 2),
                    event("Bram Quillhaven", K.CALL, 5),
                    # Met 14 days before day 40, no follow-up yet.
                    event("Gil Met", K.MET_IN_PERSON, 26, note="at PyCon"),
                ]
            )
            tx.put_posts(
                [
                    post("Cyra Moonwhistle", "tape-loops", "Tape loops for beginners", 38),
                    post("Cyra Moonwhistle", "older", "An older post", 10),
                    post("Ada Lanternfield", "blogroll", "What a blogroll is for", 39),
                ]
            )


@pytest.fixture
def engage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Engage:
    app = Engage(tmp_path, capsys)
    code, _, err = app("detect")  # also notes each person's newest post
    assert code == 0, err
    return app


def test_status_collapses_the_cold_into_one_line(engage: Engage) -> None:
    code, out, _ = engage("status", "--at", at(40))
    assert code == 0
    lines = out.splitlines()
    cold = [line for line in lines if line.startswith("cold:")]
    assert cold == [
        "cold: 4 people with no contact yet (Cyra Moonwhistle, Dov Teaselby, Esme Fernwhistle "
        "and 1 more); `engage status --all` gives each a first step"
    ]
    assert "Cyra" not in "\n".join(line for line in lines if not line.startswith("cold:"))
    assert "Leave a thoughtful comment on their latest post." not in out
    # Three people need something; two lines each, and the one line for the cold.
    assert len(lines) == 3 * 2 + 1


def test_status_all_gives_each_cold_person_a_first_step_on_their_post(engage: Engage) -> None:
    code, out, _ = engage("status", "--all", "--at", at(40))
    assert code == 0
    assert "cold:" not in out
    assert (
        "→ Leave a thoughtful comment on 'Tape loops for beginners' "
        "<https://cyra.example.org/tape-loops/>." in out
    )
    assert "→ Leave a thoughtful comment on their latest post." in out  # Dov: no post known
    # --json always lists everyone.
    assert len(engage.json("status", "--at", at(40))) == 7


def test_a_follow_up_says_how_late_it_is(engage: Engage) -> None:
    (gil,) = [r for r in engage.json("status", "--at", at(40)) if r["person"] == "Gil Met"]
    assert gil["next_step"] == (
        "Send the follow-up to your meeting at PyCon on 28 Mar (met 14 days ago)."
    )


def test_cadences_per_tag_and_person_and_the_most_overdue_first(engage: Engage) -> None:
    readings = engage.json("status", "--at", at(40))
    due = [r for r in readings if r["action"] == "stay_in_touch"]
    # Ada: her tag's 14 days from day 2, due day 16, 24 days overdue; Bram: his own 30 days
    # from the call on day 5, due day 35, 5 days overdue. The global 90 days: neither yet.
    assert [r["person"] for r in due] == ["Ada Lanternfield", "Bram Quillhaven"]
    ada, bram = due
    assert ada["due"] == at(16) and bram["due"] == at(35)
    assert "every 14 days, 24 days overdue" in ada["reason"]
    assert "every 30 days, 5 days overdue" in bram["reason"]
    # Her post of yesterday is the reason to write.
    assert ada["next_step"].startswith(
        "Write to them about their new post 'What a blogroll is for' "
        "<https://ada.example.org/blogroll/> (yesterday)"
    )
