"""The PRIP's KPIs from plain figures: timeliness, completeness, availability. No DB, no Ray.

* Timeliness: publication time minus OriginDate (when the product reached the PRIP's inbox),
  per product type: p50, p95 and max, nearest-rank percentiles.
* Completeness: products published against products received (published + quarantined)
  per type; and for Level-0 datastrips, how many of their granules and detectors arrived,
  with the granules whose datastrip never did (unusable without it).
* Availability: the share of health probes of the API that succeeded, and the longest run
  of failed probes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prip_ray.domain.naming import parse_name
from prip_ray.errors import InvalidProductName


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (``q`` in 0..100)."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Timeliness:
    product_type: str
    count: int
    p50_s: float
    p95_s: float
    max_s: float


def timeliness(delays: Iterable[tuple[str, float]]) -> list[Timeliness]:
    """``delays``: (product type, publication - origin in seconds) per product."""
    by_type: dict[str, list[float]] = defaultdict(list)
    for product_type, seconds in delays:
        by_type[product_type].append(seconds)
    rows = []
    for product_type, values in sorted(by_type.items()):
        values.sort()
        rows.append(
            Timeliness(
                product_type, len(values), percentile(values, 50), percentile(values, 95),
                values[-1],
            )
        )  # fmt: skip
    return rows


@dataclass(frozen=True)
class Completeness:
    product_type: str
    published: int
    rejected: int

    @property
    def ratio(self) -> float:
        received = self.published + self.rejected
        return self.published / received if received else 1.0


def completeness(published: dict[str, int], rejected: dict[str, int]) -> list[Completeness]:
    types = sorted(published.keys() | rejected.keys())
    return [Completeness(t, published.get(t, 0), rejected.get(t, 0)) for t in types]


@dataclass
class Datastrip:
    key: str  # level, site, creation, sensing, baseline: what a DS and its GRs share
    name: str | None = None  # the datastrip's own product, if published
    granules: int = 0
    detectors: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class DatastripCompleteness:
    datastrips: int
    granules: int
    all_detectors: int  # datastrips with granules from all 12 MSI detectors
    without_granules: list[str]
    orphan_granules: int  # granules whose datastrip was not published


def datastrip_completeness(names: Iterable[str], detectors: int = 12) -> DatastripCompleteness:
    strips: dict[str, Datastrip] = {}
    for name in names:
        try:
            parsed = parse_name(name)
        except InvalidProductName:
            continue
        kind = parsed.file_type[-2:]
        if kind not in ("DS", "GR") or parsed.sensing is None:
            continue
        shared = (parsed.file_type[:-2], parsed.site, parsed.creation, parsed.sensing)
        key = "|".join(str(part) for part in (*shared, parsed.baseline))
        strip = strips.setdefault(key, Datastrip(key))
        if kind == "DS":
            strip.name = name
        else:
            strip.granules += 1
            if parsed.detector:
                strip.detectors.add(parsed.detector)
    published = [s for s in strips.values() if s.name is not None]
    return DatastripCompleteness(
        datastrips=len(published),
        granules=sum(s.granules for s in published),
        all_detectors=sum(1 for s in published if len(s.detectors) >= detectors),
        without_granules=sorted(s.name for s in published if s.granules == 0 and s.name),
        orphan_granules=sum(s.granules for s in strips.values() if s.name is None),
    )


@dataclass(frozen=True)
class Availability:
    probes: int
    ok: int
    longest_outage_s: float

    @property
    def ratio(self) -> float | None:
        return self.ok / self.probes if self.probes else None


def availability(probes: Sequence[tuple[datetime, bool]]) -> Availability:
    """``probes``: (when, succeeded), in time order."""
    longest, down_since = 0.0, None
    for when, ok in probes:
        if not ok and down_since is None:
            down_since = when
        elif ok and down_since is not None:
            longest = max(longest, (when - down_since).total_seconds())
            down_since = None
    if down_since is not None and probes:
        longest = max(longest, (probes[-1][0] - down_since).total_seconds())
    return Availability(len(probes), sum(1 for _, ok in probes if ok), longest)


@dataclass(frozen=True)
class UserDownloads:
    """Downloads started in a window by one user, and the bytes sent."""

    user: str
    downloads: int
    bytes: int
