"""The KPI rollups of past hours (table ``kpi_hours``), read and written whole."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import kpi_hours
from prip_ray.domain.kpi_rollup import ALL_TYPES, HourRollup, Strip


class KpiHours:
    def __init__(self, engine: Engine):
        self._engine = engine

    def read(self, since: datetime, until: datetime) -> tuple[set[datetime], list[HourRollup]]:
        """(the hours in [since, until) rolled up, their rollups)."""
        query = select(kpi_hours).where(kpi_hours.c.hour >= since, kpi_hours.c.hour < until)
        done, rollups = set(), []
        with self._engine.connect() as conn:
            for row in conn.execute(query).mappings():
                if row["product_type"] == ALL_TYPES:
                    done.add(row["hour"])
                else:
                    rollups.append(_rollup(row))
        return done, rollups

    def store(self, hours: Sequence[datetime], rollups: Sequence[HourRollup]) -> None:
        """The rollups of ``hours``, with their markers, in one transaction; an hour another
        replica stored meanwhile is left as it stored it (same figures)."""
        rows = [_row(r) for r in rollups] + [_marker(hour) for hour in hours]
        if not rows:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(kpi_hours), rows)
        except IntegrityError:
            pass  # rolled up by another replica at the same moment


def _marker(hour: datetime) -> dict[str, Any]:
    return {"hour": hour, "product_type": ALL_TYPES, "published": 0, "p50_s": 0.0,
            "p95_s": 0.0, "max_s": 0.0, "bins": [], "buckets": {}, "strips": {}}  # fmt: skip


def _row(rollup: HourRollup) -> dict[str, Any]:
    strips = {
        key: [s.name, s.published.isoformat() if s.published else None, s.granules,
              sorted(s.detectors)]
        for key, s in rollup.strips.items()
    }  # fmt: skip
    return {
        "hour": rollup.hour, "product_type": rollup.product_type,
        "published": rollup.published, "p50_s": rollup.p50_s, "p95_s": rollup.p95_s,
        "max_s": rollup.max_s, "bins": rollup.bins,
        "buckets": {str(b): held for b, held in rollup.buckets.items()}, "strips": strips,
    }  # fmt: skip


def _rollup(row: Any) -> HourRollup:
    strips = {
        key: Strip(name, datetime.fromisoformat(at) if at else None, granules, set(detectors))
        for key, (name, at, granules, detectors) in row["strips"].items()
    }
    return HourRollup(
        row["hour"], row["product_type"], row["published"], row["p50_s"], row["p95_s"],
        row["max_s"], list(row["bins"]),
        {int(b): list(held) for b, held in row["buckets"].items()}, strips,
    )  # fmt: skip
