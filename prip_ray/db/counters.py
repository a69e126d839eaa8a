"""Per-minute counters in the shared DB: requests per user (rate quota) and failed logins per
user name and per client address (login throttling). Every replica sees the same counts."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import request_counts


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


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


class BatchedCounter:
    """Request counts flushed to the shared DB at most once a second per subject.

    A DB write per request would cost more than the requests it counts; batching keeps the
    per-minute figure shared by all replicas, at worst a second of traffic behind.
    """

    def __init__(self, counters: RequestCounters, flush_every_s: float = 1.0):
        self._counters = counters
        self._flush_every_s = flush_every_s
        self._lock = threading.Lock()
        self._minute: datetime | None = None
        self._pending: dict[str, int] = {}
        self._known: dict[str, int] = {}
        self._flushed: dict[str, float] = {}

    def hit(self, subject: str, now: datetime) -> int:
        with self._lock:
            if minute_of(now) != self._minute:  # a new minute starts from zero everywhere
                self._minute = minute_of(now)
                self._pending, self._known, self._flushed = {}, {}, {}
            self._pending[subject] = self._pending.get(subject, 0) + 1
            due = time.monotonic() - self._flushed.get(subject, 0.0) >= self._flush_every_s
            pending = self._pending[subject]
            if not due:
                return self._known.get(subject, 0) + pending
            self._pending[subject] = 0
            self._flushed[subject] = time.monotonic()
        total = self._counters.hit(subject, now, pending)
        with self._lock:
            self._known[subject] = total
            return total + self._pending.get(subject, 0)
