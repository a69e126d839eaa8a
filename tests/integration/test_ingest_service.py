"""Ingestion end to end in one process: real DB, real local store, real sample products."""

from __future__ import annotations

import shutil
import tarfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from prip_ray.bootstrap import Components
from prip_ray.db.tables import ingestions
from prip_ray.domain.products import Product
from tests.samples import SAMPLES_DIR

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))


def _drop(components: Components, *paths: Path) -> list[Path]:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, inbox / p.name)) for p in paths]


def _stored_bytes(components: Components, product: Product) -> bytes:
    return b"".join(components.store.read(product.object_key))


def test_samples_are_published_with_bytes_metadata_and_checksums(components: Components) -> None:
    for source in _drop(components, *SAMPLES):
        outcome = components.ingest.ingest(source)
        assert outcome.status == "published", outcome.reason
        assert not source.exists()  # the inbox copy is gone once published
    for original in SAMPLES:
        product = components.products.by_name(original.name)
        assert product is not None
        assert _stored_bytes(components, product) == original.read_bytes()
        assert product.content_length == original.stat().st_size
        assert {c.algorithm for c in product.checksums} >= {"MD5"}
        assert len(product.checksums) >= 2  # MD5 and a stronger one
        assert product.eviction_date - product.publication_date == timedelta(days=7)
        names = {a.name for a in product.attributes}
        assert {"productType", "platformShortName", "platformSerialIdentifier"} <= names
    assert components.ingest.journal.entries() == []


def test_a_folder_is_published_as_a_tar_of_it(components: Components, tmp_path: Path) -> None:
    with tarfile.open(SAMPLES[0]) as archive:
        archive.extractall(components.settings.inbox, filter="data")
    folder = next(components.settings.inbox.iterdir())
    outcome = components.ingest.ingest(folder)
    assert outcome.status == "published", outcome.reason
    product = components.products.by_name(folder.name + ".tar")
    assert product is not None
    stored = tmp_path / "stored.tar"
    stored.write_bytes(_stored_bytes(components, product))
    with tarfile.open(stored) as archive:
        assert f"{folder.name}/Inventory_Metadata.xml" in archive.getnames()


def test_a_duplicate_is_quarantined_and_the_original_kept(components: Components) -> None:
    [first] = _drop(components, SAMPLES[0])
    assert components.ingest.ingest(first).status == "published"
    [again] = _drop(components, SAMPLES[0])
    outcome = components.ingest.ingest(again)
    assert outcome.status == "rejected"
    assert "already published" in (outcome.reason or "")
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == "DuplicateProduct"
    assert (components.settings.quarantine / SAMPLES[0].name).exists()
    assert len(list(components.store.keys())) == 1


def test_a_corrupt_archive_is_quarantined_with_its_reason(components: Components) -> None:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    broken = inbox / SAMPLES[0].name
    broken.write_bytes(SAMPLES[0].read_bytes()[:3000])  # truncated gzip stream
    outcome = components.ingest.ingest(broken)
    assert outcome.status == "rejected"
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == "InvalidPackage"
    assert record["name"] == SAMPLES[0].name
    assert not broken.exists()
    assert list(components.store.keys()) == []
    assert components.products.by_name(SAMPLES[0].name) is None


def test_an_unknown_name_is_quarantined(components: Components) -> None:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    stray = inbox / "holiday-photos.tar"
    shutil.copy(SAMPLES[0], stray)
    outcome = components.ingest.ingest(stray)
    assert outcome.status == "rejected"
    assert components.ingest.quarantine.reasons()[0]["code"] == "InvalidProductName"


def test_crash_after_storing_before_publishing_leaves_no_orphan(components: Components) -> None:
    """The bytes of an attempt that never got published are deleted by recovery."""
    [source] = _drop(components, SAMPLES[1])
    ingest = components.ingest
    key = "00000000-0000-0000-0000-000000000001/" + source.name
    ingest.journal.begin(source.name, key, "0" * 32, str(source))
    components.store.put_file(key, source)  # ... and the process died here
    source.unlink()  # the production chain took the product back
    assert ingest.recover(lambda _: True, lambda s: True, stale_after=timedelta(hours=1)) == 1
    assert components.store.size(key) is None
    assert ingest.journal.entries() == []


def test_crash_before_publishing_then_retry_publishes_once(components: Components) -> None:
    [source] = _drop(components, SAMPLES[1])
    ingest = components.ingest
    key = "00000000-0000-0000-0000-000000000002/" + source.name
    ingest.journal.begin(source.name, key, "0" * 32, str(source))
    components.store.put_file(key, source)  # died here; the product is still in the inbox
    assert ingest.ingest(source).status == "published"
    assert components.store.size(key) is None  # the earlier attempt's bytes were dropped
    assert len(list(components.store.keys())) == 1


def test_crash_after_publishing_before_clearing_the_inbox(components: Components) -> None:
    [source] = _drop(components, SAMPLES[2])
    ingest = components.ingest
    assert ingest.ingest(source, remove=False).status == "published"
    product = components.products.by_name(source.name)
    assert product is not None
    # The state a crash between publication and inbox clean-up leaves behind:
    ingest.journal.begin(
        source.name, product.object_key, product.checksum("MD5") or "", str(source)
    )
    with components.engine.begin() as conn:
        conn.execute(update(ingestions).values(state="published"))
    outcome = ingest.ingest(source)
    assert outcome.status == "completed"
    assert not source.exists()
    assert ingest.journal.entries() == []
    assert components.ingest.quarantine.reasons() == []
    assert len(list(components.store.keys())) == 1
