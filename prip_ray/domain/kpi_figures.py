"""The KPI figures of a time window: what ``GET /kpi`` returns as JSON and what the
operator console draws and exports (one computation, services/kpi.py; two renderings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prip_ray.domain.kpi import Availability, Completeness, DatastripCompleteness, Timeliness
from prip_ray.domain.kpi_series import (
    DELAY_EDGES,
    Breach,
    DayCompleteness,
    HourPoint,
    Incomplete,
    OlqcExpected,
    Outage,
    Slot,
    Targets,
    Unreported,
    breaches,
)
from prip_ray.domain.quarantine import QuarantineEntry


@dataclass
class KpiFigures:
    since: datetime
    until: datetime
    targets: Targets
    timeliness: list[Timeliness]
    hourly: list[HourPoint]
    histogram: dict[str, list[int]]
    published_per_hour: dict[datetime, int]
    completeness: list[Completeness]
    daily: list[DayCompleteness]
    datastrips: DatastripCompleteness
    incomplete: list[Incomplete]
    availability: Availability
    outages: list[Outage]
    timeline: list[Slot]
    latest_quarantined: list[QuarantineEntry] = field(default_factory=list)
    olqc: OlqcExpected | None = None  # None: no product type expects OLQC reports
    unreported: list[Unreported] = field(default_factory=list)  # the latest, newest first

    @property
    def unreported_count(self) -> int:
        return sum(d.unreported for d in self.daily)

    @property
    def completeness_ratio(self) -> float | None:
        published = sum(c.published for c in self.completeness)
        received = published + sum(c.rejected for c in self.completeness)
        return published / received if received else None

    @property
    def breaches(self) -> list[Breach]:
        p95 = {t.product_type: t.p95_s for t in self.timeliness}
        return breaches(p95, self.completeness_ratio, self.availability.ratio, self.targets)

    def to_json(self) -> dict[str, Any]:
        targets = self.targets
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timeliness": [asdict(t) for t in self.timeliness],
            "completeness": [{**asdict(c), "ratio": round(c.ratio, 6)} for c in self.completeness],
            "datastrips": asdict(self.datastrips),
            "availability": {**asdict(self.availability), "ratio": self.availability.ratio},
            "targets": {
                "timeliness_s": {
                    t.product_type: targets.timeliness_of(t.product_type) for t in self.timeliness
                }
                | {"default": targets.timeliness_of("default")},
                "completeness": targets.completeness,
                "availability": targets.availability,
            },
            "breaches": [asdict(b) for b in self.breaches],
            "series": self._series_json(),
        }

    def _series_json(self) -> dict[str, Any]:
        return {
            "timeliness_hourly": [{**asdict(p), "hour": p.hour.isoformat()} for p in self.hourly],
            "delay_histogram": {"edges_s": list(DELAY_EDGES), "counts": self.histogram},
            "published_hourly": [
                {"hour": h.isoformat(), "published": n}
                for h, n in sorted(self.published_per_hour.items())
            ],
            "completeness_daily": [
                {**asdict(d), "day": d.day.date().isoformat()} for d in self.daily
            ],
            "olqc_unreported": self._unreported_json(),
            "incomplete_datastrips": [
                {
                    "datastrip": i.datastrip,
                    "published": i.published.isoformat(),
                    "missing": list(i.missing),
                }
                for i in self.incomplete
            ],
            "outages": [
                {"start": o.start.isoformat(), "end": o.end.isoformat(), "seconds": o.seconds}
                for o in self.outages
            ],
            "probe_timeline": [
                {"start": s.start.isoformat(), "ok": s.ok, "failed": s.failed}
                for s in self.timeline
            ],
        }

    def _unreported_json(self) -> dict[str, Any] | None:
        if self.olqc is None:
            return None
        return {
            "product_types": sorted(self.olqc.product_types),
            "grace_s": self.olqc.grace.total_seconds(),
            "count": self.unreported_count,
            "latest": [
                {"name": u.name, "published": u.published.isoformat()} for u in self.unreported
            ],
        }
