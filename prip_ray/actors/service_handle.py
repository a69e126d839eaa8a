"""One singleton service of the service host, reached like an actor of its own.

``find_service(NOTIFIER, namespace).wake.remote()`` calls ``wake`` of the host
(``actors/service_host.py``) with the service's name; ``run_now`` and ``stats`` alike, each
returning an ``ObjectRef``. Only Ray and the actors' names here: the ingest shards and the
CLI look services up without loading the services themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ray

from prip_ray.actors.names import SERVICE_HOST


@dataclass(frozen=True)
class _Method:
    host: Any
    method: str
    service: str

    def remote(self) -> Any:
        return getattr(self.host, self.method).remote(self.service)


@dataclass(frozen=True)
class ServiceHandle:
    """``host`` is the actor handle: what a test kills to see every service it runs restart."""

    host: Any
    service: str

    @property
    def wake(self) -> _Method:
        return _Method(self.host, "wake", self.service)

    @property
    def run_now(self) -> _Method:
        return _Method(self.host, "run_now", self.service)

    @property
    def stats(self) -> _Method:
        return _Method(self.host, "stats", self.service)


def find_service(service: str, namespace: str) -> ServiceHandle:
    """The service in the cluster's host; ValueError (as ``ray.get_actor``) if no host runs."""
    (handle,) = find_services([service], namespace)
    return handle


def find_services(services: Iterable[str], namespace: str) -> list[ServiceHandle]:
    """Several services of the host, for the price of one look-up at the GCS."""
    host = ray.get_actor(SERVICE_HOST, namespace=namespace)
    return [ServiceHandle(host, service) for service in services]
