"""The KPI rollups of past hours (table ``kpi_hours``) and the delay buckets of whole days
(``kpi_days``), read and written whole; an hour of a day whose buckets are read merged is
read without its own ("bare"), the costly part of a month (see services/kpi_cache.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import kpi_days, kpi_hours
from prip_ray.domain.kpi_rollup import ALL_TYPES, Day, HourRollup, Strip

_WITHOUT_BUCKETS = [c for c in kpi_hours.c if c.name != "buckets"]  # in _rollup's order


class KpiHours:
    def __init__(self, engine: Engine):
        self._engine = engine

    def read(
        self, since: datetime, until: datetime, bare: Collection[datetime] = ()
    ) -> tuple[set[datetime], list[HourRollup]]:
        """(the hours in [since, until) rolled up, their rollups); those of the days in
        ``bare`` without their delay buckets."""
        window = (kpi_hours.c.hour >= since, kpi_hours.c.hour < until)
        done, rollups = set(), []
        with self._engine.connect() as conn:
            # rows as tuples, not mappings: a cold month is ~6,500 of them
            for row in conn.execute(select(*_WITHOUT_BUCKETS).where(*window)):
                if row[1] == ALL_TYPES:
                    done.add(row[0])
                else:
                    rollups.append(_rollup(*row))
        bare_hours = {day + timedelta(hours=h) for day in bare for h in range(24)}
        self.fill_buckets([r for r in rollups if r.hour not in bare_hours])
        return done, rollups

    def fill_buckets(self, rollups: Sequence[HourRollup]) -> None:
        """The delay buckets of ``rollups``, read into them."""
        if not rollups:
            return
        wanted = {(r.hour, r.product_type): r for r in rollups}
        first, last = min(r.hour for r in rollups), max(r.hour for r in rollups)
        query = select(kpi_hours.c.hour, kpi_hours.c.product_type, kpi_hours.c.buckets).where(
            kpi_hours.c.hour >= first, kpi_hours.c.hour <= last
        )
        if len({r.hour for r in rollups}) < 200:  # a day's edges: only those hours
            query = query.where(kpi_hours.c.hour.in_({r.hour for r in rollups}))
        with self._engine.connect() as conn:
            for hour, product_type, buckets in conn.execute(query):
                if (rollup := wanted.get((hour, product_type))) is not None:
                    rollup.buckets = _buckets(buckets)

    def read_days(self, since: datetime, until: datetime) -> dict[Day, HourRollup]:
        """The whole days of [since, until) whose buckets are stored, merged."""
        query = select(kpi_days).where(kpi_days.c.day >= since, kpi_days.c.day < until)
        with self._engine.connect() as conn:
            return {
                (day, product_type): HourRollup(
                    day, product_type, published, buckets=_buckets(buckets)
                )
                for day, product_type, published, buckets in conn.execute(query)
            }

    def store_days(self, days: Sequence[HourRollup]) -> None:
        """Whole days' buckets merged (every product type of a day, at once: a day is read
        bare or not as a whole); a day another replica stored meanwhile is left as it is."""
        rows = [
            {"day": d.hour, "product_type": d.product_type, "published": d.published,
             "buckets": {str(b): held for b, held in d.buckets.items()}}
            for d in days
        ]  # fmt: skip
        if not rows:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(kpi_days), rows)
        except IntegrityError:
            pass  # stored by another replica at the same moment

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


def _buckets(stored: dict[str, list[float]]) -> dict[int, list[float]]:
    return {int(b): held for b, held in stored.items()}  # fresh lists from the decoder


def _rollup(
    hour: datetime,
    product_type: str,
    published: int,
    p50_s: float,
    p95_s: float,
    max_s: float,
    bins: list[int],
    stored_strips: dict[str, Any],
) -> HourRollup:
    strips = {
        key: Strip(name, datetime.fromisoformat(at) if at else None, granules, set(detectors))
        for key, (name, at, granules, detectors) in stored_strips.items()
    }
    # bins: a fresh list from the decoder; buckets: read apart (fill_buckets)
    return HourRollup(hour, product_type, published, p50_s, p95_s, max_s, bins, {}, strips)
