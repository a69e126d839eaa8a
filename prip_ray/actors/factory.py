"""The one place Ray options are applied to prip-ray's classes (from settings)."""

from __future__ import annotations

import contextlib
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from prip_ray.actors.health_probe import HealthProbeActor
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
    TRACER,
    gateway_name,
    shard_name,
)
from prip_ray.actors.qc_worker import QcWorker
from prip_ray.actors.singleton import SingletonActor
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
    """Where shards and singletons may run: on nodes with ``ray.service_resources``, spread
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


def start_history_cleaner(settings: Settings) -> Any:
    """The one History Cleaner of the cluster (found, not duplicated, if already running)."""
    return _singleton(settings, SingletonActor, HISTORY_CLEANER)


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


def start_gateway_supervisor(settings: Settings) -> Any:
    """The singleton that gives a node that joins later its download gateway."""
    from prip_ray.actors.gateway_supervisor import GatewaySupervisorActor

    return _singleton(settings, GatewaySupervisorActor, GATEWAY_SUPERVISOR)


def start_notifier(settings: Settings) -> Any:
    """The Subscription component's delivery actor (one per cluster; restarted on failure)."""
    return _singleton(settings, SingletonActor, NOTIFIER)


def start_roller(settings: Settings) -> Any:
    """The rolling archive's singleton (found, not duplicated, if already running)."""
    return _singleton(settings, SingletonActor, ROLLER)


def start_catalogue_export(settings: Settings) -> Any:
    """The scheduled catalogue exports' singleton."""
    return _singleton(settings, SingletonActor, CATALOGUE_EXPORT)


def _singleton(settings: Settings, actor: type, name: str) -> Any:
    """One named actor per cluster, restarted by Ray if it dies, found if already running.
    A :class:`SingletonActor` is told which service it runs: its name."""
    actor_cls = _remote(
        actor, num_cpus=0, max_restarts=-1, max_task_retries=-1, **service_placement(settings)
    )
    lifetime = "detached" if settings.ray.detached else None
    args = (name,) if actor is SingletonActor else ()
    return actor_cls.options(
        name=name, namespace=settings.ray.namespace, get_if_exists=True, lifetime=lifetime
    ).remote(settings, *args)


def start_tracer(settings: Settings) -> Any:
    """The Tracer's singleton, or None when no Traceability Service is configured."""
    return _singleton(settings, SingletonActor, TRACER) if settings.trace.url else None


def start_hktm_forwarder(settings: Settings) -> Any:
    """The HKTM forwarder's singleton, or None when no FOS SFTP URL is configured."""
    if not settings.fos.sftp_url:
        return None
    return _singleton(settings, SingletonActor, HKTM_FORWARDER)


def start_health_probe(settings: Settings) -> Any:
    """The availability prober (one per PRIP, under a DB lease). Its own actor, not a
    SingletonActor: it probes while the DB is away (see actors/singleton.py)."""
    return _singleton(settings, HealthProbeActor, HEALTH_PROBE)
