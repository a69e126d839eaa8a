"""The timeliness and completeness figures of one hour and one product type, in a form that
adds up: a month of KPIs is read from ~720 hours x types rows instead of a million products.

* Per hour, p50/p95/max of the delays are exact.
* Over a window, percentiles come from the hours' delay buckets merged: buckets 1% wide on a
  log scale, each holding its count and its largest delay; the nearest-rank value is the
  largest delay of the bucket it falls in, so it is a delay that happened, at most 1% above
  the exact figure, never below it.
* Level-0 datastrips and the detectors of their granules are kept per hour by datastrip
  key, and merged over the window: a granule published hours after its datastrip still
  counts for it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prip_ray.domain.kpi import DatastripCompleteness, percentile
from prip_ray.domain.kpi_series import DELAY_EDGES, DETECTORS, Incomplete, bin_of, hour_of
from prip_ray.domain.naming import parse_name
from prip_ray.errors import InvalidProductName

GROWTH = math.log(1.01)
ALL_TYPES = "*"  # the marker row of an hour rolled up, products or not
Day = tuple[datetime, str]  # (day, product type)


def bucket_of(delay_s: float) -> int:
    """0 for delays under a second (or negative: clocks disagree), then 1% wide buckets."""
    return 0 if delay_s < 1 else 1 + int(math.log(delay_s) / GROWTH)


@dataclass
class Strip:
    """What one hour (or a window) saw of a Level-0 datastrip."""

    name: str | None = None  # the datastrip product, once published
    published: datetime | None = None
    granules: int = 0
    detectors: set[str] = field(default_factory=set)

    def merge(self, other: Strip) -> None:
        if other.name is not None:
            self.name, self.published = other.name, other.published
        self.granules += other.granules
        self.detectors |= other.detectors


@dataclass
class HourRollup:
    hour: datetime
    product_type: str
    published: int = 0
    p50_s: float = 0.0
    p95_s: float = 0.0
    max_s: float = 0.0
    bins: list[int] = field(default_factory=lambda: [0] * len(DELAY_EDGES))  # the histogram
    buckets: dict[int, list[float]] = field(default_factory=dict)  # bucket: [count, max]
    strips: dict[str, Strip] = field(default_factory=dict)  # Level-0 types only


def roll_up(
    delays: Iterable[tuple[datetime, str, float]], named: Iterable[tuple[str, datetime]]
) -> list[HourRollup]:
    """Rollups of the (publication time, type, delay) of products, and of the (name,
    publication time) of Level-0 ones, per hour and product type."""
    values: dict[tuple[datetime, str], list[float]] = defaultdict(list)
    for published, product_type, delay in delays:
        values[(hour_of(published), product_type)].append(delay)
    rollups = {key: _rollup(key[0], key[1], found) for key, found in values.items()}
    for name, published in named:
        strip_key = _strip_of(name, published)
        if strip_key is None:
            continue
        product_type, key, strip = strip_key
        hour = hour_of(published)
        rollup = rollups.setdefault((hour, product_type), HourRollup(hour, product_type))
        rollup.strips.setdefault(key, Strip()).merge(strip)
    return sorted(rollups.values(), key=lambda r: (r.hour, r.product_type))


def _rollup(hour: datetime, product_type: str, delays: list[float]) -> HourRollup:
    delays.sort()
    rollup = HourRollup(
        hour, product_type, len(delays), percentile(delays, 50), percentile(delays, 95),
        delays[-1],
    )  # fmt: skip
    for delay in delays:
        rollup.bins[bin_of(delay)] += 1
        held = rollup.buckets.setdefault(bucket_of(delay), [0, delay])
        held[0] += 1
        held[1] = max(held[1], delay)
    return rollup


def _strip_of(name: str, published: datetime) -> tuple[str, str, Strip] | None:
    """(product type, datastrip key, what this product says of it), for Level-0 DS and GR."""
    try:
        parsed = parse_name(name)
    except InvalidProductName:
        return None
    kind = parsed.file_type[-2:]
    if kind not in ("DS", "GR") or parsed.sensing is None:
        return None
    shared = (parsed.file_type[:-2], parsed.site, parsed.creation, parsed.sensing)
    key = "|".join(str(part) for part in (*shared, parsed.baseline))
    if kind == "DS":
        return parsed.file_type, key, Strip(name, published)
    detectors = {f"D{int(parsed.detector):02d}"} if parsed.detector else set()
    return parsed.file_type, key, Strip(granules=1, detectors=detectors)


def merged_percentiles(rollups: Sequence[HourRollup], qs: Sequence[float]) -> list[float]:
    """Nearest-rank percentiles of all the delays of ``rollups`` (see the module doc)."""
    merged: dict[int, list[float]] = {}
    for rollup in rollups:
        for bucket, (count, largest) in rollup.buckets.items():
            held = merged.setdefault(bucket, [0, largest])
            held[0] += count
            held[1] = max(held[1], largest)
    total = sum(count for count, _ in merged.values())
    found = []
    for q in qs:
        rank, seen = max(1, math.ceil(q / 100 * total)), 0
        for bucket in sorted(merged):
            seen += int(merged[bucket][0])
            if seen >= rank:
                found.append(merged[bucket][1])
                break
    return found


def merged_buckets(rollups: Sequence[HourRollup]) -> HourRollup:
    """One rollup (of the first's hour and type) holding the delay buckets and count of
    ``rollups``: a whole day's, kept or stored, stands for its 24 hours in percentiles."""
    merged = HourRollup(rollups[0].hour, rollups[0].product_type, 0)
    buckets = merged.buckets
    for rollup in rollups:
        merged.published += rollup.published
        # the hot loop of a cold month (~900k buckets): no call per bucket
        for bucket, (count, largest) in rollup.buckets.items():
            held = buckets.get(bucket)
            if held is None:
                buckets[bucket] = [count, largest]
            else:
                held[0] += count
                if largest > held[1]:
                    held[1] = largest
    return merged


def merged_strips(rollups: Iterable[HourRollup]) -> dict[str, Strip]:
    strips: dict[str, Strip] = {}
    for rollup in rollups:
        for key, strip in rollup.strips.items():
            strips.setdefault(key, Strip()).merge(strip)
    return strips


def incomplete(strips: dict[str, Strip]) -> list[Incomplete]:
    """The published datastrips some of whose 12 detectors sent no granule, by name."""
    found = []
    for strip in strips.values():
        if strip.name is None or strip.published is None:
            continue
        missing = tuple(d for d in DETECTORS if d not in strip.detectors)
        if missing:
            found.append(Incomplete(strip.name, strip.published, missing))
    return sorted(found, key=lambda i: i.datastrip)


def datastrip_summary(strips: dict[str, Strip], detectors: int = 12) -> DatastripCompleteness:
    """What :func:`prip_ray.domain.kpi.datastrip_completeness` says, from merged strips."""
    published = [s for s in strips.values() if s.name is not None]
    return DatastripCompleteness(
        datastrips=len(published),
        granules=sum(s.granules for s in published),
        all_detectors=sum(1 for s in published if len(s.detectors) >= detectors),
        without_granules=sorted(s.name for s in published if s.granules == 0 and s.name),
        orphan_granules=sum(s.granules for s in strips.values() if s.name is None),
    )
