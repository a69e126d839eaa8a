"""The KPI report of a time window, from the PRIP DB (products, quarantine entries, probes)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prip_ray.db.kpi import KpiRepository
from prip_ray.db.quarantine import QuarantineRepository
from prip_ray.domain.kpi import availability, completeness, datastrip_completeness, timeliness
from prip_ray.domain.naming import product_type_of


class KpiService:
    def __init__(self, repository: KpiRepository, quarantine: QuarantineRepository):
        self._repository = repository
        self._quarantine = quarantine

    def report(self, since: datetime, until: datetime) -> dict[str, Any]:
        rejected: dict[str, int] = {}
        for entry in self._quarantine.entries(since, until):
            product_type = product_type_of(entry.name)
            rejected[product_type] = rejected.get(product_type, 0) + 1
        published = self._repository.published_counts(since, until)
        strips = datastrip_completeness(self._repository.names(since, until, "%_MSI_L0__%"))
        probes = availability(self._repository.probes(since, until))
        return {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "timeliness": [asdict(t) for t in timeliness(self._repository.delays(since, until))],
            "completeness": [
                {**asdict(c), "ratio": round(c.ratio, 6)} for c in completeness(published, rejected)
            ],
            "datastrips": asdict(strips),
            "availability": {**asdict(probes), "ratio": probes.ratio},
        }
