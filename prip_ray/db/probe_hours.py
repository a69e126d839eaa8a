"""The availability probes of past hours, rolled up (table ``kpi_probe_hours``): a fresh
process reads a month as ~720 small rows instead of working it out from 86,000 probes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import kpi_probe_hours
from prip_ray.domain.kpi_series import Changes as Changes
from prip_ray.domain.kpi_series import ProbeHour as ProbeHour


class ProbeHours:
    def __init__(self, engine: Engine):
        self._engine = engine

    def read(self, since: datetime, until: datetime) -> dict[datetime, ProbeHour]:
        """The hours in [since, until) rolled up (one range scan of the primary key)."""
        query = select(kpi_probe_hours).where(
            kpi_probe_hours.c.hour >= since, kpi_probe_hours.c.hour < until
        )
        with self._engine.connect() as conn:
            return {
                hour: (good, failed, [(datetime.fromisoformat(at), ok) for at, ok in changes])
                for hour, good, failed, changes in conn.execute(query)
            }

    def store(self, hours: Mapping[datetime, ProbeHour]) -> None:
        """``hours`` in one transaction; if another replica stored one of them meanwhile,
        its rows stay (the same figures)."""
        rows = [
            {"hour": hour, "good": good, "failed": failed,
             "changes": [[at.isoformat(), ok] for at, ok in changes]}
            for hour, (good, failed, changes) in hours.items()
        ]  # fmt: skip
        if not rows:
            return
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(kpi_probe_hours), rows)
        except IntegrityError:
            pass  # rolled up by another replica at the same moment
