"""A rolling catalogue on both databases: evicted rows leave Products after
roller.offline_retention, DeletedProducts entries after roller.deleted_retention, and only
once a catalogue export holds them and every outbox reader is past them; a crash between
(or inside) the steps is finished by the next round."""

from __future__ import annotations

import dataclasses
import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, load_settings
from prip_ray.db.deliveries import DeliveryQueue
from prip_ray.db.retention import RetentionRepository
from prip_ray.db.tables import attributes, deleted_attributes, deleted_products, products
from prip_ray.domain.products import RETENTION_EXPIRED, Product
from prip_ray.services.roll import RollReport
from tests.fixtures.components import BuildComponents
from tests.samples import DATASTRIP, GRANULE, TILE, drop, sample

EVICTED = datetime.now(UTC) + timedelta(days=8)  # past the 7-day retention of every sample
NAMES = sorted(f"{s}.tar" for s in (GRANULE, DATASTRIP, TILE))


def roll(components: Components, at: datetime, **overrides: Any) -> RollReport:
    return components.roller(now=lambda: at, **overrides).run_once()


def export_at(components: Components, at: datetime) -> list[dict[str, Any]]:
    exporter = components.exporter()
    exporter._now = lambda: at
    record = exporter.export()
    data = gzip.decompress(b"".join(components.store.read(record.key)))
    return [json.loads(line) for line in data.splitlines()]


def rows(components: Components, table: Any) -> int:
    with components.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_evicted_rows_leave_products_then_deleted_products(
    api: TestClient, components: Components
) -> None:
    assert len(roll(components, EVICTED).evicted) == 3
    assert roll(components, EVICTED + timedelta(days=4)).left_catalogue == 0  # no export yet
    exported = export_at(components, EVICTED + timedelta(hours=1))
    assert sorted(e["Name"] for e in exported if "DeletionCause" not in e) == NAMES
    assert {e["DeletionCause"] for e in exported if "DeletionCause" in e} == {RETENTION_EXPIRED}
    assert roll(components, EVICTED + timedelta(days=2)).left_catalogue == 0  # within 3 days
    report = roll(components, EVICTED + timedelta(days=3, minutes=1))
    assert report.left_catalogue == 3 and report.purged_deleted == 0
    assert rows(components, products) == rows(components, attributes) == 0
    assert rows(components, deleted_products) == 3 and rows(components, deleted_attributes) > 0
    assert roll(components, EVICTED + timedelta(days=29)).purged_deleted == 0  # within 30 days
    assert roll(components, EVICTED + timedelta(days=30, minutes=1)).purged_deleted == 3
    assert rows(components, deleted_products) == rows(components, deleted_attributes) == 0


def test_nothing_newer_than_the_last_export_leaves(api: TestClient, components: Components) -> None:
    export_at(components, EVICTED - timedelta(hours=1))  # before the evictions
    roll(components, EVICTED)
    assert roll(components, EVICTED + timedelta(days=40)).left_catalogue == 0
    export_at(components, EVICTED + timedelta(days=40))
    report = roll(components, EVICTED + timedelta(days=40, minutes=1))
    assert report.left_catalogue == 3 and report.purged_deleted == 3


def test_a_lagging_subscription_keeps_the_rows(api: TestClient, components: Components) -> None:
    subscription = components.subscriptions.create(
        owner="alice", event="deleted", filter_param="Online eq false",
        endpoint="http://127.0.0.1:9/", username=None, sealed_password=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    roll(components, EVICTED)
    export_at(components, EVICTED + timedelta(hours=1))
    later = EVICTED + timedelta(days=4)
    assert roll(components, later).left_catalogue == 0  # it has not heard of the deletions
    newest = max(e.seq for e in components.subscriptions.events_after(0, 100))
    components.subscriptions.advance(subscription.id, newest, None)
    assert roll(components, later).left_catalogue == 3


def test_a_paused_subscription_holds_the_rows_for_the_events_retention_only(
    api: TestClient, components: Components
) -> None:
    subscription = components.subscriptions.create(
        owner="alice", event="deleted", filter_param="Online eq false",
        endpoint="http://127.0.0.1:9/", username=None, sealed_password=None,
        now=datetime.now(UTC),
    )  # fmt: skip
    components.subscriptions.set_status(subscription.id, "paused")  # and its owner forgets it
    template = components.products.by_name(f"{TILE}.tar")
    assert template is not None
    roll(components, EVICTED)
    export_at(components, EVICTED + timedelta(hours=1))
    assert roll(components, EVICTED + timedelta(days=4)).left_catalogue == 0  # it may resume
    week = EVICTED + timedelta(days=7, minutes=1)  # roller.events_retention: 7 d
    _publish_copy(components, template, evicted_at=week - timedelta(minutes=2))
    _publish_copy(components, template, evicted_at=week, name="again")
    report = roll(components, week - timedelta(minutes=1))  # events of a week on
    assert report.left_catalogue == 0 and report.events_pruned == 0  # held, a week at most
    report = roll(components, week)
    assert report.evicted == [f"again-{TILE}.tar"]
    assert report.left_catalogue == 3  # no more than a week of history held for it
    assert report.events_pruned >= 3  # their deleted events went too


def _publish_copy(
    components: Components, template: Product, evicted_at: datetime, name: str = "copy"
) -> None:
    product_id = uuid.uuid4()
    name = f"{name}-{template.name}"
    copy = dataclasses.replace(
        template, id=product_id, name=name, object_key=f"{product_id}/{name}",
        eviction_date=evicted_at,
    )  # fmt: skip
    components.ingest.journal.begin(name, copy.object_key, "", "")
    components.products.publish(copy)
    components.ingest.journal.finish(name)


def test_a_waiting_delivery_keeps_its_row(api: TestClient, components: Components) -> None:
    roll(components, EVICTED)
    export_at(components, EVICTED + timedelta(hours=1))
    queue = DeliveryQueue(components.engine, "trace")
    queue.feed(lambda e: e.product_name == f"{TILE}.tar" and e.event == "deleted", EVICTED, 100)
    later = EVICTED + timedelta(days=4)
    assert roll(components, later).left_catalogue == 2  # the tile's trace is not sent yet
    (waiting,) = queue.due(later, 10)
    queue.done(waiting.id, later, None)
    assert roll(components, later).left_catalogue == 1


class _CrashOnce(RetentionRepository):
    """Fails once at ``where``: after the first removal, inside a removal's transaction, or
    before the purge."""

    def __init__(self, components: Components, where: str):
        super().__init__(components.engine)
        self.where = where
        self.removed = 0

    def remove(self, product_id: UUID, offline_before: datetime, exported: datetime) -> bool:
        if self.where == "between removals" and self.removed == 1:
            self.where = ""
            raise ConnectionError("the DB went away")
        done = super().remove(product_id, offline_before, exported)
        self.removed += done
        return done

    def _take_out(self, conn: Any, product_id: UUID, offline_since: datetime) -> bool:
        super()._take_out(conn, product_id, offline_since)
        if self.where == "inside a removal":
            self.where = ""
            raise ConnectionError("the DB went away before the commit")
        return True

    def purge(self, ids: list[UUID]) -> int:
        if self.where == "before the purge":
            self.where = ""
            raise ConnectionError("the DB went away")
        return super().purge(ids)


@pytest.mark.parametrize("where", ["between removals", "inside a removal", "before the purge"])
def test_a_crash_is_finished_by_the_next_round(
    api: TestClient, components: Components, where: str
) -> None:
    roll(components, EVICTED)
    with components.engine.begin() as conn:  # rows evicted before DeletedProducts existed
        conn.execute(delete(deleted_attributes))
        conn.execute(delete(deleted_products))
    export_at(components, EVICTED + timedelta(hours=1))
    at = EVICTED + timedelta(days=31)
    crashing = _CrashOnce(components, where)
    with pytest.raises(ConnectionError):
        roll(components, at, retention=crashing)
    in_products, entries = rows(components, products), rows(components, deleted_products)
    if where == "inside a removal":  # rolled back whole: the row stays, no entry
        assert (in_products, entries) == (3, 0)
    assert in_products + entries >= 3  # every product is in one or the other
    with components.engine.connect() as conn:
        both = conn.execute(
            select(func.count()).where(products.c.id == deleted_products.c.id)
        ).scalar_one()
    assert both == 0  # removed rows took their entry with them, none is half-moved
    report = roll(components, at, retention=crashing)
    assert report.left_catalogue == in_products
    assert report.purged_deleted == entries + in_products  # past 30 days too
    assert rows(components, products) == rows(components, deleted_products) == 0
    assert rows(components, deleted_attributes) == 0


def test_entries_written_on_the_way_out_keep_the_offline_date(
    api: TestClient, components: Components
) -> None:
    roll(components, EVICTED)
    with components.engine.begin() as conn:
        conn.execute(delete(deleted_attributes))
        conn.execute(delete(deleted_products))
    export_at(components, EVICTED + timedelta(hours=1))
    roll(components, EVICTED + timedelta(days=4))
    with components.engine.connect() as conn:
        found = conn.execute(
            select(deleted_products.c.deletion_date, deleted_products.c.deletion_cause)
        ).all()
    assert len(found) == 3
    assert {cause for _, cause in found} == {RETENTION_EXPIRED}
    assert all(abs(date - EVICTED) < timedelta(seconds=1) for date, _ in found)


def test_kpis_still_count_products_that_left_products(
    api: TestClient, components: Components
) -> None:
    now = datetime.now(UTC)
    window = (now - timedelta(days=1), now + timedelta(minutes=1))
    before = components.kpi().report(*window)
    roll(components, EVICTED)
    export_at(components, EVICTED + timedelta(hours=1))
    assert roll(components, EVICTED + timedelta(days=4)).left_catalogue == 3
    after = components.kpi().report(*window)
    assert after["completeness"] == before["completeness"]
    assert after["timeliness"] == before["timeliness"]
    assert after["datastrips"] == before["datastrips"]
    assert sum(c["published"] for c in after["completeness"]) == 3


@pytest.mark.s3
def test_the_catalogue_rolls_on_s3_and_postgresql(
    tmp_path: Path, s3_settings: S3Settings, clean_pg: Engine, built_components: BuildComponents
) -> None:
    """Exports written to the bucket, found there by the Roller: rows leave, entries go."""
    settings = load_settings(
        data_dir=tmp_path,
        db={"url": clean_pg.url.render_as_string(hide_password=False)},
        store={"kind": "s3", "s3": s3_settings.model_dump()},
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    assert components.ingest.ingest(drop(sample(GRANULE), settings.inbox)).status == "published"
    assert roll(components, EVICTED).evicted == [f"{GRANULE}.tar"]
    assert list(components.store.keys()) == []  # the bytes left the bucket
    assert roll(components, EVICTED + timedelta(days=4)).left_catalogue == 0  # no export yet
    lines = export_at(components, EVICTED + timedelta(hours=1))
    assert [e["DeletionCause"] for e in lines if "DeletionCause" in e] == [RETENTION_EXPIRED]
    assert roll(components, EVICTED + timedelta(days=4)).left_catalogue == 1
    assert roll(components, EVICTED + timedelta(days=31)).purged_deleted == 1
    assert rows(components, products) == rows(components, deleted_products) == 0
    assert [r.kind for r in components.exporter().exports()] == ["full", "full"]  # JSONL, Parquet
