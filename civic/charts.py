"""Server-rendered SVG charts: the geometry only (coordinates, ticks, paths), as plain data a
template draws with classes (no inline script or style, so the strictest CSP holds).

Pure: imports nothing from Django or the apps. Coordinates come out as strings with one decimal
("12.5") so a template never localizes them ("12,5" would break the SVG); values (counts,
datetimes) stay numbers and datetimes for the template to format in the reader's language.
Every chart drawn from this module sits beside a table holding the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

# "Nice" time steps, in seconds: bucket widths and axis ticks are picked from these.
NICE_TIME_STEPS: tuple[int, ...] = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
)  # fmt: skip
CHART_WIDTH = 560
CHART_HEIGHT = 220
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 12
MARGIN_BOTTOM = 34
MAX_X_TICKS = 5
ANCHOR_MARK = 14
MAX_Y_TICKS = 4


def coordinate(value: float) -> str:
    """An SVG coordinate as text, never localized: ``12.5``."""
    return f"{value:.1f}"


def nice_time_step(span_seconds: float, max_count: int) -> int:
    """The smallest nice step (seconds) that cuts ``span_seconds`` into at most ``max_count``."""
    for step in NICE_TIME_STEPS:
        if span_seconds / step <= max_count:
            return step
    return math.ceil(span_seconds / max_count / NICE_TIME_STEPS[-1]) * NICE_TIME_STEPS[-1]


def aligned_edges(start: datetime, end: datetime, step: int, zone: tzinfo) -> list[datetime]:
    """``start``, then every multiple of ``step`` seconds in ``zone``'s wall clock after it (so
    daily steps fall on local midnights), then ``end``: the edges of the buckets."""
    edges = [start]
    offset = (start.astimezone(zone).utcoffset() or timedelta()).total_seconds()
    local = start.timestamp() + offset
    tick = (math.floor(local / step) + 1) * step - offset
    while True:
        at = datetime.fromtimestamp(tick, UTC)
        if at >= end:
            break
        edges.append(at)
        tick += step
    if end > start:
        edges.append(end)
    return edges


def nice_value_step(top: int, max_count: int) -> int:
    """1, 2 or 5 times a power of ten, at least 1, cutting ``top`` into at most ``max_count``."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if top / step <= max_count:
                return step
        magnitude *= 10


def time_label_format(step_seconds: int, span_seconds: float = 0) -> str:
    """The Django date format of times ``step_seconds`` apart over ``span_seconds``: seconds when
    the step is shorter than a minute, the day too when the span is longer than one."""
    if step_seconds < 60:
        return "H:i:s"
    if step_seconds < 86400:
        return "j M H:i" if span_seconds > 86400 else "H:i"
    return "j M"


@dataclass(frozen=True)
class Point:
    """One observation: ``value`` at ``at``; ``marks`` name markers drawn there (e.g. witnessed)."""

    at: datetime
    value: int
    marks: frozenset[str] = field(default_factory=frozenset)


def time_chart(
    points: Sequence[Point],
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    step: bool = False,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
) -> dict[str, Any]:
    """A line (or, with ``step``, a step line held until the next point and to ``end``) of
    ``points`` over time from ``start`` to ``end``, with nice ticks on both axes, and a marker
    position for every point that has marks."""
    if end <= start:
        end = start + timedelta(seconds=1)
    left, top = MARGIN_LEFT, MARGIN_TOP
    right, bottom = width - MARGIN_RIGHT, height - MARGIN_BOTTOM
    span = (end - start).total_seconds()
    highest = max((p.value for p in points), default=0)
    y_step = nice_value_step(max(highest, 1), MAX_Y_TICKS)
    y_top = max(math.ceil(highest / y_step), 1) * y_step

    def x_of(at: datetime) -> float:
        fraction = min(max((at - start).total_seconds() / span, 0.0), 1.0)
        return left + fraction * (right - left)

    def y_of(value: float) -> float:
        return bottom - value / y_top * (bottom - top)

    ordered = sorted(points, key=lambda p: p.at)
    commands: list[str] = []
    previous_y: float | None = None
    for point in ordered:
        x, y = x_of(point.at), y_of(point.value)
        if not commands:
            commands.append(f"M{coordinate(x)} {coordinate(y)}")
        elif step and previous_y is not None:
            commands.append(f"H{coordinate(x)} V{coordinate(y)}")
        else:
            commands.append(f"L{coordinate(x)} {coordinate(y)}")
        previous_y = y
    if step and commands:
        commands.append(f"H{coordinate(right)}")

    tick_step = nice_time_step(span, MAX_X_TICKS)
    x_ticks = [
        {"x": coordinate(x_of(at)), "at": at}
        for at in aligned_edges(start, end, tick_step, zone)[1:-1]
    ]
    if not x_ticks:  # too short a span for an aligned tick: label both ends
        x_ticks = [{"x": coordinate(left), "at": start}, {"x": coordinate(right), "at": end}]
    y_ticks = [
        {"y": coordinate(y_of(value)), "value": value} for value in range(0, y_top + 1, y_step)
    ]
    marks = [
        {
            "x": coordinate(x_of(p.at)),
            "y": coordinate(y_of(p.value)),
            # corner of the anchored marker's square (14 x 14, centred on the point: a witnessed
            # circle drawn on it leaves a frame of the square showing)
            "x0": coordinate(x_of(p.at) - ANCHOR_MARK / 2),
            "y0": coordinate(y_of(p.value) - ANCHOR_MARK / 2),
            "marks": sorted(p.marks),
            "at": p.at,
            "value": p.value,
        }
        for p in ordered
        if p.marks
    ]
    return {
        "width": width,
        "height": height,
        "left": coordinate(left),
        "right": coordinate(right),
        "top": coordinate(top),
        "bottom": coordinate(bottom),
        "label_y": coordinate(bottom + 18),
        "y_label_x": coordinate(left - 6),
        "path": " ".join(commands),
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "marks": marks,
        "tick_format": time_label_format(tick_step, span),
        "start": start,
        "end": end,
        "y_top": y_top,
    }


def step_points(values: Iterable[tuple[datetime, int]]) -> list[Point]:
    """Points without marks from ``(at, value)`` pairs."""
    return [Point(at, value) for at, value in values]


# -- bar charts (the results page) -----------------------------------------------------------------
BAR_HEIGHT = 28
BAR_WIDTH = 480


def bar_chart(options: Sequence[dict[str, Any]], top: int) -> dict[str, Any]:
    """A horizontal bar per option (``count``), labels above the bars so long titles never clip."""
    rows = []
    top = top or 1
    for i, option in enumerate(options):
        y = i * (2 * BAR_HEIGHT)
        length = round(BAR_WIDTH * option["count"] / top, 1)
        rows.append(
            {
                **option,
                "label_y": coordinate(y + 16),
                "bar_y": coordinate(y + 20),
                "value_y": coordinate(y + 34),
                "width": coordinate(length),
                "value_x": coordinate(length + 6),
            }
        )
    return {
        "rows": rows,
        "height": len(rows) * 2 * BAR_HEIGHT + 8,
        "width": BAR_WIDTH + 80,
        "bar": BAR_HEIGHT - 10,
    }
