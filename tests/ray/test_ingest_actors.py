"""Ingestion shards and QC workers on the shared local Ray, with real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import ray

from prip_ray.actors.factory import start_ingestion
from prip_ray.actors.names import shard_name
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.odata.options import QueryOptions
from tests.samples import SAMPLES_DIR, drop
from tests.waiting import wait_until

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))


@pytest.fixture
def shards(ray_settings: Settings) -> Iterator[list[Any]]:
    components = Components(ray_settings)
    components.migrate()
    handles = start_ingestion(ray_settings)
    yield handles
    for handle in handles:
        ray.kill(handle)
    components.close()


def _published(settings: Settings) -> set[str]:
    components = Components(settings)
    try:
        found = components.products.search(QueryOptions(top=1000))
        return {p.name for p in found.products}
    finally:
        components.close()


def test_shards_ingest_everything_dropped_in_the_inbox(
    ray_settings: Settings, shards: list[Any]
) -> None:
    inbox = ray_settings.inbox
    for sample in SAMPLES:
        drop(sample, inbox)
    corrupt = inbox.parent / "corrupt.tar"
    corrupt.write_bytes(b"not an archive")
    drop(corrupt, inbox, "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D05_N05.11.tar")
    wait_until(lambda: not any(inbox.iterdir()), what="the inbox to empty")
    assert _published(ray_settings) == {s.name for s in SAMPLES}
    reasons = list(ray_settings.quarantine.glob("*.reason.json"))
    assert len(reasons) == 1

    def counted(status: str) -> int:  # the shards collect outcomes on their next poll
        return sum(ray.get(h.stats.remote()).get(status, 0) for h in shards)

    wait_until(lambda: counted("published") == 3 and counted("rejected") == 1, 30, what="stats")


def test_a_killed_shard_restarts_and_keeps_ingesting(
    ray_settings: Settings, shards: list[Any]
) -> None:
    inbox = ray_settings.inbox
    for handle in shards:
        ray.kill(handle, no_restart=False)  # a crash: Ray restarts the actor
    for sample in SAMPLES:
        drop(sample, inbox)
    wait_until(lambda: not any(inbox.iterdir()), what="the restarted shards to ingest")
    assert _published(ray_settings) == {s.name for s in SAMPLES}
    same = ray.get_actor(shard_name(0), namespace=ray_settings.ray.namespace)
    assert ray.get(same.stats.remote())["shard"] == 0


def test_a_shard_killed_with_a_group_waiting_publishes_each_product_once(
    ray_settings: Settings,
) -> None:
    """Products that passed QC and whose bytes are stored wait for company (a group of 3,
    wait 10 min) when their shard dies: nothing is published, and after the restart they
    are prepared again, published once, with no stray bytes left in the store."""
    ingest = ray_settings.ingest.model_copy(
        update={"shards": 1, "publish_batch": 3, "publish_wait_ms": 600_000}
    )
    settings = ray_settings.model_copy(update={"ingest": ingest})
    components = Components(settings)
    components.migrate()
    [shard] = start_ingestion(settings)
    try:
        for sample in SAMPLES[:2]:
            drop(sample, settings.inbox)

        def stored_and_waiting() -> bool:
            entries = components.ingest.journal.entries()
            keys = set(components.store.keys())
            return len(entries) == 2 and {e.object_key for e in entries} == keys

        wait_until(stored_and_waiting, what="two products stored, waiting for a third")
        assert ray.get(shard.stats.remote())["to_publish"] == 2
        assert _published(settings) == set()
        ray.kill(shard, no_restart=False)  # a crash: Ray restarts it, the group is gone
        drop(SAMPLES[2], settings.inbox)
        wait_until(lambda: not any(settings.inbox.iterdir()), what="the group to be published")
        assert _published(settings) == {s.name for s in SAMPLES}
        published = [components.products.by_name(s.name) for s in SAMPLES]
        assert sorted(components.store.keys()) == sorted(p.object_key for p in published if p)
        assert components.ingest.journal.entries() == []
    finally:
        ray.kill(shard)
        components.close()


def test_a_shard_with_no_idle_worker_starts_one_for_the_first_product(
    ray_settings: Settings,
) -> None:
    """``qc_workers_min: 0`` (the default): no QC worker process while the inbox is empty;
    the first product starts one and is published."""
    ingest = ray_settings.ingest.model_copy(update={"shards": 1, "qc_workers_min": 0})
    settings = ray_settings.model_copy(update={"ingest": ingest})
    components = Components(settings)
    components.migrate()
    [shard] = start_ingestion(settings)
    try:
        wait_until(lambda: ray.get(shard.stats.remote()).get("recovered") is not None, 30)
        assert ray.get(shard.stats.remote())["workers"] == 0
        drop(SAMPLES[0], settings.inbox)
        wait_until(lambda: not any(settings.inbox.iterdir()), what="the product to be published")
        assert _published(settings) == {SAMPLES[0].name}
        assert ray.get(shard.stats.remote())["workers"] == 1
    finally:
        ray.kill(shard)
        components.close()
