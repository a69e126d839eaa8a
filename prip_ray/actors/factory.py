"""The one place Ray options are applied to prip-ray's classes (from settings)."""

from __future__ import annotations

from typing import Any

import ray
from ray.actor import ActorClass

from prip_ray.actors.qc_worker import QcWorker
from prip_ray.config import Settings


def qc_worker_class(settings: Settings) -> ActorClass[QcWorker]:
    # Restarted after a crash; the product it held stays in the inbox and is picked again.
    return ray.remote(num_cpus=settings.ingest.qc_worker_cpus, max_restarts=-1, max_task_retries=0)(
        QcWorker
    )


def ingest_shard_class(settings: Settings) -> ActorClass[Any]:
    from prip_ray.actors.ingest_shard import IngestShard  # it builds QC workers through us

    # A shard only coordinates (no CPU reserved); it resumes from the inbox and the journal.
    return ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=4)(IngestShard)


def shard_name(index: int) -> str:
    return f"prip-ingest-shard-{index}"


def start_ingestion(settings: Settings) -> list[Any]:
    """Start (or find, if already running) one named shard actor per shard of the inbox."""
    shard_cls = ingest_shard_class(settings)
    lifetime = "detached" if settings.ray.detached else None
    shards = settings.ingest.shards
    return [
        shard_cls.options(
            name=shard_name(i),
            namespace=settings.ray.namespace,
            get_if_exists=True,
            lifetime=lifetime,
        ).remote(settings, i, shards)
        for i in range(shards)
    ]
