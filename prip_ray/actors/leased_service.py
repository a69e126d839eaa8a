"""LeasedService: one of the PRIP's singleton services as the service host runs it.

A singleton service runs its rounds in a :class:`ServiceLoop` while it holds the service's
lease in the PRIP DB: always leased, so the two clusters of a KubeRay upgrade never run one
service twice at once. What differs between services (how a round is built from
``Components``, how often it runs, what its stats say) is a :class:`SingletonService` from
the builders in ``actors/delivery_services.py`` and ``actors/scheduled_services.py``; this
class gives it what every hosted service has (``actors/service_host.py``): ``wake``,
``run_now``, ``stats``, ``stop``, and the rounds counted per service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ray.util.metrics import Counter

from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.actors.singleton_service import SingletonService
from prip_ray.bootstrap import Components
from prip_ray.db.leases import LeaseRepository


@dataclass
class RoundCounters:
    """The rounds of every service of a host, tagged ``service``: one pair per process."""

    worked: Counter
    failed: Counter

    @classmethod
    def create(cls) -> RoundCounters:
        return cls(
            Counter("prip_singleton_rounds", "singleton rounds worked", ("service",)),
            Counter(
                "prip_singleton_rounds_failed",
                "singleton rounds that failed (retried)",
                ("service",),
            ),
        )


class LeasedService:
    def __init__(
        self,
        name: str,
        components: Components,
        build: Callable[[Components], SingletonService],
        counters: RoundCounters,
    ):
        self._service = build(components)
        self._tags = {"service": name}
        self._counters = counters
        self._lock = threading.Lock()  # a round of the loop and a run_now never overlap
        self._loop = ServiceLoop(
            name,
            LeaseRepository(components.engine),
            ttl_s=self._service.ttl_s or components.settings.lease.ttl_s,
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

    def alive(self) -> bool:
        return self._loop.alive()

    def stop(self) -> None:
        self._loop.stop()

    def _round(self) -> int:
        with self._lock:
            try:
                done = self._service.work()
            except Exception:
                self._counters.failed.inc(tags=self._tags)
                raise  # the loop logs it and tries again next round
        self._counters.worked.inc(tags=self._tags)
        return done
