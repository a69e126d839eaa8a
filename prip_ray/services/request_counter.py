"""Request counts batched per process before they reach the shared per-minute counters."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from prip_ray.domain.quotas import minute_of
from prip_ray.ports import MinuteCounters


class BatchedCounter:
    """Request counts flushed to the shared DB at most once a second per subject.

    A DB write per request would cost more than the requests it counts; batching keeps the
    per-minute figure shared by all replicas, at worst a second of traffic behind.
    """

    def __init__(self, counters: MinuteCounters, flush_every_s: float = 1.0):
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
