"""QuarantineRepository: the quarantine entries in the PRIP DB (one row per name)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, RowMapping, delete, insert, select, update

from prip_ray.db.tables import quarantine
from prip_ray.domain.quarantine import QuarantineEntry


class QuarantineRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def record(
        self, name: str, code: str, reason: str, at: datetime, size: int, location: str
    ) -> QuarantineEntry | None:
        """Add a refusal of ``name`` seen ``at``; returns the entry it replaces (whose
        bytes are superseded), None if the name is new or the row is newer already."""
        values = {"code": code, "reason": reason, "last_seen": at, "size": size}
        with self._engine.begin() as conn:
            row = conn.execute(select(quarantine).where(quarantine.c.name == name)).mappings()
            found = row.first()
            if found is None:
                conn.execute(
                    insert(quarantine).values(
                        name=name, first_seen=at, times=1, location=location, **values
                    )
                )
                return None
            previous = _entry(found)
            if previous.location == location or previous.last_seen > at:
                return None
            conn.execute(
                update(quarantine)
                .where(quarantine.c.name == name)
                .values(times=previous.times + 1, location=location, **values)
            )
        return previous

    def get(self, name: str) -> QuarantineEntry | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(quarantine).where(quarantine.c.name == name)).mappings()
            found = row.first()
        return _entry(found) if found else None

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        reason_contains: str | None = None,
    ) -> list[QuarantineEntry]:
        """Entries last seen in ``[since, until)``, newest first."""
        query = select(quarantine).order_by(quarantine.c.last_seen.desc(), quarantine.c.name)
        if since is not None:
            query = query.where(quarantine.c.last_seen >= since)
        if until is not None:
            query = query.where(quarantine.c.last_seen < until)
        if reason_contains:
            query = query.where(quarantine.c.reason.contains(reason_contains, autoescape=True))
        with self._engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query).mappings()]

    def forget(self, name: str, location: str) -> bool:
        """Drop the entry if it still names these bytes (False: replaced meanwhile)."""
        with self._engine.begin() as conn:
            gone = conn.execute(
                delete(quarantine).where(
                    quarantine.c.name == name, quarantine.c.location == location
                )
            )
        return gone.rowcount == 1


def _entry(row: RowMapping) -> QuarantineEntry:
    return QuarantineEntry(
        row["name"], row["code"], row["reason"], row["first_seen"], row["last_seen"],
        row["times"], row["size"], row["location"],
    )  # fmt: skip
