"""The console's plots, drawn from the KPI figures (services/kpi.py) with console/svg.py."""

from __future__ import annotations

from datetime import datetime

from prip_ray.console.svg import (
    MAX_DOTS,
    Bar,
    Point,
    Stack,
    bar_chart,
    line_chart,
    stacked_bars,
    timeline,
)
from prip_ray.domain.kpi_figures import KpiFigures
from prip_ray.domain.kpi_series import DELAY_EDGES, HourPoint


def duration(seconds: float) -> str:
    """A delay as an operator reads it: 45 s, 12.5 min, 3.2 h, 1.5 d."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def volume(size: float) -> str:
    """Bytes in the unit that reads best: 512 B, 3.4 MB, 12.0 TB (powers of 1000)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"


def _edge_label(index: int) -> str:
    low = DELAY_EDGES[index]
    if index + 1 == len(DELAY_EDGES):
        return f"≥{duration(low)}"
    return f"{duration(low)} to {duration(DELAY_EDGES[index + 1])}"


def delay_histogram(figures: KpiFigures, product_type: str) -> str:
    """The delays of one product type, a bar per range; ranges beyond the target in red."""
    counts = figures.histogram.get(product_type, [])
    target = figures.targets.timeliness_of(product_type)
    bars = [
        Bar(
            duration(DELAY_EDGES[i]),
            count,
            f"{product_type} {_edge_label(i)}: {count} products",
            over=DELAY_EDGES[i] >= target,
        )
        for i, count in enumerate(counts)
    ]
    return bar_chart(f"delay-histogram {product_type}", bars)


def percentile_trend(figures: KpiFigures, product_type: str) -> str:
    """p50 and p95 of each hour's delays of one product type, against the target."""
    hours = [p for p in figures.hourly if p.product_type == product_type]
    dotted = len(hours) <= MAX_DOTS  # no tooltips are drawn beyond: none are written
    series = {
        name: [
            Point(p.hour, getattr(p, f"{name}_s") / 60, _trend_title(p, name) if dotted else "")
            for p in hours
        ]
        for name in ("p50", "p95")
    }
    target = figures.targets.timeliness_of(product_type) / 60
    return line_chart(
        f"delay-trend {product_type}", series, figures.since, figures.until, target, " min"
    )


def _trend_title(point: HourPoint, name: str) -> str:
    value = duration(getattr(point, f"{name}_s"))
    return f"{point.hour:%Y-%m-%d %H}h {name} {value} ({point.count} products)"


def daily_completeness(figures: KpiFigures) -> str:
    stacks = [
        Stack(
            f"{d.day:%m-%d}",
            (
                ("published", d.published),
                ("quarantined", d.quarantined),
                ("missing", d.missing),
                ("unreported", d.unreported),
            ),
            f"{d.day:%Y-%m-%d}: {d.published} published, {d.quarantined} quarantined, "
            f"{d.missing} granules missing"
            + (f", {d.unreported} without OLQC report" if figures.olqc else ""),
        )
        for d in figures.daily
    ]
    return stacked_bars("completeness-daily", stacks)


def probe_timeline(figures: KpiFigures) -> str:
    slots = []
    for slot in figures.timeline:
        state = "none" if not slot.ok + slot.failed else "failed" if slot.failed else "ok"
        slots.append(
            (state, f"{slot.start:%Y-%m-%d %H:%M}: {slot.ok} ok, {slot.failed} failed probes")
        )
    return timeline("availability-timeline", slots)


def throughput(figures: KpiFigures) -> str:
    """Products published per hour (per day over windows longer than four days)."""
    per: dict[datetime, int] = {}
    daily = (figures.until - figures.since).days > 4
    for hour, count in figures.published_per_hour.items():
        key = hour.replace(hour=0) if daily else hour
        per[key] = per.get(key, 0) + count
    fmt = "%m-%d" if daily else "%H:00"
    unit = "day" if daily else "hour"
    bars = [
        Bar(f"{at:{fmt}}", n, f"{at:%Y-%m-%d %H:00}: {n} published in the {unit}")
        for at, n in sorted(per.items())
    ]
    return bar_chart("throughput", bars)
