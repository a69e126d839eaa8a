"""Connect to (or start) Ray and start the PRIP's actors on it."""

from __future__ import annotations

import os
from typing import Any

import ray

from prip_ray.actors.factory import start_ingestion, start_service_host
from prip_ray.config import Settings
from prip_ray.local_ray import starts_local_ray


def connect(settings: Settings) -> None:
    """Join ``settings.ray.address`` or start a local Ray instance for this process."""
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"namespace": settings.ray.namespace}
    if settings.ray.address:
        options["address"] = settings.ray.address
    elif starts_local_ray(settings, os.environ):
        # "local": a Ray of our own, even when another runs on this machine. Without it,
        # ray.init joins the newest Ray that `ray start` left its address for, another
        # PRIP's or anyone's, and one stopping takes the other's actors down with it.
        # On loopback only: see prip_ray.local_ray, which `prip-ray up` applies first.
        options.update(
            address="local",
            num_cpus=settings.ray.num_cpus,
            include_dashboard=settings.ray.dashboard,
            dashboard_host="127.0.0.1",
        )
    ray.init(**options)


def start_actors(settings: Settings) -> list[Any]:
    """The ingest shards and the service host (the singletons, the gateway supervisor)."""
    return [*start_ingestion(settings), start_service_host(settings)]


def stop_actors(handles: list[Any]) -> None:
    for handle in handles:
        ray.kill(handle)


def disconnect() -> None:
    ray.shutdown()
