"""civic.charts: nice steps, buckets aligned to the city's clock, and the geometry of a time chart
(coordinates as unlocalized text, ticks, a step line, markers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from civic import charts

OSLO = ZoneInfo("Europe/Oslo")
T0 = datetime(2026, 3, 2, 9, 7, 30, tzinfo=UTC)  # 10:07:30 in Oslo


def test_nice_steps() -> None:
    assert charts.nice_time_step(40, 48) == 1
    assert charts.nice_time_step(600, 48) == 15
    assert charts.nice_time_step(30 * 86400, 48) == 86400
    assert charts.nice_time_step(10_000 * 86400, 48) % (30 * 86400) == 0
    assert [charts.nice_value_step(top, 4) for top in (1, 3, 7, 20, 41, 999)] == [
        1,
        1,
        2,
        5,
        20,
        500,
    ]


def test_edges_start_and_end_exactly_and_fall_on_the_local_clock() -> None:
    edges = charts.aligned_edges(T0, T0 + timedelta(minutes=20), 300, OSLO)
    assert edges[0] == T0 and edges[-1] == T0 + timedelta(minutes=20)
    assert [e.astimezone(OSLO).strftime("%H:%M") for e in edges[1:-1]] == [
        "10:10", "10:15", "10:20", "10:25",
    ]  # fmt: skip
    days = charts.aligned_edges(T0, T0 + timedelta(days=3), 86400, OSLO)
    assert [e.astimezone(OSLO).strftime("%d %H:%M") for e in days[1:-1]] == [
        "03 00:00", "04 00:00", "05 00:00",
    ]  # fmt: skip


def test_time_chart_geometry() -> None:
    points = [
        charts.Point(T0, 0),
        charts.Point(T0 + timedelta(minutes=5), 3, frozenset({"witnessed"})),
        charts.Point(T0 + timedelta(minutes=10), 7, frozenset({"witnessed", "anchored"})),
    ]
    chart = charts.time_chart(points, T0, T0 + timedelta(minutes=20), OSLO, step=True)
    left, right = float(chart["left"]), float(chart["right"])
    top, bottom = float(chart["top"]), float(chart["bottom"])
    # y axis: nice ticks up to 8 (7 rounded up to a multiple of 2), 0 at the bottom
    assert [t["value"] for t in chart["y_ticks"]] == [0, 2, 4, 6, 8] and chart["y_top"] == 8
    assert chart["y_ticks"][0]["y"] == chart["bottom"] and chart["y_ticks"][-1]["y"] == chart["top"]
    # a step line: held flat until the next point, then up; held to the right edge at the end
    x5 = left + (right - left) / 4
    y3 = bottom - 3 / 8 * (bottom - top)
    assert chart["path"].startswith(f"M{left:.1f} {bottom:.1f} H{x5:.1f} V{y3:.1f} ")
    assert chart["path"].endswith(f"H{right:.1f}")
    assert [m["marks"] for m in chart["marks"]] == [["witnessed"], ["anchored", "witnessed"]]
    assert chart["marks"][0]["x"] == f"{x5:.1f}" and chart["marks"][0]["y"] == f"{y3:.1f}"
    # ticks every 5 minutes on the local clock, labelled hours and minutes
    assert chart["tick_format"] == "H:i"
    assert [t["at"].astimezone(OSLO).strftime("%H:%M") for t in chart["x_ticks"]] == [
        "10:10", "10:15", "10:20", "10:25",
    ]  # fmt: skip
    # every coordinate is plain text with a point, whatever the language
    assert all("," not in t["x"] for t in chart["x_ticks"])


def test_an_empty_or_instant_chart_still_draws() -> None:
    chart = charts.time_chart([], T0, T0, OSLO)
    assert chart["path"] == "" and chart["y_top"] == 1 and len(chart["x_ticks"]) == 2
    assert (
        charts.time_label_format(1) == "H:i:s"
        and charts.time_label_format(60, 2 * 86400) == "j M H:i"
    )


def test_bar_chart() -> None:
    chart = charts.bar_chart([{"title": "Yes", "count": 2}, {"title": "No", "count": 1}], 2)
    assert [r["width"] for r in chart["rows"]] == ["480.0", "240.0"]
    assert chart["height"] == 2 * 2 * charts.BAR_HEIGHT + 8
    assert charts.bar_chart([{"title": "Yes", "count": 0}], 0)["rows"][0]["width"] == "0.0"
