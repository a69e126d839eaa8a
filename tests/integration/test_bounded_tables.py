"""A simulated stretch of days on both databases, every service driven with a fake clock:
products published, traced, notified, downloaded, evicted, exported and forgotten at a steady
rate. Every table's row count reaches a plateau proportional to rate x retention instead of
growing with the days."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Table, func, insert, select

from prip_ray.bootstrap import Components
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.pruning import EventPruner
from prip_ray.db.tables import (
    assets,
    attributes,
    deleted_attributes,
    deleted_products,
    deliveries,
    downloads,
    health_probes,
    ingestions,
    kpi_days,
    kpi_hours,
    kpi_probe_hours,
    olqc_awaited,
    olqc_outcomes,
    outbox,
    product_nodes,
    products,
    quarantine,
    request_counts,
    trace_digests,
)
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.package import Member, PackageListing
from prip_ray.domain.quotas import QuotaLimits
from prip_ray.services.history import HistoryCleaner
from tests.samples import TILE

RATE = 4  # products a day
DAYS = 18
TABLES = (
    products, attributes, trace_digests, product_nodes, assets, deleted_products,
    deleted_attributes, outbox, deliveries, downloads, request_counts, health_probes,
    ingestions, olqc_outcomes, olqc_awaited, kpi_hours, kpi_days, kpi_probe_hours,
    quarantine,
)  # fmt: skip


def test_every_table_reaches_a_plateau(api: TestClient, components: Components) -> None:
    roller = components.settings.roller
    roller.offline_retention, roller.deleted_retention, roller.events_retention = "1d", "3d", "2d"
    components.settings.ingest.retention = "2d"  # as the products' EvictionDate below
    components.settings.ingest.quarantine_retention = "2d"
    template = components.products.by_name(f"{TILE}.tar")
    assert template is not None
    subscription = components.subscriptions.create(
        owner="alice", event="created", filter_param="Online eq true",
        endpoint="http://127.0.0.1:9/", username=None, sealed_password=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    with components.engine.connect() as conn:
        query = select(func.count()).where(attributes.c.product_id == template.id)
        per_product = {"attributes": conn.execute(query).scalar_one()}
    per_product["deleted_attributes"] = per_product["attributes"]
    digests = components.products.trace_digests(template.id, "BLAKE3")
    listing = components.products.listing(template.id)
    assert digests is not None and listing is not None
    preview = Member("QL/quick-look.png", 1000, 0)  # the samples have none: an asset each
    rows = Rows(digests, dataclasses.replace(listing, members=(*listing.members, preview)))
    start = datetime.now(UTC)
    history: list[dict[str, int]] = []
    for day in range(DAYS):
        now = start + timedelta(days=day)
        _one_day(components, template, rows, subscription.id, now, day)
        history.append(_counts(components))
    last = history[-1]
    for table in TABLES:
        name = table.name
        series = [h[name] for h in history]
        assert last[name] == history[-4][name], (name, series)  # flat for the last days
        bound = RATE * 12 * per_product.get(name, 1)  # rate x (retentions + slack)
        assert last[name] <= bound, (name, series)
    assert last["products"] > 0 and last["deleted_products"] > 0 and last["outbox"] > 0
    assert last["olqc_outcomes"] > 0 and last["kpi_hours"] > 0 and last["kpi_days"] > 0
    assert last["trace_digests"] > 0 and last["product_nodes"] > 0 and last["assets"] > 0
    assert last["quarantine"] > 0
    assert last["products"] < RATE * DAYS  # far fewer than ever published


def test_the_newest_event_and_needed_deliveries_stay(
    api: TestClient, components: Components
) -> None:
    pruner = EventPruner(components.engine)
    trace = DeliveryQueue(components.engine, "trace")
    later = datetime.now(UTC) + timedelta(days=365)
    trace.feed(lambda event: True, datetime.now(UTC), 100)
    for delivery in trace.due(later, 100):
        trace.done(delivery.id, later, None)
    newest = max(e.seq for e in components.subscriptions.events_after(0, 100))
    assert pruner.prune_outbox(later) == 2  # every reader is past; the newest stays
    assert [e.seq for e in components.subscriptions.events_after(0, 100)] == [newest]
    assert pruner.prune_deliveries(later) == 0  # their products are still listed
    components.roller(now=lambda: later).run_once()  # evicted: three new events
    assert min(e.seq for e in components.subscriptions.events_after(0, 100)) > newest


@dataclasses.dataclass(frozen=True)
class Rows:
    """What ingestion computed for the template, published with each copy of it."""

    digests: ProductHashes
    listing: PackageListing


def _one_day(
    components: Components,
    template: Any,
    rows: Rows,
    subscription_id: Any,
    now: datetime,
    day: int,
) -> None:
    journal = components.ingest.journal
    for i in range(RATE):
        product_id = uuid.uuid4()
        name = f"{template.name.removesuffix('.tar')}_{day:03d}_{i}.tar"
        product = dataclasses.replace(
            template, id=product_id, name=name, publication_date=now, modification_date=now,
            eviction_date=now + timedelta(days=2), object_key=f"{product_id}/{name}",
        )  # fmt: skip
        journal.begin(name, product.object_key, "", "")
        components.products.publish(product, rows.digests, listing=rows.listing)
        journal.finish(name)
        components.downloads.start("alice", product, QuotaLimits(), now, lambda *_: None)
        components.counters.hit("user:alice", now)
    trace = DeliveryQueue(components.engine, "trace")
    trace.feed(lambda event: True, now, 1000)
    for delivery in trace.due(now, 1000):
        trace.done(delivery.id, now, None)
    newest = max((e.seq for e in components.subscriptions.events_after(0, 100_000)), default=0)
    components.subscriptions.advance(subscription_id, newest, now)  # a healthy subscriber
    with components.engine.begin() as conn:  # a report's tally, and an hour rolled up
        conn.execute(insert(olqc_outcomes).values(
            inspected=name.removesuffix(".tar"), passed=1, failed=0, errors=0, updated_at=now,
        ))  # fmt: skip
        conn.execute(insert(kpi_hours).values(
            hour=now, product_type="ALL", published=RATE, p50_s=1.0, p95_s=2.0, max_s=3.0,
            bins=[], buckets={}, strips={},
        ))  # fmt: skip
        conn.execute(insert(kpi_probe_hours).values(hour=now, good=1, failed=0, changes=[]))
        conn.execute(insert(kpi_days).values(
            day=now, product_type="ALL", published=RATE, buckets={},
        ))  # fmt: skip
    _refuse(components, f"{template.name.removesuffix('.tar')}_{day:03d}_refused.tar", now)
    probes = KpiRepository(components.engine)
    probes.record_probe(now, True, 0.01, None)
    probes.purge_probes(now - timedelta(days=2))  # as the health probe actor does
    HistoryCleaner(
        components.downloads, components.counters, components.users, 3, now=lambda: now
    ).run_once()
    exporter = components.exporter()
    exporter._now = lambda: now
    exporter.export(since=now - timedelta(days=1) if day else None)
    components.roller(now=lambda: now + timedelta(minutes=5)).run_once()


def _refuse(components: Components, name: str, now: datetime) -> None:
    """A refusal at ``now``: RecordedQuarantine.put's steps with the clock moved on."""
    quarantined = components.recorded_quarantine()
    target = quarantined.root / name
    target.write_bytes(b"not a tar")
    record = {"name": name, "code": "InvalidPackage", "reason": "not a tar",
              "quarantined_at": now.isoformat()}  # fmt: skip
    Path(f"{target}.reason.json").write_text(json.dumps(record))
    quarantined.settle(str(target), record, target.stat().st_size)


def _counts(components: Components) -> dict[str, int]:
    with components.engine.connect() as conn:
        return {t.name: _count(conn, t) for t in TABLES}


def _count(conn: Any, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
