"""ServiceHost: the PRIP's periodic singleton services, several in one actor process.

Each Ray worker process costs 100-120 MB before it does anything, and these services are
idle most of the time, so one named actor per cluster (``names.SERVICE_HOST``, restarted by
Ray whenever it dies) runs them all, each as it ran in an actor of its own: its own
:class:`ServiceLoop` thread, DB lease and lock, and its rounds counted with its name as the
``service`` tag. They share the process's one :class:`Components` (one DB pool, one store
client), as the threads of any process do. A service that cannot be built (a downstream
misconfigured, the DB away) or whose loop ended is built again every ``CHECK_EVERY_S``
without disturbing the others.

Callers reach one service through ``actors/service_handle.py``: ``wake``, ``run_now`` and
``stats`` of the host with the service's name. The services:

- the leased singletons of ``SINGLETONS`` (``actors/leased_service.py``);
- the health probe (``actors/health_probe.py``), leased too, whose prober thread probes
  while the DB is away;
- the gateway supervisor (``actors/gateway_supervisor.py``), without a lease: each cluster
  of an upgrade gives its own nodes their gateways.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from prip_ray.actors import delivery_services, scheduled_services
from prip_ray.actors.leased_service import LeasedService, RoundCounters
from prip_ray.actors.names import (
    CATALOGUE_EXPORT,
    GATEWAY_SUPERVISOR,
    HEALTH_PROBE,
    HISTORY_CLEANER,
    HKTM_FORWARDER,
    NOTIFIER,
    ROLLER,
    TRACER,
)
from prip_ray.actors.singleton_service import SingletonService
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.errors import Unavailable

log = logging.getLogger(__name__)

CHECK_EVERY_S = 5.0

SINGLETONS: dict[str, Callable[[Components], SingletonService]] = {
    NOTIFIER: delivery_services.notifier,
    TRACER: delivery_services.tracer,
    HKTM_FORWARDER: delivery_services.hktm_forwarder,
    ROLLER: scheduled_services.roller,
    CATALOGUE_EXPORT: scheduled_services.catalogue_export,
    HISTORY_CLEANER: scheduled_services.history_cleaner,
}


class HostedService(Protocol):
    def wake(self) -> None: ...

    def run_now(self) -> Any: ...

    def stats(self) -> dict[str, Any]: ...

    def alive(self) -> bool: ...

    def stop(self) -> None: ...


class ServiceHost:
    def __init__(self, settings: Settings, services: Sequence[str]):
        unknown = set(services) - {*SINGLETONS, HEALTH_PROBE, GATEWAY_SUPERVISOR}
        if unknown:
            raise ValueError(f"no such service: {', '.join(sorted(unknown))}")
        self._settings = settings
        self._components = Components(settings)  # built lazily: nothing is reached yet
        self._counters = RoundCounters.create()
        self._running: dict[str, HostedService | None] = dict.fromkeys(services)
        self._stop = threading.Event()
        self._check()
        self._checker = threading.Thread(target=self._checking, name="service-host", daemon=True)
        self._checker.start()

    def services(self) -> list[str]:
        return list(self._running)

    def wake(self, service: str) -> None:
        """A hint for ``service``; nothing if this host does not run it (not configured)."""
        running = self._running.get(service)
        if running is not None:
            running.wake()

    def run_now(self, service: str) -> Any:
        return self._service(service).run_now()

    def stats(self, service: str) -> dict[str, Any]:
        return self._service(service).stats()

    def stop(self) -> None:
        self._stop.set()
        for running in self._running.values():
            if running is not None:
                running.stop()

    def _service(self, name: str) -> HostedService:
        if name not in self._running:
            raise KeyError(f"{name} does not run in this service host")
        running = self._running[name]
        if running is None:
            raise Unavailable(f"{name} is being restarted")
        return running

    def _checking(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            self._check()

    def _check(self) -> None:
        """Build the services not running: at the start, after a failed build or an ended loop."""
        for name, running in self._running.items():
            if running is not None and running.alive():
                continue
            if running is not None:
                log.error("%s: its loop ended; starting it again", name)
                self._running[name] = None
            try:
                self._running[name] = self._build(name)
            except Exception:
                log.exception("%s could not start; trying again in %.0f s", name, CHECK_EVERY_S)

    def _build(self, name: str) -> HostedService:
        # Imported here: a host without them (tests, ingest-only) does not load them.
        if name == HEALTH_PROBE:
            from prip_ray.actors.health_probe import HealthProbe

            return HealthProbe(self._settings, self._components)
        if name == GATEWAY_SUPERVISOR:
            from prip_ray.actors.gateway_supervisor import GatewaySupervisor

            return GatewaySupervisor(self._settings)
        return LeasedService(name, self._components, SINGLETONS[name], self._counters)
