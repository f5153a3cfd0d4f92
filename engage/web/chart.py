"""The score chart of a person's page and the meter bar of every row, as inline SVG.

Pure and deterministic: the same history, thresholds, events and `today` give the same
bytes, so the chart can be tested as text and diffed. Inline SVG needs no script and no
image request, so it works under the report's Content-Security-Policy, offline, and in an
e-mailed digest. The look (colours, fonts) comes from CSS classes; the shapes carry
presentation attributes as a fallback for a page without the stylesheet. Every piece of
text is escaped, so a kind or title from anywhere cannot break out of the SVG.

The axis top fits the ready threshold with room above it, and grows with the score up to
`TOP_CAP` times the threshold; a score above that is drawn at the top edge and said in the
description. A flat line at 12 under an axis scaled to a 90-point outlier would hide both
thresholds, and the thresholds are what the chart is for.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from engage.models import Direction

WIDTH = 720
HEIGHT = 250
LEFT = 36  # the score labels
RIGHT = 104  # the threshold labels
TOP = 16
PLOT_BOTTOM = 170  # the time axis
LANE = PLOT_BOTTOM + 14  # the first row of event marks
LANE_STEP = 8  # more events on one day stack, up to MAX_STACK rows
MAX_STACK = 3
DATE_LABELS = LANE + LANE_STEP * MAX_STACK + 8
LEGEND = HEIGHT - 8
TOP_CAP = 2.4  # times the highest threshold (with its headroom): about 3x "ready"
HEADROOM = 1.25

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MARK_NAMES = {Direction.IN: "from them", Direction.OUT: "from you", Direction.BOTH: "together"}

ChartEvent = tuple[datetime, str, str]  # (when, kind, direction) as in `engage events --json`
_X = Callable[[date], float]  # a day to its x coordinate
_Y = Callable[[float], float]  # a score to its y coordinate


def score_chart(
    history: Sequence[tuple[str, float]],
    *,
    today: date,
    ready: float,
    leave_ready: float,
    events: Sequence[ChartEvent] = (),
    days: int = 180,
    title: str = "Score over the last 180 days",
) -> str:
    """An `<svg>` element: the score per day for the `days` days ending `today`, the two
    thresholds as labelled lines, and the events in the window as marks under the time
    axis (a circle from them, a square from me, a diamond for both). `history` is
    `Reading.history`: (ISO date, score) per day; days it lacks leave a gap. Event times
    are placed by their own date, so pass them in the user's zone."""
    if days < 2:
        raise ValueError("a chart needs at least two days")
    start = today - timedelta(days=days - 1)
    points = _in_window(history, start, today)
    marks = [
        (when.date(), kind, Direction(direction))
        for when, kind, direction in events
        if start <= when.date() <= today
    ]
    marks.sort(key=lambda mark: (mark[0], mark[2].value, mark[1]))
    peak = max((score for _, score in points), default=0.0)
    wanted = max(ready, leave_ready, 1.0) * HEADROOM
    top = _nice_ceiling(min(max(wanted, peak), wanted * TOP_CAP))

    def x(day: date) -> float:
        return LEFT + (day - start).days * (WIDTH - LEFT - RIGHT) / (days - 1)

    def y(score: float) -> float:
        clipped = min(max(score, 0.0), top)
        return PLOT_BOTTOM - clipped * (PLOT_BOTTOM - TOP) / top

    parts = [
        f'<svg class="score-chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{_esc(title)}</title>",
        f"<desc>{_esc(_describe(points, marks, ready, leave_ready, top, start, today))}</desc>",
    ]
    parts += _axes(x, y, top, start, today)
    parts += _score(points, x, y)
    parts += [
        _threshold("ready", ready, f"ready {_num(ready)}", y, above=True),
        _threshold("leave-ready", leave_ready, f"leave-ready {_num(leave_ready)}", y, above=False),
    ]
    parts += _events(marks, x)
    if not points:
        parts.append(
            f'<text class="chart-empty" x="{_c((WIDTH - RIGHT + LEFT) / 2)}" '
            f'y="{_c((TOP + PLOT_BOTTOM) / 2)}" text-anchor="middle" fill="#6b7280">'
            "No score history yet</text>"
        )
    parts += _legend()
    parts.append("</svg>")
    return "".join(parts)


def meter_bar(score: float, ready: float, *, width: int = 160) -> str:
    """A small horizontal bar: the score against the ready threshold, whose tick sits at
    two thirds of the bar, so "nearly there" and "well past" both show."""
    full = max(ready, 1.0) * 1.5
    filled = width * min(max(score, 0.0), full) / full
    mark = width * ready / full if ready > 0 else 0.0
    state = "ready" if ready > 0 and score >= ready else "below"
    label = f"score {_num(score)}, ready at {_num(ready)}"
    return (
        f'<svg class="meter {state}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} 12" width="{width}" height="12" preserveAspectRatio="none">'
        f"<title>{_esc(label)}</title>"
        f'<rect class="meter-track" x="0" y="2" width="{width}" height="8" rx="4" '
        'fill="#e5e7eb"/>'
        f'<rect class="meter-fill" x="0" y="2" width="{_c(filled)}" height="8" rx="4" '
        'fill="#2563eb"/>'
        f'<line class="meter-mark" x1="{_c(mark)}" x2="{_c(mark)}" y1="0" y2="12" '
        'stroke="#111827" stroke-width="2"/>'
        "</svg>"
    )


def _in_window(
    history: Sequence[tuple[str, float]], start: date, today: date
) -> list[tuple[date, float]]:
    by_day: dict[date, float] = {}
    for iso, score in history:
        day = date.fromisoformat(iso)
        if start <= day <= today and math.isfinite(score):
            by_day[day] = float(score)
    return sorted(by_day.items())


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value`: round axis labels."""
    step = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * step >= value - 1e-9:
            return factor * step
    return 10.0 * step  # pragma: no cover - the loop always returns


def _axes(x: _X, y: _Y, top: float, start: date, today: date) -> list[str]:
    right = WIDTH - RIGHT
    parts = ['<g class="axes" stroke="#d1d5db" stroke-width="1">']
    for value in (0.0, top / 2, top):
        parts.append(f'<line x1="{LEFT}" x2="{right}" y1="{_c(y(value))}" y2="{_c(y(value))}"/>')
    parts.append("</g>")
    parts.append('<g class="axis-labels" fill="#6b7280">')
    for value in (0.0, top / 2, top):
        parts.append(
            f'<text x="{LEFT - 6}" y="{_c(y(value) + 4)}" text-anchor="end">{_num(value)}</text>'
        )
    for day in _month_starts(start, today):
        label = MONTHS[day.month - 1] + (f" {day.year}" if day.month == 1 else "")
        parts.append(
            f'<line class="tick" x1="{_c(x(day))}" x2="{_c(x(day))}" y1="{PLOT_BOTTOM}" '
            f'y2="{PLOT_BOTTOM + 4}" stroke="#9ca3af"/>'
            f'<text x="{_c(x(day))}" y="{DATE_LABELS}" text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<text class="chart-today" x="{right}" y="{DATE_LABELS}" text-anchor="end">'
        f"{today.isoformat()}</text>"
    )
    parts.append("</g>")
    return parts


def _month_starts(start: date, today: date) -> list[date]:
    """The first of every month inside the window, except those so close to the right
    end that their label would run into today's date."""
    firsts = []
    day = date(start.year, start.month, 1)
    while day <= today:
        if day >= start and (today - day).days >= 20:
            firsts.append(day)
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return firsts


def _score(points: list[tuple[date, float]], x: _X, y: _Y) -> list[str]:
    if not points:
        return []
    runs: list[list[tuple[date, float]]] = [[points[0]]]
    for previous, point in itertools.pairwise(points):
        if (point[0] - previous[0]).days == 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    line = []
    area = []
    for run in runs:
        coords = [f"{_c(x(day))} {_c(y(score))}" for day, score in run]
        line.append("M" + " L".join(coords))
        first, last = x(run[0][0]), x(run[-1][0])
        base = _c(y(0.0))
        area.append(f"M{_c(first)} {base} L" + " L".join(coords) + f" L{_c(last)} {base} Z")
    latest_day, latest = points[-1]
    return [
        f'<path class="score-area" d="{" ".join(area)}" fill="#dbeafe" stroke="none"/>',
        f'<path class="score-line" d="{" ".join(line)}" fill="none" stroke="#2563eb" '
        'stroke-width="2" stroke-linejoin="round"/>',
        f'<circle class="score-now" cx="{_c(x(latest_day))}" cy="{_c(y(latest))}" r="3.5" '
        f'fill="#2563eb"><title>{latest_day.isoformat()}: score {_num(latest)}</title>'
        "</circle>",
    ]


def _threshold(name: str, value: float, label: str, y: _Y, *, above: bool) -> str:
    at = y(value)
    text_y = at - 4 if above else at + 12
    return (
        f'<g class="threshold {name}">'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_c(at)}" y2="{_c(at)}" '
        'stroke="#059669" stroke-width="1.5" stroke-dasharray="6 4"/>'
        f'<text x="{WIDTH - RIGHT + 6}" y="{_c(text_y)}" fill="#047857">{_esc(label)}</text>'
        "</g>"
    )


def _events(marks: list[tuple[date, str, Direction]], x: _X) -> list[str]:
    parts = ['<g class="events">']
    stacked: dict[date, int] = {}
    for day, kind, direction in marks:
        row = min(stacked.get(day, 0), MAX_STACK - 1)
        stacked[day] = row + 1
        tip = f"{day.isoformat()}: {kind.replace('_', ' ')} ({MARK_NAMES[direction]})"
        parts.append(
            f'<g class="event {direction.value}"><title>{_esc(tip)}</title>'
            f"{_mark(direction, x(day), LANE + row * LANE_STEP)}</g>"
        )
    parts.append("</g>")
    return parts


def _mark(direction: Direction, cx: float, cy: float) -> str:
    if direction is Direction.IN:
        return f'<circle cx="{_c(cx)}" cy="{_c(cy)}" r="3.5" fill="#059669"/>'
    if direction is Direction.OUT:
        return f'<rect x="{_c(cx - 3)}" y="{_c(cy - 3)}" width="6" height="6" fill="#2563eb"/>'
    return (
        f'<path d="M{_c(cx)} {_c(cy - 4.5)} L{_c(cx + 4.5)} {_c(cy)} L{_c(cx)} {_c(cy + 4.5)} '
        f'L{_c(cx - 4.5)} {_c(cy)} Z" fill="#d97706"/>'
    )


def _legend() -> list[str]:
    parts = [f'<g class="legend" fill="#6b7280" transform="translate({LEFT} {LEGEND})">']
    offset = 0
    for direction in (Direction.IN, Direction.OUT, Direction.BOTH):
        parts.append(
            f'<g class="event {direction.value}">{_mark(direction, offset + 4, -4)}</g>'
            f'<text x="{offset + 12}" y="0">{MARK_NAMES[direction]}</text>'
        )
        offset += 90
    parts.append("</g>")
    return parts


def _describe(
    points: list[tuple[date, float]],
    marks: list[tuple[date, str, Direction]],
    ready: float,
    leave_ready: float,
    top: float,
    start: date,
    today: date,
) -> str:
    window = f"From {start.isoformat()} to {today.isoformat()}"
    if points:
        day, score = points[-1]
        said = f"{window}: score {_num(score)} on {day.isoformat()}"
        peak_day, peak = max(points, key=lambda point: (point[1], point[0]))
        said += f", highest {_num(peak)} on {peak_day.isoformat()}"
        if peak > top:
            said += f" (above the chart's top of {_num(top)}, drawn at the top)"
    else:
        said = f"{window}: no score history yet"
    said += f". Ready at {_num(ready)}, leaves ready under {_num(leave_ready)}."
    counts = {direction: 0 for direction in Direction}
    for _, _, direction in marks:
        counts[direction] += 1
    total = sum(counts.values())
    noun = "event" if total == 1 else "events"
    said += f" {total} {noun}: " + ", ".join(
        f"{counts[direction]} {MARK_NAMES[direction]}" for direction in MARK_NAMES
    )
    return said + "."


def _c(value: float) -> str:
    """A coordinate: one decimal, so the output is stable and small."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _num(value: float) -> str:
    """A score as people read it: 12, 12.5, 8.6."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
