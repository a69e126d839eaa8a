"""Per-minute counters in the shared DB: requests per user (rate quota) and failed logins per
user name and per client address (login throttling). Every replica sees the same counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import request_counts
from prip_ray.domain.quotas import minute_of


class RequestCounters:
    def __init__(self, engine: Engine):
        self._engine = engine

    def hit(self, subject: str, now: datetime, amount: int = 1) -> int:
        """Count ``amount`` more for ``subject`` in the current minute; return the new count."""
        minute = minute_of(now)
        row = (request_counts.c.subject == subject) & (request_counts.c.minute == minute)
        for _ in range(3):  # insert-or-increment without dialect-specific upserts
            with self._engine.begin() as conn:
                done = conn.execute(
                    update(request_counts).where(row).values(count=request_counts.c.count + amount)
                )
                if done.rowcount == 0:
                    try:
                        with conn.begin_nested():
                            conn.execute(
                                insert(request_counts).values(
                                    subject=subject, minute=minute, count=amount
                                )
                            )
                    except IntegrityError:
                        continue  # someone else inserted it first: increment theirs
                return int(conn.execute(select(request_counts.c.count).where(row)).scalar_one())
        return self.count(subject, now)

    def count(self, subject: str, now: datetime) -> int:
        row = (request_counts.c.subject == subject) & (request_counts.c.minute == minute_of(now))
        with self._engine.connect() as conn:
            found = conn.execute(select(request_counts.c.count).where(row)).scalar()
        return int(found or 0)

    def purge(self, before: datetime) -> int:
        with self._engine.begin() as conn:
            done = conn.execute(delete(request_counts).where(request_counts.c.minute < before))
        return int(done.rowcount)
