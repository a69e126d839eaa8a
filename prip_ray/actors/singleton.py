"""SingletonActor: the one shape of prip-ray's singleton services on Ray.

A singleton is one named actor per cluster (``actors/factory.py``), restarted by Ray
whenever it dies, that runs its service's rounds in a :class:`ServiceLoop` while it holds the
service's lease in the PRIP DB: always leased, so the two clusters of a KubeRay upgrade never
run one service twice at once. What differs between services (how a round is built from
``Components``, how often it runs, what its stats say) is a :class:`SingletonService` from
the builders in ``SERVICES`` (``actors/delivery_services.py``, ``actors/scheduled_services.py``);
this class only wires it to Ray: ``wake``, ``run_now``, ``stats``, ``stop``, and the metrics
every singleton has.

Not in this shape, on purpose: the gateway supervisor (one per *cluster*: each cluster of an
upgrade must give its own nodes their gateways, so a lease shared through the DB would starve
one of them) and the health probe (its probes must go on while the DB is away, an outage to
record, so it runs a prober thread beside its loop; ``actors/health_probe.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ray.util.metrics import Counter

from prip_ray.actors import delivery_services, scheduled_services
from prip_ray.actors.names import (
    CATALOGUE_EXPORT,
    HISTORY_CLEANER,
    HKTM_FORWARDER,
    NOTIFIER,
    ROLLER,
    TRACER,
)
from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.actors.singleton_service import SingletonService
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.leases import LeaseRepository

SERVICES: dict[str, Callable[[Components], SingletonService]] = {
    NOTIFIER: delivery_services.notifier,
    TRACER: delivery_services.tracer,
    HKTM_FORWARDER: delivery_services.hktm_forwarder,
    ROLLER: scheduled_services.roller,
    CATALOGUE_EXPORT: scheduled_services.catalogue_export,
    HISTORY_CLEANER: scheduled_services.history_cleaner,
}


class SingletonActor:
    def __init__(self, settings: Settings, service: str):
        components = Components(settings)
        self._service = SERVICES[service](components)
        self._lock = threading.Lock()  # a round of the loop and a run_now never overlap
        tags = {"service": service}
        self._rounds = Counter("prip_singleton_rounds", "singleton rounds worked", ("service",))
        self._rounds.set_default_tags(tags)
        self._failed = Counter(
            "prip_singleton_rounds_failed", "singleton rounds that failed (retried)", ("service",)
        )
        self._failed.set_default_tags(tags)
        self._loop = ServiceLoop(
            service,
            LeaseRepository(components.engine),
            ttl_s=self._service.ttl_s or settings.lease.ttl_s,
            interval_s=self._service.interval_s,
            work=self._round,
        )

    def wake(self) -> None:
        """A hint that there is work (products published); the DB is the source of truth."""
        self._loop.wake()

    def run_now(self) -> Any:
        """One run at once (operators, tests), under the lease; None while another cluster
        holds it. Its errors are raised to the caller rather than retried."""
        with self._lock:
            if not self._loop.hold():
                return None
            return self._service.run()

    def stats(self) -> dict[str, Any]:
        return {"holding": self._loop.holding, "rounds": self._loop.rounds, **self._service.stats()}

    def stop(self) -> None:
        self._loop.stop()

    def _round(self) -> int:
        with self._lock:
            try:
                done = self._service.work()
            except Exception:
                self._failed.inc()
                raise  # the loop logs it and tries again next round
        self._rounds.inc()
        return done
