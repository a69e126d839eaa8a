"""The Tracer, HKTM forwarder, Roller and Catalogue Export singletons on Ray, their service
host killed mid-batch while their downstream goes away and comes back: afterwards every event is traced
once, every HKTM product is at FOS once, whole and in order, every due product is evicted
once, bytes and all, and each due export is written once."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
import ray
from ray.exceptions import RayTaskError
from sqlalchemy import func, select

from prip_ray.actors.factory import start_service_host
from prip_ray.actors.names import CATALOGUE_EXPORT, HKTM_FORWARDER, ROLLER, TRACER
from prip_ray.actors.service_handle import ServiceHandle
from prip_ray.bootstrap import Components
from prip_ray.config import FosSettings, Settings, TraceSettings
from prip_ray.db.subscriptions import OutboxEvent
from prip_ray.db.tables import products
from prip_ray.domain.products import Product
from prip_ray.synthetic import make_product
from tests.fixtures.components import BuildComponents
from tests.fixtures.s3 import OwnS3
from tests.integration.test_hktm_forwarder import publish_hktm
from tests.pki import write_key_and_cert
from tests.sftp_server import PASSWORD, fos_server
from tests.traceability import TOKEN, trace_service
from tests.waiting import wait_until

PRODUCTS = 40


def test_tracer_killed_mid_batch_with_the_service_flapping(
    ray_settings: Settings, tmp_path: Path, built_components: BuildComponents
) -> None:
    components = built_components(ray_settings)
    components.migrate()
    names = publish_hktm(components, tmp_path, PRODUCTS, size=50_000)
    key, cert = write_key_and_cert(tmp_path / "pki")
    with trace_service() as service:
        settings = ray_settings.model_copy(
            update={
                "trace": TraceSettings(
                    url=service.url, token=TOKEN, signing_key=key, signing_cert=cert,
                    batch=5, retry_base_s=0.2, retry_max_s=1.0, poll_interval_s=0.2,
                )
            }
        )  # fmt: skip
        service.down = 3  # down at first
        tracer = _hosted(settings, TRACER)
        try:
            wait_until(lambda: service.count() >= 5, 60, "the first traces")
            ray.kill(tracer.host, no_restart=False)  # a crash in the middle of the queue
            service.down = 5  # and the service goes away again for a while
            wait_until(lambda: service.count() >= PRODUCTS, 90, "every trace after the restart")
            time.sleep(1.0)  # anything sent twice would arrive now
            stats = ray.get(tracer.stats.remote())
        finally:
            ray.kill(tracer.host)
    assert service.events() == {(name, "CREATE"): 1 for name in names}
    assert service.bad_signatures == 0
    assert stats["backlog"] == 0 and stats.get("done") == PRODUCTS


def test_hktm_forwarder_killed_mid_batch_with_fos_away_and_back(
    ray_settings: Settings, tmp_path: Path, built_components: BuildComponents
) -> None:
    components = built_components(ray_settings)
    components.migrate()
    with fos_server(tmp_path / "fos") as fos:
        settings = ray_settings.model_copy(
            update={
                "fos": FosSettings(
                    sftp_url=fos.url(), password=PASSWORD,
                    known_hosts=fos.write_known_hosts(tmp_path / "known_hosts"),
                    batch=5, retry_base_s=0.2, retry_max_s=1.0, poll_interval_s=0.2,
                )
            }
        )  # fmt: skip
        fos.stop()  # FOS is away when the products arrive
        names = publish_hktm(components, tmp_path, PRODUCTS, size=200_000)
        forwarder = _hosted(settings, HKTM_FORWARDER)
        try:
            wait_until(lambda: ray.get(forwarder.stats.remote())["backlog"] == PRODUCTS, 30)
            fos.start()
            wait_until(lambda: len(fos.renames) >= 5, 60, "the first deliveries")
            fos.cut_next = 1  # the connection drops in the middle of a transfer...
            ray.kill(forwarder.host, no_restart=False)  # ...and the forwarder crashes
            wait_until(lambda: len(fos.renames) >= PRODUCTS, 90, "every product at FOS")
            time.sleep(1.0)
            stats = ray.get(forwarder.stats.remote())
        finally:
            ray.kill(forwarder.host)
        delivered = {p: b for p, b in fos.files().items() if not p.startswith("hktm/.")}
    assert fos.renames == [f"/hktm/{n}" for n in names]  # each once, in publication order
    for name in names:
        product = components.products.by_name(name)
        assert product is not None
        assert delivered[f"hktm/{name}"] == b"".join(components.store.read(product.object_key))
    assert stats["backlog"] == 0


def test_roller_killed_mid_batch_with_the_store_away(
    ray_settings: Settings, own_s3: OwnS3, tmp_path: Path, built_components: BuildComponents
) -> None:
    settings = _on_own_s3(ray_settings, own_s3)
    settings.ingest.retention = "1s"  # due a second after publication
    settings.roller.interval = "1s"
    settings.roller.batch = 5
    components = built_components(settings)
    ids = {p.id for p in _published_granules(components, tmp_path, PRODUCTS // 2)}
    time.sleep(1.5)
    own_s3.stop()  # entries can go offline, their bytes cannot go yet
    roller = _hosted(settings, ROLLER)
    try:
        wait_until(lambda: _offline(components) >= 5, 60, "the first evictions")
        ray.kill(roller.host, no_restart=False)  # a crash in the middle of the backlog
        own_s3.start()
        wait_until(lambda: _offline(components) == len(ids), 90, "every product offline")
        wait_until(lambda: list(components.store.keys()) == [], 60, "the bytes swept")
    finally:
        ray.kill(roller.host)
    deleted = [e.product_id for e in _events(components) if e.event == "deleted"]
    assert sorted(map(str, deleted)) == sorted(map(str, ids))  # one DELETE event each


def _offline(components: Components) -> int:
    with components.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(products).where(products.c.online.is_(False))
            ).scalar_one()
        )


def _events(components: Components) -> list[OutboxEvent]:
    return components.subscriptions.events_after(0, 10_000)


def test_catalogue_export_with_the_store_away_then_killed(
    ray_settings: Settings, own_s3: OwnS3, tmp_path: Path, built_components: BuildComponents
) -> None:
    settings = _on_own_s3(ray_settings, own_s3)
    components = built_components(settings)
    _published_granules(components, tmp_path, 10)
    exporter = _hosted(settings, CATALOGUE_EXPORT)
    try:
        own_s3.stop()
        with pytest.raises(RayTaskError):
            ray.get(exporter.run_now.remote())  # the store is away: nothing is written
        own_s3.start()
        assert components.exporter().exports() == []
        key = ray.get(exporter.run_now.remote())  # the full export was still due
        ray.kill(exporter.host, no_restart=False)  # a crash after it
        assert ray.get(exporter.run_now.remote()) is None  # restarted: not written twice
    finally:
        ray.kill(exporter.host)
    records = components.exporter().exports()  # JSON Lines, and Parquet beside it
    assert [r.key for r in records if r.key.endswith(".jsonl.gz")] == [key]
    assert {r.kind for r in records} == {"full"}
    lines = gzip.decompress(b"".join(components.store.read(key))).splitlines()
    assert len(lines) == 10


def _hosted(settings: Settings, service: str) -> ServiceHandle:
    """``service`` alone in a service host (killing the host kills only it)."""
    return ServiceHandle(start_service_host(settings, [service]), service)


def _on_own_s3(ray_settings: Settings, own_s3: OwnS3) -> Settings:
    """The test's settings with the store on a server of the test's own, one try per call
    (an outage shows at once instead of after boto3's retries)."""
    settings = ray_settings.model_copy(deep=True)
    settings.store.kind = "s3"
    settings.store.s3 = own_s3.server.settings("prip-faults", max_attempts=1)
    return settings


def _published_granules(components: Components, tmp_path: Path, count: int) -> list[Product]:
    components.migrate()
    components.store.ensure_bucket()  # type: ignore[attr-defined]
    made = tmp_path / "made"
    made.mkdir()
    for index in range(count):
        source = make_product(made, "granule", index, 20_000).path
        assert components.ingest.ingest(source, remove=False).status == "published"
    return components.products.by_names([p.name for p in made.glob("*.tar")])
