"""The score chart and the meter bar: pure SVG text, read back as XML.

Parsing the output checks that it is well-formed (so every text was escaped) and lets
each case speak about elements and coordinates instead of substrings.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from engage.web.chart import LEFT, PLOT_BOTTOM, TOP, WIDTH, meter_bar, score_chart

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 5, 1)
START = TODAY - timedelta(days=179)


def days_back(*scores: float, end: date = TODAY) -> list[tuple[str, float]]:
    """History ending at `end`: the last score is `end`'s."""
    return [
        ((end - timedelta(days=len(scores) - 1 - i)).isoformat(), s) for i, s in enumerate(scores)
    ]


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


def path_points(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def event_marks(root: ET.Element) -> list[ET.Element]:
    (events,) = by_class(root, "events")
    return [el for el in events if "event" in (el.get("class") or "")]


def y_of(root: ET.Element, threshold: str) -> float:
    (group,) = by_class(root, threshold)
    line = group.find(f"{SVG}line")
    assert line is not None
    return float(line.get("y1", "nan"))


@dataclass(frozen=True)
class Case:
    name: str
    history: list[tuple[str, float]]
    events: list[tuple[datetime, str, str]] = field(default_factory=list)
    ready: float = 12.0
    leave_ready: float = 10.0
    # Expectations
    segments: int = 1  # separate runs of the score line (a missing day breaks it)
    marks: tuple[str, ...] = ()  # the directions of the event marks, in time order
    axis: tuple[str, str, str] = ("0", "10", "20")  # the score labels, bottom to top
    says: tuple[str, ...] = ()  # phrases of the description


CASES = [
    Case(
        "no history yet: axes and thresholds, no line, a note",
        history=[],
        segments=0,
        says=("no score history yet", "Ready at 12, leaves ready under 10", "0 events"),
    ),
    Case(
        "all zeros: a flat line on the axis",
        history=days_back(*[0.0] * 180),
        says=("score 0 on 2026-05-01",),
    ),
    Case(
        "a score above the axis cap is drawn at the top and said",
        history=days_back(3.0, 90.0, 14.0),
        axis=("0", "25", "50"),
        says=("highest 90 on 2026-04-30", "above the chart's top of 50, drawn at the top"),
    ),
    Case(
        "a score a little over the headroom grows the axis",
        history=days_back(17.5, 18.0),
        says=("score 18 on 2026-05-01",),
    ),
    Case(
        "events outside the window are left out",
        history=days_back(1.0, 2.0),
        events=[
            (at(START - timedelta(days=1)), "my_comment", "out"),
            (at(START), "my_comment", "out"),
            (at(TODAY - timedelta(days=3)), "their_reply", "in"),
            (at(TODAY), "met_in_person", "both"),
            (at(TODAY + timedelta(days=1)), "their_reply", "in"),
        ],
        marks=("out", "in", "both"),
        says=("3 events: 1 from them, 1 from you, 1 together",),
    ),
    Case(
        "a missing day breaks the line",
        history=[("2026-04-20", 5.0), ("2026-04-21", 6.0), ("2026-04-25", 7.0)],
        segments=2,
    ),
    Case(
        "history before the window and after today is ignored",
        history=[("2025-01-01", 99.0), ("2026-04-30", 4.0), ("2026-05-02", 99.0)],
        says=("score 4 on 2026-04-30", "highest 4 on"),
    ),
    Case(
        "higher thresholds raise the axis",
        history=days_back(30.0),
        ready=24.0,
        leave_ready=20.0,
        axis=("0", "25", "50"),
        says=("Ready at 24, leaves ready under 20",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_score_chart(case: Case) -> None:
    svg = score_chart(
        case.history,
        today=TODAY,
        ready=case.ready,
        leave_ready=case.leave_ready,
        events=case.events,
    )
    root = parse(svg)

    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Score over the last 180 days"
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    for phrase in case.says:
        assert phrase in desc.text
    # Both thresholds, labelled, the ready one above the leave-ready one.
    assert by_class(root, "ready")[0].findtext(f"{SVG}text") == f"ready {case.ready:g}"
    assert by_class(root, "leave-ready")[0].findtext(f"{SVG}text") == (
        f"leave-ready {case.leave_ready:g}"
    )
    assert TOP <= y_of(root, "ready") < y_of(root, "leave-ready") < PLOT_BOTTOM
    axis_labels = [el.text for el in by_class(root, "axis-labels")[0] if el.tag == f"{SVG}text"]
    assert tuple(axis_labels[:3]) == case.axis
    # The score line: its runs, every point inside the plot.
    lines = by_class(root, "score-line")
    if case.segments == 0:
        assert lines == []
        assert by_class(root, "chart-empty")[0].text == "No score history yet"
    else:
        (line,) = lines
        d = line.get("d", "")
        assert d.count("M") == case.segments
        for x, y in path_points(d):
            assert LEFT <= x <= WIDTH and TOP <= y <= PLOT_BOTTOM
    assert tuple(mark.get("class", "").split()[1] for mark in event_marks(root)) == case.marks


def test_all_zeros_lie_on_the_time_axis() -> None:
    root = parse(score_chart(days_back(*[0.0] * 180), today=TODAY, ready=12, leave_ready=10))
    (line,) = by_class(root, "score-line")
    points = path_points(line.get("d", ""))
    assert len(points) == 180
    assert {y for _, y in points} == {float(PLOT_BOTTOM)}
    assert points[0][0] == LEFT and points[-1][0] == WIDTH - 104


def test_the_ready_line_sits_at_its_score() -> None:
    root = parse(score_chart(days_back(5.0), today=TODAY, ready=12, leave_ready=10))
    # Axis top 20 (12 x 1.25 = 15, rounded up to a round number): 12 is 60% of the height.
    assert y_of(root, "ready") == pytest.approx(PLOT_BOTTOM - 0.6 * (PLOT_BOTTOM - TOP), abs=0.1)


def test_events_on_one_day_stack_and_say_what_they_were() -> None:
    day = TODAY - timedelta(days=2)
    events = [(at(day, hour), "their_reply", "in") for hour in (9, 10, 11, 12)]
    root = parse(score_chart(days_back(8.0), today=TODAY, ready=12, leave_ready=10, events=events))
    marks = event_marks(root)
    assert len(marks) == 4
    heights = [float(mark[1].get("cy", "nan")) for mark in marks]
    assert heights[0] < heights[1] < heights[2] == heights[3]  # at most three rows
    assert marks[0].findtext(f"{SVG}title") == "2026-04-29: their reply (from them)"


def test_month_labels_fall_on_the_first_of_the_month() -> None:
    root = parse(score_chart([], today=TODAY, ready=12, leave_ready=10))
    labels = [el.text for el in by_class(root, "axis-labels")[0] if el.tag == f"{SVG}text"]
    # 2025-11-03 .. 2026-05-01: Dec to Apr; May 1 is today's own label.
    assert labels[3:] == ["Dec", "Jan 2026", "Feb", "Mar", "Apr", "2026-05-01"]


def test_text_from_anywhere_is_escaped() -> None:
    hostile = '</title><script>alert("x")</script>'
    svg = score_chart(
        days_back(4.0),
        today=TODAY,
        ready=12,
        leave_ready=10,
        events=[(at(TODAY), hostile, "in")],
        title=hostile,
    )
    root = parse(svg)  # still one well-formed element
    assert root.findtext(f"{SVG}title") == hostile
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert hostile not in svg


def test_the_same_input_gives_the_same_bytes() -> None:
    events = [(at(TODAY - timedelta(days=n)), "my_comment", "out") for n in (5, 1, 3)]
    first = score_chart(days_back(1, 2, 3), today=TODAY, ready=12, leave_ready=10, events=events)
    again = score_chart(
        days_back(1, 2, 3), today=TODAY, ready=12, leave_ready=10, events=events[::-1]
    )
    assert first == again


def test_an_unknown_direction_is_a_bug() -> None:
    with pytest.raises(ValueError):
        score_chart([], today=TODAY, ready=12, leave_ready=10, events=[(at(TODAY), "x", "up")])


@pytest.mark.parametrize(
    ("score", "ready", "fill", "mark", "state"),
    [
        pytest.param(0.0, 12.0, "0.0", "106.7", "below", id="nothing yet"),
        pytest.param(8.0, 12.0, "71.1", "106.7", "below", id="two thirds of the way"),
        pytest.param(12.0, 12.0, "106.7", "106.7", "ready", id="exactly ready"),
        pytest.param(90.0, 12.0, "160.0", "106.7", "ready", id="far past: full, not longer"),
        pytest.param(-1.0, 12.0, "0.0", "106.7", "below", id="a negative score is empty"),
        pytest.param(3.0, 0.0, "160.0", "0.0", "below", id="no threshold: no ready state"),
    ],
)
def test_meter_bar(score: float, ready: float, fill: str, mark: str, state: str) -> None:
    root = parse(meter_bar(score, ready))
    assert root.get("class") == f"meter {state}"
    (filled,) = by_class(root, "meter-fill")
    (tick,) = by_class(root, "meter-mark")
    assert filled.get("width") == fill
    assert tick.get("x1") == mark
    assert root.findtext(f"{SVG}title") == f"score {score:g}, ready at {ready:g}"
