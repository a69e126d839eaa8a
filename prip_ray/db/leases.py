"""Leases in the PRIP DB: at most one live holder per singleton name across clusters.

A holder takes a free or expired lease and renews it before it runs out; a holder that died
loses it after ``ttl``. Plain SQL (one conditional UPDATE, or an INSERT racing on the
primary key), so it works the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import leases


class LeaseRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew ``name`` for ``holder`` until ``now + ttl``; False if another holds
        it."""
        renew = (
            update(leases)
            .where(
                leases.c.name == name,
                or_(leases.c.holder == holder, leases.c.expires_at < now),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        with self._engine.begin() as conn:
            if conn.execute(renew).rowcount:
                return True
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(leases).values(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False  # someone holds it (or took it a moment ago)
        return True

    def release(self, name: str, holder: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    def holder(self, name: str, now: datetime) -> str | None:
        query = select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at >= now)
        with self._engine.connect() as conn:
            return conn.execute(query).scalar()
