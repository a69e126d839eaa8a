"""Ingestion shards and QC workers on the shared local Ray, with real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import ray

from prip_ray.actors.factory import shard_name, start_ingestion
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
