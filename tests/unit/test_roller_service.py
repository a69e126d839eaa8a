"""The Roller on in-memory ports: what is due or over the watermark goes offline with its
``deleted`` event first, then its bytes; busy and owed products wait; a store failure leaves
bytes to the next round's sweep; old offline rows, DeletedProducts entries, events and
quarantine entries leave once past their retention (and exported)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prip_ray.domain.products import RETENTION_EXPIRED, STORAGE_WATERMARK, Product
from prip_ray.services.roll import Roller
from tests.unit.fakes import (
    T0,
    FakeArchive,
    FakeClock,
    FakeEventPruner,
    FakeObjectStore,
    FakeQuarantineFolder,
    a_product,
)

DAY = timedelta(days=1)


class World:
    def __init__(self) -> None:
        self.archive = FakeArchive()
        self.store = FakeObjectStore()
        self.time = FakeClock()
        self.exported_until = T0 - DAY  # the catalogue export's high-water mark

    def publish(self, name: str, size: int = 10, days: float = 30, age: float = 0) -> Product:
        """A product published ``age`` days ago that may stay ``days`` days."""
        published = self.time.now() - timedelta(days=age)
        product = a_product(
            name,
            b"x" * size,
            publication_date=published,
            eviction_date=published + timedelta(days=days),
        )
        self.store.objects[product.object_key] = b"x" * size
        return self.archive.add(product)

    def roller(self, watermark_bytes: int | None = None, **options: Any) -> Roller:
        return Roller(
            self.archive,
            self.store,
            watermark_bytes=watermark_bytes,
            batch=100,
            stale_download_s=60,
            fos_types=("PRD_HKTM__",),
            now=self.time.now,
            exported_until=lambda: self.exported_until,
            **options,
        )

    def online(self) -> set[str]:
        return {p.name for p in self.archive.products.values() if p.online}


def test_products_past_their_eviction_date_go_offline_then_lose_their_bytes() -> None:
    world = World()
    expired = world.publish("EXPIRED", days=30, age=31)
    world.publish("KEPT", days=30, age=1)

    report = world.roller().run_once()

    assert report.evicted == ["EXPIRED"] and report.freed_bytes == 10
    assert world.online() == {"KEPT"}
    assert world.archive.events == [("deleted", expired.id)]
    assert world.archive.deleted[expired.id] == (world.time.now(), RETENTION_EXPIRED)
    assert set(world.store.objects) == {"KEPT"}
    assert world.archive.products[expired.id].object_key == ""


def test_above_the_watermark_the_oldest_go_until_the_store_is_below() -> None:
    world = World()
    oldest = world.publish("OLDEST", size=40, age=3)
    world.publish("OLDER", size=40, age=2)
    world.publish("NEWEST", size=40, age=1)

    report = world.roller(watermark_bytes=80).run_once()

    assert report.evicted == ["OLDEST"]
    assert world.online() == {"OLDER", "NEWEST"}
    assert world.archive.deleted[oldest.id][1] == STORAGE_WATERMARK


def test_products_being_downloaded_or_owed_to_fos_wait() -> None:
    world = World()
    downloaded = world.publish("DOWNLOADED", age=31)
    owed = world.publish("HKTM", age=31)
    world.archive.downloading.add(downloaded.id)
    world.archive.undelivered.add(owed.id)

    report = world.roller().run_once()

    assert report.evicted == [] and report.busy == ["DOWNLOADED"] and report.held == ["HKTM"]
    assert world.online() == {"DOWNLOADED", "HKTM"}


def test_a_dry_run_reports_and_changes_nothing() -> None:
    world = World()
    world.publish("EXPIRED", age=31)

    report = world.roller().run_once(dry_run=True)

    assert report.dry_run and report.evicted == ["EXPIRED"]
    assert world.online() == {"EXPIRED"} and set(world.store.objects) == {"EXPIRED"}
    assert world.archive.events == []


def test_bytes_the_store_failed_to_delete_go_in_the_next_round() -> None:
    world = World()
    expired = world.publish("EXPIRED", age=31)
    world.store.broken = True

    first = world.roller().run_once()
    world.store.broken = False
    second = world.roller().run_once()

    assert first.evicted == ["EXPIRED"] and world.online() == set()
    assert second.evicted == [] and second.orphans_removed == 1
    assert world.store.objects == {} and world.archive.products[expired.id].object_key == ""
    assert world.archive.events == [("deleted", expired.id)]  # announced once


def test_offline_rows_and_deleted_entries_leave_once_past_their_retention() -> None:
    world = World()
    gone = world.publish("GONE", days=1, age=40)
    recent = world.publish("RECENT", days=1, age=2)
    world.time.advance(-30 * DAY.total_seconds())
    world.roller().run_once()  # GONE is evicted 30 days ago
    world.time.advance(30 * DAY.total_seconds())
    world.roller().run_once()  # RECENT now
    world.exported_until = world.time.now()

    report = world.roller(
        retention=world.archive, offline_retention=7 * DAY, deleted_retention=7 * DAY
    ).run_once()

    assert report.left_catalogue == 1 and report.purged_deleted == 1
    assert set(world.archive.products) == {recent.id}
    assert set(world.archive.deleted) == {recent.id} and gone.id not in world.archive.deleted


def test_nothing_leaves_the_catalogue_before_the_export_holds_it() -> None:
    world = World()
    evicted = world.publish("EVICTED", days=1, age=40)
    world.time.advance(-30 * DAY.total_seconds())
    world.roller().run_once()
    world.time.advance(30 * DAY.total_seconds())
    world.exported_until = world.time.now() - 60 * DAY

    report = world.roller(
        retention=world.archive, offline_retention=DAY, deleted_retention=DAY
    ).run_once()

    assert report.left_catalogue == 0 and report.purged_deleted == 0
    assert evicted.id in world.archive.products and evicted.id in world.archive.deleted


def test_old_events_and_quarantine_entries_are_pruned_each_round() -> None:
    world = World()
    events = FakeEventPruner()
    events.outbox[:] = [T0 - 10 * DAY, T0 - DAY]
    events.deliveries[:] = [T0 - 10 * DAY]
    events.outcomes[:] = [T0 - 100 * DAY, T0 - 10 * DAY]
    quarantine = FakeQuarantineFolder(T0 - 40 * DAY, T0 - DAY)

    report = world.roller(
        events=events,
        events_retention=7 * DAY,
        outcomes_retention=30 * DAY,
        quarantine=quarantine,
        quarantine_retention=30 * DAY,
    ).run_once()

    assert report.events_pruned == 3 and report.quarantine_purged == 1
    assert events.outbox == [T0 - DAY] and events.outcomes == [T0 - 10 * DAY]
    assert quarantine.entries == [T0 - DAY] and quarantine.reconciled == 1
