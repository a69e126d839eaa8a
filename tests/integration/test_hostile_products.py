"""Products the production chain should never have sent: each ends in quarantine with its
reason (issue #15), on SQLite and on PostgreSQL, and leaves nothing behind in the store, the
catalogue or the ingestion journal. Only an outage of the DB or the store is retried."""

from __future__ import annotations

import io
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from prip_ray.bootstrap import Components
from prip_ray.errors import IngestFailed
from tests.bombs import gzip_tar_bomb
from tests.fixtures.components import BuildComponents
from tests.samples import GRANULE, TILE, extract_sample, retar


def _assert_quarantined(components: Components, source: Path, code: str, reason: str) -> None:
    outcome = components.ingest.ingest(source)
    assert outcome.status == "rejected", outcome
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == code, record
    assert reason in record["reason"], record
    assert not source.exists() and not source.is_symlink()
    assert list(components.store.keys()) == []
    assert components.products.by_name(source.name) is None
    assert components.ingest.journal.entries() == []


def _inbox(components: Components) -> Path:
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox


def _with_inventory(components: Components, tmp_path: Path, old: str, new: str) -> Path:
    """The granule sample with one Inventory_Metadata.xml field changed, in the inbox."""
    folder = extract_sample(GRANULE, tmp_path / "edit")
    inventory = folder / "Inventory_Metadata.xml"
    text = inventory.read_text(encoding="latin-1")
    assert old in text
    inventory.write_text(text.replace(old, new, 1), encoding="latin-1")
    return retar(folder, _inbox(components) / f"{GRANULE}.tar", gzip=True)


def test_a_value_beyond_the_integer_column_is_quarantined(
    components: Components, tmp_path: Path
) -> None:
    """orbitNumber 10**20 fits Python's int but no BIGINT: PostgreSQL answers with a
    DataError, SQLite with an OverflowError. Neither is an outage."""
    source = _with_inventory(
        components,
        tmp_path,
        "<Start_Orbit_Number>043890<",
        "<Start_Orbit_Number>100000000000000000000<",
    )
    _assert_quarantined(components, source, "InvalidMetadata", "cannot be stored")


def test_a_date_in_year_10000_is_quarantined(components: Components, tmp_path: Path) -> None:
    source = _with_inventory(
        components,
        tmp_path,
        "<Validity_Stop>UTC=2025-08-01T07:06:20.464<",
        "<Validity_Stop>UTC=10000-08-01T07:06:20.464<",
    )
    _assert_quarantined(components, source, "InvalidMetadata", "Validity_Stop")


def test_a_dot_slash_member_is_quarantined(components: Components, tmp_path: Path) -> None:
    """What ``tar -C PDI -cf x.tar .`` writes: a ``./`` directory member first."""
    folder = extract_sample(GRANULE, tmp_path / "edit")
    source = _inbox(components) / f"{GRANULE}.tar"
    with tarfile.open(source, "w") as archive:
        archive.add(folder, arcname=".")
    outcome = components.ingest.ingest(source)
    # The PDI's files sit at the top: read, checked and published like any other layout,
    # or refused with a reason; never an exception that leaves it in the inbox forever.
    assert outcome.status in ("published", "rejected"), outcome
    assert not source.exists()


def test_an_exception_nobody_expected_is_quarantined(components: Components) -> None:
    """A zip whose member uses a compression method Python cannot read raises
    NotImplementedError deep inside zipfile: not an outage, so not retried."""
    source = _inbox(components) / f"{TILE}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{TILE}/MTD_TL.xml", b"<x/>")
    data = bytearray(buffer.getvalue())
    for offset in (8, data.rindex(b"PK\x01\x02") + 10):  # local and central method fields
        data[offset : offset + 2] = (99).to_bytes(2, "little")
    source.write_bytes(bytes(data))
    _assert_quarantined(components, source, "IngestFailed", "NotImplementedError")


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_number_that_is_not_finite_is_quarantined(
    components: Components, tmp_path: Path, value: str
) -> None:
    source = _with_inventory(
        components, tmp_path, "<CloudPercentage>0<", f"<CloudPercentage>{value}<"
    )
    _assert_quarantined(components, source, "InvalidMetadata", "CloudPercentage")


def _key_file(components: Components) -> Path:
    """A secret the PRIP keeps beside its inbox (DATA_DIR/token-key.pem by default)."""
    key = components.settings.token_key_file
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    return key


# A plain-file product type: whatever bytes the link points to would be its content.
PLAIN = "S2B_OPER_MSI_L1C_TC_2BPS_20231015T123456_A043890_T39UWP_N02.08.jp2"


@pytest.mark.parametrize("remove", [True, False])
def test_a_symlink_in_the_inbox_is_quarantined_not_followed(
    components: Components, remove: bool
) -> None:
    key = _key_file(components)
    link = _inbox(components) / PLAIN
    link.symlink_to(key)
    [item] = components.inbox.ready()
    assert item.source == str(link)
    outcome = components.ingest.ingest(link, remove=remove)
    assert outcome.status == "rejected", outcome
    assert "link" in (outcome.reason or "")
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == "InvalidPackage"
    kept = components.settings.quarantine / PLAIN
    assert kept.is_symlink()  # the link itself, never a copy of what it points to
    assert link.is_symlink() != remove
    assert key.read_text().startswith("-----BEGIN")
    assert list(components.store.keys()) == []


def test_a_symlink_to_a_folder_or_nowhere_is_quarantined(
    components: Components, tmp_path: Path
) -> None:
    folder = extract_sample(GRANULE, tmp_path / "elsewhere")
    inbox = _inbox(components)
    (inbox / GRANULE).symlink_to(folder, target_is_directory=True)
    (inbox / PLAIN).symlink_to(tmp_path / "gone")  # dangling: listed all the same
    ready = components.inbox.ready()
    assert sorted(item.published_name for item in ready) == sorted([GRANULE, PLAIN])
    for item in ready:
        outcome = components.ingest.ingest(item.source)
        assert outcome.status == "rejected" and "link" in (outcome.reason or ""), outcome
    assert folder.is_dir() and (folder / "Inventory_Metadata.xml").exists()
    assert list(inbox.iterdir()) == []
    assert list(components.store.keys()) == []


def test_a_hardlinked_file_in_the_inbox_is_quarantined(components: Components) -> None:
    key = _key_file(components)
    link = _inbox(components) / PLAIN
    link.hardlink_to(key)
    _assert_quarantined(components, link, "InvalidPackage", "hard link")
    assert key.read_text().startswith("-----BEGIN")


def test_a_hardlink_inside_a_pdi_folder_is_quarantined(
    components: Components, tmp_path: Path
) -> None:
    key = _key_file(components)
    folder = extract_sample(GRANULE, _inbox(components))
    (folder / "key.pem").hardlink_to(key)
    outcome = components.ingest.ingest(folder)
    assert outcome.status == "rejected" and "hard link" in (outcome.reason or ""), outcome
    assert list(components.store.keys()) == []


def test_hardlinks_are_accepted_when_the_operator_says_so(
    components: Components, tmp_path: Path
) -> None:
    components.ingest.accept_hardlinks = True
    original = tmp_path / f"{GRANULE}.tar"
    retar(extract_sample(GRANULE, tmp_path / "x"), original, gzip=True)
    link = _inbox(components) / original.name
    link.hardlink_to(original)
    assert components.ingest.ingest(link).status == "published"


def test_a_gzip_bomb_is_quarantined(components: Components, tmp_path: Path) -> None:
    folder = extract_sample(GRANULE, tmp_path / "bomb")
    files = {
        f"{GRANULE}/{p.relative_to(folder).as_posix()}": p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    source = gzip_tar_bomb(_inbox(components) / f"{GRANULE}.tar", 1 << 30, files)
    _assert_quarantined(components, source, "InvalidPackage", "archive bomb")


def test_a_product_over_the_qc_timeout_is_quarantined(
    components: Components, tmp_path: Path, built_components: BuildComponents
) -> None:
    """Data_Size admits the 1 GiB member; ingest.qc_timeout_s stops reading it."""
    settings = components.settings.model_copy(
        update={"ingest": components.settings.ingest.model_copy(update={"qc_timeout_s": 0.3})}
    )
    ingest = built_components(settings).ingest
    assert ingest.scan_limits.timeout_s == 0.3
    folder = extract_sample(GRANULE, tmp_path / "slow")
    inventory = folder / "Inventory_Metadata.xml"
    text = inventory.read_text(encoding="latin-1")
    inventory.write_text(text.replace(">18374111<", f">{2 << 30}<"), encoding="latin-1")
    files = {f"{GRANULE}/Inventory_Metadata.xml": inventory.read_bytes()}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            files.setdefault(f"{GRANULE}/{p.relative_to(folder).as_posix()}", p.read_bytes())
    source = gzip_tar_bomb(_inbox(components) / f"{GRANULE}.tar", 1 << 30, files)
    outcome = ingest.ingest(source)
    assert outcome.status == "rejected", outcome
    [record] = ingest.quarantine.reasons()
    assert record["code"] == "QcTimeout"
    assert "ingest.qc_timeout_s" in record["reason"]
    assert list(components.store.keys()) == []


def test_a_fifo_in_the_inbox_is_quarantined_not_read(components: Components) -> None:
    """Opening a FIFO blocks until someone writes to it: a QC worker would hang for good.
    (Should it be read, the writer below ends the wait after a few seconds.)"""
    fifo = _inbox(components) / PLAIN
    os.mkfifo(fifo)
    writer = threading.Timer(5, lambda: Path(fifo).write_bytes(b"\x00" * 10))
    writer.daemon = True
    writer.start()
    try:
        outcome = components.ingest.ingest(fifo)
    finally:
        writer.cancel()
    assert outcome.status == "rejected" and "not a regular file" in (outcome.reason or "")
    assert list(components.store.keys()) == []
    assert (components.settings.quarantine / PLAIN).exists()


def test_a_fifo_inside_a_pdi_folder_is_quarantined(components: Components, tmp_path: Path) -> None:
    folder = extract_sample(GRANULE, _inbox(components))
    os.mkfifo(folder / "pipe")
    outcome = components.ingest.ingest(folder)
    assert outcome.status == "rejected" and "not a regular file" in (outcome.reason or ""), outcome


def test_a_product_that_kills_its_workers_is_quarantined_unread(
    components: Components,
) -> None:
    """What the shard does once a product's QC workers died ingest.max_worker_deaths times."""
    source = _inbox(components) / PLAIN
    source.write_bytes(b"whatever kills the worker")
    outcome = components.ingest.quarantine_unread(
        source, IngestFailed(f"{PLAIN}: its QC worker failed 3 times on it")
    )
    assert outcome.status == "rejected" and "failed 3 times" in (outcome.reason or "")
    [record] = components.ingest.quarantine.reasons()
    assert record["code"] == "IngestFailed"
    assert (components.settings.quarantine / PLAIN).read_bytes() == b"whatever kills the worker"
    assert not source.exists()
