"""The KPI report of a time window, from the PRIP DB and the quarantine.

One computation, two renderings: :meth:`KpiService.figures` is what ``GET /kpi`` returns as
JSON (:meth:`KpiService.report`) and what the operator console draws and exports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prip_ray.db.kpi import KpiRepository
from prip_ray.domain.kpi import (
    Availability,
    Completeness,
    DatastripCompleteness,
    Timeliness,
    availability,
    completeness,
    datastrip_completeness,
    timeliness,
)
from prip_ray.domain.kpi_series import (
    DELAY_EDGES,
    Breach,
    DayCompleteness,
    DelaySeries,
    HourPoint,
    Incomplete,
    Outage,
    Slot,
    Targets,
    breaches,
    daily_completeness,
    day_of,
    incomplete_datastrips,
    outages,
    probe_slots,
)
from prip_ray.domain.naming import product_type_of
from prip_ray.storage.inbox import LocalQuarantine

DEFAULT_TARGETS = Targets({"default": 3600.0}, 0.99, 0.99)
TIMELINE_SLOTS = 120  # the probe timeline's resolution, whatever the window
LATEST_QUARANTINED = 20
L0_NAMES = "%_MSI_L0__%"


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
    latest_quarantined: list[dict[str, str]] = field(default_factory=list)

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
            "incomplete_datastrips": [
                {
                    "datastrip": i.datastrip,
                    "published": i.published.isoformat(),
                    "missing": list(i.missing),
                }
                for i in self.incomplete
            ],
            "outages": [
                {"start": o.start.isoformat(), "end": o.end.isoformat(), "probes": o.probes}
                for o in self.outages
            ],
            "probe_timeline": [
                {"start": s.start.isoformat(), "ok": s.ok, "failed": s.failed}
                for s in self.timeline
            ],
        }


class KpiService:
    def __init__(
        self,
        repository: KpiRepository,
        quarantine: LocalQuarantine,
        targets: Targets = DEFAULT_TARGETS,
    ):
        self._repository = repository
        self._quarantine = quarantine
        self.targets = targets

    def report(self, since: datetime, until: datetime) -> dict[str, Any]:
        return self.figures(since, until).to_json()

    def figures(self, since: datetime, until: datetime) -> KpiFigures:
        quarantined = self._quarantined(since, until)
        rejected = Counter(product_type_of(r["name"]) for r in quarantined)
        per_day = Counter(day_of(datetime.fromisoformat(r["quarantined_at"])) for r in quarantined)
        series = DelaySeries()
        by_type: list[tuple[str, float]] = []
        for published, product_type, delay in self._repository.timed_delays(since, until):
            series.add(published, product_type, delay)
            by_type.append((product_type, delay))
        l0 = list(self._repository.named(since, until, L0_NAMES))
        incomplete = incomplete_datastrips(l0)
        probes = self._repository.probes(since, until)
        return KpiFigures(
            since=since,
            until=until,
            targets=self.targets,
            timeliness=timeliness(by_type),
            hourly=series.hourly(),
            histogram=series.histogram,
            published_per_hour=dict(series.published_per_hour),
            completeness=completeness(Counter(t for t, _ in by_type), rejected),
            daily=daily_completeness(series.published_per_day, per_day, incomplete, since, until),
            datastrips=datastrip_completeness(name for name, _ in l0),
            incomplete=incomplete,
            availability=availability(probes),
            outages=outages(probes),
            timeline=probe_slots(probes, since, until, TIMELINE_SLOTS),
            latest_quarantined=sorted(quarantined, key=lambda r: r["quarantined_at"], reverse=True)[
                :LATEST_QUARANTINED
            ],
        )

    def _quarantined(self, since: datetime, until: datetime) -> list[dict[str, str]]:
        """The quarantine records of the window (the rejected products)."""
        found = []
        for record in self._quarantine.reasons():
            when = datetime.fromisoformat(record["quarantined_at"])
            if since <= when < until:
                found.append(record)
        return found
