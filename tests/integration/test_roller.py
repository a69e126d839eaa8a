"""The rolling archive on real databases and the real local store and S3: what is due goes,
bytes after the entry is offline, busy products wait, the watermark, dry runs, crash sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, load_settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.eviction import EvictionRepository
from prip_ray.db.tables import products
from prip_ray.serve.app import basic_header
from tests.fixtures.components import BuildComponents
from tests.receiver import LOOPBACK, receiver
from tests.samples import DATASTRIP, GRANULE, TILE, drop, sample

LATER = datetime.now(UTC) + timedelta(days=8)  # past the 7-day retention of every sample


def test_due_products_are_evicted_and_stay_in_the_catalogue(
    api: TestClient, components: Components
) -> None:
    report = components.roller(now=lambda: LATER).run_once()
    assert sorted(report.evicted) == sorted(f"{s}.tar" for s in (GRANULE, DATASTRIP, TILE))
    assert report.freed_bytes == sum(sample(s).stat().st_size for s in (GRANULE, DATASTRIP, TILE))
    assert list(components.store.keys()) == []
    headers = basic_header("alice", "alice-pw")
    offline = api.get(
        "/odata/v1/Products", params={"$filter": "Online eq false"}, headers=headers
    ).json()
    assert len(offline["value"]) == 3
    key = offline["value"][0]["Id"]
    assert api.get(f"/odata/v1/Products({key})/$value", headers=headers).status_code == 404
    assert components.roller(now=lambda: LATER).run_once().evicted == []  # nothing twice


def test_dry_run_lists_and_changes_nothing(api: TestClient, components: Components) -> None:
    report = components.roller(now=lambda: LATER).run_once(dry_run=True)
    assert report.dry_run and len(report.evicted) == 3
    assert len(list(components.store.keys())) == 3
    assert EvictionRepository(components.engine).stored_bytes() > 0


def test_a_product_being_downloaded_waits(api: TestClient, components: Components) -> None:
    alice = components.users.get("alice")
    busy = components.products.by_name(f"{TILE}.tar")
    assert alice is not None and busy is not None
    download = components.quotas.start(alice, busy)
    with components.engine.begin() as conn:  # due now, while the download is running
        conn.execute(
            update(products).values(eviction_date=datetime.now(UTC) - timedelta(seconds=1))
        )
    report = components.roller().run_once()
    assert f"{TILE}.tar" in report.busy and f"{TILE}.tar" not in report.evicted
    assert components.store.size(busy.object_key) is not None
    components.downloads.finish(download, 1, True, datetime.now(UTC))
    assert f"{TILE}.tar" in components.roller().run_once().evicted


def test_watermark_evicts_the_oldest_first(api: TestClient, components: Components) -> None:
    sizes = {p.name: p.content_length for p in components.products.by_ids([
        p.id for p in (components.products.by_name(f"{s}.tar") for s in (GRANULE, DATASTRIP, TILE)) if p
    ])}  # fmt: skip
    total = sum(sizes.values())
    components.settings.roller.watermark_gb = (total - 1) / 1000**3  # one byte too many
    report = components.roller().run_once()  # nothing is due yet: only the watermark acts
    oldest = min(components.products.by_ids([p.id for p in (components.products.by_name(n) for n in sizes) if p]),
                 key=lambda p: (p.publication_date, p.id))  # fmt: skip
    assert report.evicted == [oldest.name] and "watermark" in report.reasons[oldest.name]


def test_a_crash_between_offline_and_delete_is_swept(
    api: TestClient, components: Components
) -> None:
    evictions = EvictionRepository(components.engine)
    product = components.products.by_name(f"{GRANULE}.tar")
    assert product is not None
    assert (
        evictions.mark_evicted(product.id, datetime.now(UTC)) == product.object_key
    )  # then: crash
    assert components.store.size(product.object_key) is not None
    report = components.roller().run_once()
    assert report.orphans_removed == 1 and components.store.size(product.object_key) is None


def test_evictions_notify_deleted_subscriptions(api: TestClient, components: Components) -> None:
    components.settings.subscriptions.allowed_networks = LOOPBACK  # the receiver's address
    with receiver() as endpoint:
        components.subscriptions.create(
            owner="alice", event="deleted", filter_param=f"Name eq '{TILE}.tar'",
            endpoint=endpoint.url, username=None, sealed_password=None, now=datetime.now(UTC),
        )  # fmt: skip
        components.roller(now=lambda: LATER).run_once()
        notifier = components.notifier()
        try:
            notifier.run_once()
        finally:
            notifier.close()
        (note,) = endpoint.received
        assert note["SubscriptionEvent"] == "deleted" and note["ProductName"] == f"{TILE}.tar"
        assert note["value"]["Online"] is False


@pytest.mark.s3
def test_eviction_on_s3(
    tmp_path: Path, s3_settings: S3Settings, built_components: BuildComponents
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        store={"kind": "s3", "s3": s3_settings.model_dump()},
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    assert components.ingest.ingest(drop(sample(GRANULE), settings.inbox)).status == "published"
    assert len(list(components.store.keys())) == 1
    assert components.roller(now=lambda: LATER).run_once().evicted == [f"{GRANULE}.tar"]
    assert list(components.store.keys()) == []


def _publish_hktm(components: Components, tmp_path: Path) -> str:
    name = "S2B_OPER_PRD_HKTM___20250801T070000_20250801T070500_0001"
    source = tmp_path / "hktm-src" / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"telemetry" * 1000)
    outcome = components.ingest.ingest(drop(source, components.settings.inbox))
    assert outcome.status == "published", outcome.reason
    return name


def _with_fos(build: BuildComponents, components: Components) -> Components:
    """FOS configured (the Roller never connects to it, it only reads the queue)."""
    fos = components.settings.fos.model_copy(update={"sftp_url": "sftp://prip@127.0.0.1:1/h"})
    return build(components.settings.model_copy(update={"fos": fos}))


def test_hktm_waits_for_fos_past_its_date_and_the_watermark(
    components: Components, tmp_path: Path
) -> None:
    """An SFTP outage longer than the retention loses no telemetry: an HKTM product past
    its EvictionDate, over the watermark, is kept while its delivery to FOS is pending."""
    name = _publish_hktm(components, tmp_path)
    queue = DeliveryQueue(components.engine, "hktm")
    assert queue.feed(lambda e: e.product_type == "PRD_HKTM__", datetime.now(UTC), 100) == 1
    [delivery] = queue.due(datetime.now(UTC), 10)
    queue.retry(delivery.id, "FOS unreachable", LATER + timedelta(days=30))  # FOS is down
    components.settings.roller.watermark_gb = 1e-9  # one byte: everything is over it
    report = components.roller(now=lambda: LATER).run_once()
    assert report.evicted == [] and report.held == [name]
    product = components.products.by_name(name)
    assert product is not None and product.online
    assert components.store.size(product.object_key) is not None
    queue.done(delivery.id, LATER, {"path": f"hktm/{name}"})  # FOS is back and has it
    assert components.roller(now=lambda: LATER).run_once().evicted == [name]


def test_hktm_not_yet_queued_for_fos_is_held_only_when_fos_is_configured(
    components: Components, tmp_path: Path, built_components: BuildComponents
) -> None:
    """The forwarder has not queued it (it is down, or behind): with FOS configured the
    product is still owed to FOS; without FOS nothing would ever deliver it."""
    name = _publish_hktm(components, tmp_path)
    report = _with_fos(built_components, components).roller(now=lambda: LATER).run_once()
    assert report.evicted == [] and report.held == [name]
    assert components.roller(now=lambda: LATER).run_once().evicted == [name]
