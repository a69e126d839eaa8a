"""The KPIs over time, for the operator console and the monthly report. No DB, no Ray.

* Timeliness per hour: p50/p95 of the publication delay of the products published in each
  hour, per product type; the histogram edges of the delays (domain/kpi_rollup.py adds them
  up per hour).
* Completeness per day: products published, quarantined, granules missing from the
  Level-0 datastrips published that day (detectors of the 12 that never arrived), and
  products of the types OLQC inspects published that day still without an OLQC report.
* Availability: the outages (runs of failed probes) and the slots of the probe timeline.
* Targets: which KPI misses its target in a window (a *breach*).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Histogram edges of the publication delay, in seconds: a bar per range, the last open.
DELAY_EDGES: tuple[float, ...] = (
    0, 60, 300, 600, 900, 1800, 2700, 3600, 5400, 7200, 10800, 21600, 43200, 86400,
)  # fmt: skip
DETECTORS = tuple(f"D{n:02d}" for n in range(1, 13))
Changes = list[tuple[datetime, bool]]  # probes (time, ok) whose outcome changed
ProbeHour = tuple[int, int, Changes]  # good, failed, the probes whose outcome changed


def hour_of(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def day_of(when: datetime) -> datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class HourPoint:
    hour: datetime
    product_type: str
    count: int
    p50_s: float
    p95_s: float


def bin_of(delay_s: float) -> int:
    """Index of the histogram bar of a delay: the last edge not above it."""
    index = 0
    for i, edge in enumerate(DELAY_EDGES):
        if delay_s >= edge:
            index = i
    return index


@dataclass(frozen=True)
class Incomplete:
    """A published Level-0 datastrip some of whose detectors' granules never arrived."""

    datastrip: str
    published: datetime
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Unreported:
    """A published product of a type OLQC inspects with no OLQC report linked to it."""

    name: str
    published: datetime


@dataclass(frozen=True)
class OlqcExpected:
    """The product types OLQC inspects, and how long after a product's publication its
    report may still be on its way before the report counts as missing."""

    product_types: frozenset[str]
    grace: timedelta


@dataclass(frozen=True)
class DayCompleteness:
    day: datetime
    published: int
    quarantined: int
    missing: int  # granules (detectors) missing from the datastrips published that day
    unreported: int = 0  # products published that day still without their OLQC report


def daily_completeness(
    published: Mapping[datetime, int],
    quarantined: Mapping[datetime, int],
    incomplete: Sequence[Incomplete],
    since: datetime,
    until: datetime,
    unreported: Mapping[datetime, int] | None = None,
) -> list[DayCompleteness]:
    """One row per day of the window, days without anything included (a gap is news)."""
    missing: Counter[datetime] = Counter()
    for strip in incomplete:
        missing[day_of(strip.published)] += len(strip.missing)
    without = unreported or {}
    rows, day = [], day_of(since)
    while day < until:
        rows.append(
            DayCompleteness(
                day,
                published.get(day, 0),
                quarantined.get(day, 0),
                missing[day],
                without.get(day, 0),
            )
        )
        day += timedelta(days=1)
    return rows


@dataclass(frozen=True)
class Outage:
    start: datetime  # the first failed probe
    end: datetime  # the first good probe after it, or the last probe of the window

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def outages(probes: Sequence[tuple[datetime, bool]]) -> list[Outage]:
    """Runs of failed probes, in time order (``probes`` in time order). Only the probes
    whose outcome changed, and the last, matter: the DB sends just those for a month."""
    found: list[Outage] = []
    start = None
    for when, ok in probes:
        if not ok:
            start = start or when
        elif start is not None:
            found.append(Outage(start, when))
            start = None
    if start is not None:
        found.append(Outage(start, probes[-1][0]))
    return found


@dataclass(frozen=True)
class Slot:
    start: datetime
    ok: int
    failed: int


@dataclass(frozen=True)
class Targets:
    """What the contract asks: p95 delay per product type (``default`` for the others),
    the share of received products published, the share of good probes."""

    timeliness_s: Mapping[str, float]
    completeness: float
    availability: float

    def timeliness_of(self, product_type: str) -> float:
        return self.timeliness_s.get(product_type, self.timeliness_s.get("default", 3600.0))


@dataclass(frozen=True)
class Breach:
    kpi: str  # timeliness | completeness | availability
    subject: str  # the product type, or "all"
    value: float
    target: float


def breaches(
    p95_by_type: Mapping[str, float],
    completeness_ratio: float | None,
    availability_ratio: float | None,
    targets: Targets,
) -> list[Breach]:
    """The KPIs that miss their target; a KPI with nothing to measure misses nothing."""
    found = [
        Breach("timeliness", t, p95, targets.timeliness_of(t))
        for t, p95 in sorted(p95_by_type.items())
        if p95 > targets.timeliness_of(t)
    ]
    if completeness_ratio is not None and completeness_ratio < targets.completeness:
        found.append(Breach("completeness", "all", completeness_ratio, targets.completeness))
    if availability_ratio is not None and availability_ratio < targets.availability:
        found.append(Breach("availability", "all", availability_ratio, targets.availability))
    return found
