"""HktmForwarderActor: the HKTM forwarder as a named singleton, working while it holds the DB
lease. Its progress is the delivery queue in the PRIP DB (in order, each product once)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ray.util.metrics import Counter, Gauge

from prip_ray.actors.names import HKTM_FORWARDER
from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.leases import LeaseRepository
from prip_ray.metrics import add


class HktmForwarderActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._forwarder = components.hktm_forwarder()
        self._queue = DeliveryQueue(components.engine, "hktm")
        self._delivered = Counter("prip_hktm_delivered", "HKTM products delivered to FOS")
        self._failed = Counter("prip_hktm_failed", "FOS delivery attempts to be retried")
        self._refused = Counter("prip_hktm_refused", "HKTM products FOS cannot have")
        self._backlog = Gauge("prip_hktm_backlog", "HKTM products waiting for FOS")
        self._lag = Gauge("prip_hktm_lag_seconds", "age of the oldest HKTM product waiting")
        self._loop = ServiceLoop(
            HKTM_FORWARDER,
            LeaseRepository(components.engine),
            ttl_s=settings.lease.ttl_s,
            interval_s=settings.fos.poll_interval_s,
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
        result = self._forwarder.run_once()
        add(self._delivered, result.delivered + result.already)
        add(self._failed, result.failed)
        add(self._refused, result.refused)
        backlog, lag = self._queue.backlog(datetime.now(UTC))
        self._backlog.set(backlog)
        self._lag.set(lag)
        return result.delivered + result.already + result.refused
