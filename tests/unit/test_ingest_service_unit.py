"""The ingest service on in-memory ports and a real sample product: published once with its
bytes, a duplicate refused, a crash after publication completed not repeated, an object
store or catalogue outage retried with the product left in the inbox, an abandoned attempt
undone by recovery."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from prip_ray.domain.journal import JournalEntry
from prip_ray.domain.product_types import default_registry
from prip_ray.domain.qc import QcPolicy
from prip_ray.services.ingest import IngestService
from tests.samples import SAMPLES_DIR
from tests.unit.fakes import (
    T0,
    FakeJournal,
    FakeObjectStore,
    FakePublisher,
    FakeQuarantine,
    a_product,
)

SAMPLE = sorted(SAMPLES_DIR.glob("S2B_*.tar"))[0]


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.inbox = tmp_path / "inbox"
        self.inbox.mkdir()
        self.store = FakeObjectStore()
        self.journal = FakeJournal()
        self.catalogue = FakePublisher(self.journal)
        self.quarantine = FakeQuarantine()
        self.service = IngestService(
            store=self.store,
            repository=self.catalogue,
            journal=self.journal,
            quarantine=self.quarantine,
            registry=default_registry(),
            policy=QcPolicy(),
            retention=timedelta(days=7),
            work_dir=tmp_path / "work",
            trace_algorithm="BLAKE3",
        )

    def drop(self, sample: Path = SAMPLE) -> Path:
        return Path(shutil.copy(sample, self.inbox / sample.name))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_product_is_published_once_with_its_bytes(world: World) -> None:
    source = world.drop()

    outcome = world.service.ingest(source)

    assert outcome.status == "published", outcome.reason
    product = world.catalogue.by_name(SAMPLE.name)
    assert product is not None and str(product.id) == outcome.product_id
    assert world.store.objects[product.object_key] == SAMPLE.read_bytes()
    assert product.checksum("MD5") == hashlib.md5(SAMPLE.read_bytes()).hexdigest()
    assert not source.exists() and world.journal.rows == {}


def test_a_second_delivery_is_refused_as_a_duplicate(world: World) -> None:
    world.service.ingest(world.drop())

    again = world.service.ingest(world.drop())

    assert again.status == "rejected" and "DuplicateProduct" in (again.reason or "")
    assert world.quarantine.refused == {SAMPLE.name: "DuplicateProduct"}
    assert len(world.catalogue.products) == 1 and len(world.store.objects) == 1


def test_a_crash_after_publication_is_completed_not_published_again(world: World) -> None:
    source = world.drop()
    md5 = hashlib.md5(SAMPLE.read_bytes()).hexdigest()
    published = world.catalogue.add(a_product(SAMPLE.name, SAMPLE.read_bytes()))
    world.journal.rows[SAMPLE.name] = JournalEntry(
        SAMPLE.name, published.object_key, md5, "published", str(source), 1, T0
    )

    outcome = world.service.ingest(source)

    assert (outcome.status, outcome.product_id) == ("completed", str(published.id))
    assert not source.exists() and world.journal.rows == {}
    assert len(world.catalogue.products) == 1 and world.quarantine.refused == {}


def test_an_object_store_outage_leaves_the_product_in_the_inbox(world: World) -> None:
    source = world.drop()
    world.store.broken = True

    outcome = world.service.ingest(source)
    assert outcome.status == "retry" and source.exists()
    world.store.broken = False
    later = world.service.ingest(source)

    assert later.status == "published" and not source.exists()
    assert len(world.catalogue.products) == 1 and len(world.store.objects) == 1
    assert world.quarantine.refused == {}


def test_a_catalogue_outage_retries_and_keeps_the_product(world: World) -> None:
    source = world.drop()
    world.catalogue.down = True

    outcome = world.service.ingest(source)

    assert outcome.status == "retry"
    assert source.exists() and world.catalogue.products == {}
    assert world.quarantine.refused == {}


def test_recovery_undoes_an_abandoned_attempt(world: World) -> None:
    world.store.objects["k/old"] = b"half"
    world.journal.rows["OLD"] = JournalEntry("OLD", "k/old", "", "storing", "", 1, T0)

    resolved = world.service.recover(
        lambda name: True, lambda source: True, stale_after=timedelta(hours=1)
    )

    assert resolved == 1
    assert world.journal.rows == {} and world.store.objects == {}


def test_a_file_that_is_no_product_is_quarantined(world: World) -> None:
    source = world.inbox / "not-a-product.txt"
    source.write_text("hello")

    outcome = world.service.ingest(source)

    assert outcome.status == "rejected"
    assert list(world.quarantine.refused) == ["not-a-product.txt"]
    assert world.catalogue.products == {} and world.journal.rows == {}
