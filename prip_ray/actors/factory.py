"""The one place Ray options are applied to prip-ray's classes (from settings)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from prip_ray.actors.ingest_shard import IngestShard
from prip_ray.actors.names import (
    CATALOGUE_EXPORT,
    DOWNLOAD_GATEWAY,
    GATEWAY_SUPERVISOR,
    HEALTH_PROBE,
    HISTORY_CLEANER,
    HKTM_FORWARDER,
    NOTIFIER,
    ROLLER,
    SERVICE_HOST,
    TRACER,
    gateway_name,
    shard_name,
)
from prip_ray.actors.qc_worker import QcWorker
from prip_ray.config import Settings


def _remote(cls: type, **options: Any) -> Any:
    """``ray.remote(**options)(cls)``: one place for the actor options Ray's type stubs do
    not declare (max_concurrency, resources that may be empty)."""
    return ray.remote(**options)(cls)


def qc_worker_class(settings: Settings) -> Any:
    # Restarted after a crash; the product it held stays in the inbox and is picked again.
    return _remote(
        QcWorker, num_cpus=settings.ingest.qc_worker_cpus, max_restarts=-1, max_task_retries=0
    )


def service_placement(settings: Settings) -> dict[str, Any]:
    """Where shards and the service host may run: on nodes with ``ray.service_resources``, spread
    over them with ``ray.spread_services``. A node that goes away takes its share with it;
    Ray restarts them on the other nodes that qualify (none left: they wait for one)."""
    placement: dict[str, Any] = {}
    if settings.ray.service_resources:
        placement["resources"] = dict(settings.ray.service_resources)
    if settings.ray.spread_services:
        placement["scheduling_strategy"] = "SPREAD"
    return placement


def ingest_shard_class(settings: Settings) -> Any:
    # A shard only coordinates (no CPU reserved); it resumes from the inbox and the journal.
    return _remote(
        IngestShard,
        num_cpus=0,
        max_restarts=-1,
        max_concurrency=4,
        **service_placement(settings),
    )


def start_ingestion(settings: Settings) -> list[Any]:
    """Start (or find, if already running) one named shard actor per shard of the inbox."""
    shard_cls = ingest_shard_class(settings)
    qc_worker_cls = qc_worker_class(settings)  # handed to the shards, which start the workers
    lifetime = "detached" if settings.ray.detached else None
    shards = settings.ingest.shards
    return [
        shard_cls.options(
            name=shard_name(i),
            namespace=settings.ray.namespace,
            get_if_exists=True,
            lifetime=lifetime,
        ).remote(settings, i, shards, qc_worker_cls)
        for i in range(shards)
    ]


def download_gateway_names(namespace: str) -> list[str]:
    """The download gateways alive or restarting now (Ray frees a dead actor's name)."""
    prefix = f"{DOWNLOAD_GATEWAY}-"
    return sorted(
        entry["name"]
        for entry in ray.util.list_named_actors(all_namespaces=True)
        if entry["namespace"] == namespace and entry["name"].startswith(prefix)
    )


def start_download_gateways(settings: Settings, *, wait: bool = True) -> list[Any]:
    """One download gateway on every alive node, found (not doubled) where one runs.

    Pinned to its node (a crash restarts it there; it dies with its node) and detached
    whatever the settings say: the supervisor that adds gateways to new nodes may itself be
    restarted, and that must not take every node's downloads down with it.
    """
    from prip_ray.actors.download_gateway import DownloadGatewayActor

    actor_cls = _remote(DownloadGatewayActor, num_cpus=0, max_restarts=-1)
    handles = [
        actor_cls.options(
            name=gateway_name(node["NodeID"]),
            namespace=settings.ray.namespace,
            get_if_exists=True,
            lifetime="detached",
            scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False),
        ).remote(settings)
        for node in ray.nodes()
        if node["Alive"]
    ]
    if wait:
        ray.get([handle.ready.remote() for handle in handles], timeout=120)
    return handles


def gateway_addresses(gateways: list[Any]) -> list[str]:
    return list(ray.get([gateway.address.remote() for gateway in gateways]))


def stop_download_gateways(settings: Settings) -> None:
    """Kill every node's gateway (they are detached: nothing else would)."""
    namespace = settings.ray.namespace
    for name in download_gateway_names(namespace):
        with contextlib.suppress(ValueError):  # gone meanwhile
            ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)


def configured_services(settings: Settings) -> list[str]:
    """The services the cluster's host runs: the Tracer and the HKTM forwarder only when
    their downstream is configured."""
    services = [HISTORY_CLEANER, NOTIFIER, ROLLER, CATALOGUE_EXPORT]
    if settings.trace.url:
        services.append(TRACER)
    if settings.fos.sftp_url:
        services.append(HKTM_FORWARDER)
    return [*services, HEALTH_PROBE, GATEWAY_SUPERVISOR]


def start_service_host(settings: Settings, services: Sequence[str] | None = None) -> Any:
    """The one service host of the cluster, running ``services`` (the configured ones if
    None); restarted by Ray if it dies, found (not doubled) if already running."""
    from prip_ray.actors.service_host import ServiceHost

    # Threads: a long run_now (an export) must not hold up another service's wake or stats.
    host_cls = _remote(
        ServiceHost,
        num_cpus=0,
        max_restarts=-1,
        max_task_retries=-1,
        max_concurrency=16,
        **service_placement(settings),
    )
    lifetime = "detached" if settings.ray.detached else None
    return host_cls.options(
        name=SERVICE_HOST, namespace=settings.ray.namespace, get_if_exists=True, lifetime=lifetime
    ).remote(settings, list(configured_services(settings) if services is None else services))
