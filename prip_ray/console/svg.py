"""Plots as SVG text, built server-side: the console works on a network with no internet
(no CDN, no script). Each mark carries a ``<title>`` (the browser's tooltip) with its exact
figure, and a ``data-*`` attribute that says what it is, so a reader and a test can tell.

Every plot has a ``viewBox`` and ``width="100%"``: it scales to its column, so the page fits
a laptop screen without scrolling sideways.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 600, 220
MAX_DOTS = 200  # a dot (with its tooltip) per point up to this many points in a line
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 12, 34  # room for the axes' labels
COLOURS = {
    "published": "#2e7d32", "quarantined": "#ef6c00", "missing": "#c62828",
    "unreported": "#8e24aa",
    "ok": "#43a047", "failed": "#e53935", "none": "#cfd8dc", "target": "#6a1b9a",
    "p50": "#1e88e5", "p95": "#d81b60", "bar": "#546e7a", "over": "#e53935",
}  # fmt: skip


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar (shown for some bars only when many)
    value: float
    title: str  # the tooltip
    over: bool = False  # beyond the target: drawn in the alarm colour


@dataclass(frozen=True)
class Stack:
    label: str
    parts: tuple[tuple[str, float], ...]  # (series, value) bottom to top
    title: str


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    title: str


def _open(kind: str, label: str) -> str:
    return (
        f'<svg class="plot" data-plot="{escape(kind)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    )


def _scale(top: float) -> float:
    """A round upper bound for the y axis."""
    if top <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _axes(top: float, unit: str) -> list[str]:
    bottom = HEIGHT - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#90a4ae"/>',
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#90a4ae"/>',
    ]
    for fraction in (0, 0.5, 1):
        y = _y(top * fraction, top)
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_number(top * fraction)}{escape(unit)}</text>"
        )
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"


def _target_line(target: float | None, top: float, label: str) -> list[str]:
    if target is None or target > top:
        return []
    y = _y(target, top)
    return [
        f'<line class="target" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
        f'stroke="{COLOURS["target"]}" stroke-dasharray="6 3">'
        f"<title>{escape(label)}</title></line>"
    ]


def _labels(labels: Sequence[str], x_of: Sequence[float]) -> list[str]:
    """At most ~8 labels under the x axis, evenly picked, so they never overlap."""
    every = max(1, -(-len(labels) // 8))
    return [
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="{_anchor(x)}" '
        f'font-size="10">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, x_of, strict=True))
        if i % every == 0
    ]


def _anchor(x: float) -> str:
    """Labels at the plot's edges grow inwards, so none is cut off by the viewBox."""
    if x > WIDTH - RIGHT - 30:
        return "end"
    return "start" if x < LEFT + 30 else "middle"


def empty(kind: str, message: str) -> str:
    return (
        _open(kind, message)
        + f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="14" '
        f'fill="#607d8b">{escape(message)}</text></svg>'
    )


def bar_chart(kind: str, bars: Sequence[Bar], unit: str = "") -> str:
    """Vertical bars, one per entry (a histogram, a throughput per hour)."""
    if not bars:
        return empty(kind, "nothing in this period")
    top = _scale(max(b.value for b in bars))
    slot = (WIDTH - LEFT - RIGHT) / len(bars)
    parts = [_open(kind, kind), *_axes(top, unit)]
    centres = []
    for i, bar in enumerate(bars):
        x, y = LEFT + i * slot, _y(bar.value, top)
        colour = COLOURS["over"] if bar.over else COLOURS["bar"]
        parts.append(
            f'<rect class="bar" data-value="{bar.value:g}" data-over="{str(bar.over).lower()}" '
            f'x="{x + slot * 0.1:.1f}" '
            f'y="{y:.1f}" width="{slot * 0.8:.1f}" height="{HEIGHT - BOTTOM - y:.1f}" '
            f'fill="{colour}"><title>{escape(bar.title)}</title></rect>'
        )
        centres.append(x + slot / 2)
    parts += _labels([b.label for b in bars], centres)
    return "".join(parts) + "</svg>"


def stacked_bars(kind: str, stacks: Sequence[Stack]) -> str:
    """One bar per entry, its parts stacked (published, quarantined, missing per day)."""
    if not stacks:
        return empty(kind, "nothing in this period")
    top = _scale(max(sum(v for _, v in s.parts) for s in stacks))
    slot = (WIDTH - LEFT - RIGHT) / len(stacks)
    parts = [_open(kind, kind), *_axes(top, "")]
    centres = []
    for i, stack in enumerate(stacks):
        x, base = LEFT + i * slot, 0.0
        for series, value in stack.parts:
            if value <= 0:
                continue
            y0, y1 = _y(base, top), _y(base + value, top)
            parts.append(
                f'<rect class="part" data-series="{escape(series)}" data-value="{value:g}" '
                f'x="{x + slot * 0.1:.1f}" y="{y1:.1f}" width="{slot * 0.8:.1f}" '
                f'height="{y0 - y1:.1f}" fill="{COLOURS.get(series, COLOURS["bar"])}">'
                f"<title>{escape(stack.title)}</title></rect>"
            )
            base += value
        centres.append(x + slot / 2)
    parts += _labels([s.label for s in stacks], centres)
    return "".join(parts) + "</svg>"


def line_chart(
    kind: str,
    series: Mapping[str, Sequence[Point]],
    since: datetime,
    until: datetime,
    target: float | None = None,
    unit: str = "",
) -> str:
    """Lines over time with a dot per point (each with its tooltip); the target dashed."""
    points = [p for line in series.values() for p in line]
    if not points:
        return empty(kind, "nothing in this period")
    top = _scale(max([p.value for p in points] + [target or 0]))
    span = (until - since).total_seconds() or 1.0

    def x_of(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (at - since).total_seconds() / span

    parts = [_open(kind, kind), *_axes(top, unit)]
    parts += _target_line(target, top, f"target {_number(target or 0)}{unit}")
    for name, line in series.items():
        colour = COLOURS.get(name, COLOURS["bar"])
        path = " ".join(f"{x_of(p.at):.1f},{_y(p.value, top):.1f}" for p in line)
        parts.append(
            f'<polyline data-series="{escape(name)}" data-points="{len(line)}" '
            f'points="{path}" fill="none" stroke="{colour}"/>'
        )
        if len(line) > MAX_DOTS:  # too close to point at: the line alone (the page stays small)
            continue
        parts += [
            f'<circle class="point" data-series="{escape(name)}" data-value="{p.value:g}" '
            f'cx="{x_of(p.at):.1f}" cy="{_y(p.value, top):.1f}" r="2.5" fill="{colour}">'
            f"<title>{escape(p.title)}</title></circle>"
            for p in line
        ]
    ticks = [since + (until - since) * i / 4 for i in range(5)]
    parts += _labels([f"{t:%m-%d %H:%M}" for t in ticks], [x_of(t) for t in ticks])
    return "".join(parts) + "</svg>"


def timeline(kind: str, slots: Sequence[tuple[str, str]]) -> str:
    """A strip of equal slots coloured by state (``ok``, ``failed``, ``none``), each with its
    tooltip (``slots``: (state, tooltip))."""
    if not slots:
        return empty(kind, "no probes in this period")
    height = 40
    width = (WIDTH - 20) / len(slots)
    parts = [
        f'<svg class="plot" data-plot="{escape(kind)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{escape(kind)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (state, title) in enumerate(slots):
        parts.append(
            f'<rect class="slot" data-state="{escape(state)}" x="{10 + i * width:.2f}" y="4" '
            f'width="{max(width - 0.5, 0.5):.2f}" height="32" fill="{COLOURS[state]}">'
            f"<title>{escape(title)}</title></rect>"
        )
    return "".join(parts) + "</svg>"
