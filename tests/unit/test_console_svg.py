"""The console's SVG plots: one mark per figure, each with its tooltip, text escaped, and a
viewBox so a plot scales to its column."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from prip_ray.console.plots import duration, volume
from prip_ray.console.svg import Bar, Point, Stack, bar_chart, line_chart, stacked_bars, timeline

NS = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the text is well-formed XML


def test_bars_carry_values_and_tooltips() -> None:
    bars = [Bar("a", 3, "a: 3 <products>"), Bar("b", 0, "b: 0"), Bar("c", 7, "c", over=True)]
    root = parsed(bar_chart("hist", bars))
    rects = root.findall(f"{NS}rect")
    assert [r.get("data-value") for r in rects] == ["3", "0", "7"]
    assert rects[0].find(f"{NS}title").text == "a: 3 <products>"
    assert rects[2].get("fill") != rects[0].get("fill")  # beyond the target shows
    assert root.get("viewBox") and root.get("width") == "100%"
    heights = [float(r.get("height")) for r in rects]
    assert heights[2] > heights[0] > heights[1] == 0


def test_stacks_and_lines_and_timeline() -> None:
    stacks = [Stack("d1", (("published", 5), ("missing", 2)), "day 1")]
    parts = parsed(stacked_bars("days", stacks)).findall(f"{NS}rect")
    assert [p.get("data-series") for p in parts] == ["published", "missing"]
    points = [Point(T0 + timedelta(hours=h), v, f"h{h}") for h, v in ((0, 1.0), (1, 4.0))]
    root = parsed(line_chart("trend", {"p95": points}, T0, T0 + timedelta(hours=2), 3.0))
    circles = root.findall(f"{NS}circle")
    assert [c.find(f"{NS}title").text for c in circles] == ["h0", "h1"]
    assert float(circles[0].get("cx")) < float(circles[1].get("cx"))
    assert root.find(f"{NS}line[@class='target']") is not None
    slots = parsed(timeline("t", [("ok", "1"), ("failed", "2"), ("none", "3")]))
    assert [s.get("data-state") for s in slots.findall(f"{NS}rect")] == ["ok", "failed", "none"]


def test_empty_plots_say_so() -> None:
    assert "nothing in this period" in bar_chart("x", [])
    assert "nothing in this period" in line_chart("x", {"p50": []}, T0, T0 + timedelta(hours=1))


def test_durations_read_as_an_operator_reads_them() -> None:
    assert [duration(s) for s in (45, 750, 4 * 3600, 3 * 86400)] == [
        "45 s",
        "12.5 min",
        "4.0 h",
        "3.0 d",
    ]


def test_volumes_read_in_the_unit_that_fits() -> None:
    assert [volume(v) for v in (512, 3_400_000, 12e12, 2.5e15)] == [
        "512 B", "3.4 MB", "12.0 TB", "2500.0 TB",
    ]  # fmt: skip
