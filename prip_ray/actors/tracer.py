"""TracerActor: the Tracer as a named singleton, working while it holds the DB lease.

Its progress is the delivery queue in the PRIP DB, so Ray restarting it (or another cluster
taking the lease over) resumes without losing or repeating a trace.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ray.util.metrics import Counter, Gauge

from prip_ray.actors.names import TRACER
from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.leases import LeaseRepository
from prip_ray.metrics import add

log = logging.getLogger(__name__)


class TracerActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._tracer = components.tracer()
        self._queue = DeliveryQueue(components.engine, "trace")
        self._sent = Counter("prip_traces_sent", "traces accepted by the Traceability Service")
        self._failed = Counter("prip_traces_failed", "trace attempts that must be retried")
        self._refused = Counter("prip_traces_refused", "traces refused (4xx), not retried")
        self._backlog = Gauge("prip_trace_backlog", "traces waiting to be sent")
        self._lag = Gauge("prip_trace_lag_seconds", "age of the oldest trace waiting")
        self._loop = ServiceLoop(
            TRACER,
            LeaseRepository(components.engine),
            ttl_s=settings.lease.ttl_s,
            interval_s=settings.trace.poll_interval_s,
            work=self._round,
        )

    def wake(self) -> None:
        self._loop.wake()

    def stats(self) -> dict[str, Any]:
        backlog, lag = self._queue.backlog(datetime.now(UTC))
        return {
            "holding": self._loop.holding,
            "backlog": backlog,
            "lag_s": lag,
            **self._queue.counts(),
        }

    def stop(self) -> None:
        self._loop.stop()

    def _round(self) -> int:
        result = self._tracer.run_once()
        add(self._sent, result.sent + result.recovered)
        add(self._failed, result.failed)
        add(self._refused, result.refused)
        backlog, lag = self._queue.backlog(datetime.now(UTC))
        self._backlog.set(backlog)
        self._lag.set(lag)
        return result.sent + result.recovered + result.refused
