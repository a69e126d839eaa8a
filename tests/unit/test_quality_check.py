"""QC on the real samples and on broken variants of them: each refusal names its reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prip_ray.domain.product_types import default_registry
from prip_ray.domain.qc import QcPolicy
from prip_ray.errors import InvalidMetadata, InvalidPackage, InvalidProductName, QualityCheckFailed
from prip_ray.services.inspect import Inspection, inspect_package
from tests.samples import DATASTRIP, GRANULE, TILE, extract_sample, retar, sample

NOW = datetime(2025, 8, 1, 8, 0, tzinfo=UTC)


def inspect(path: Path, policy: QcPolicy | None = None, name: str | None = None) -> Inspection:
    return inspect_package(
        path,
        name or path.name,
        registry=default_registry(),
        policy=policy or QcPolicy(),
        origin_date=NOW,
        now=NOW,
    )


@pytest.mark.parametrize("stem", [GRANULE, DATASTRIP, TILE])
def test_the_real_samples_pass_the_default_policy(stem: str) -> None:
    inspection = inspect(sample(stem))
    metadata = inspection.metadata
    assert metadata.name == f"{stem}.tar"
    assert metadata.content_length == sample(stem).stat().st_size
    assert [c.algorithm for c in metadata.checksums] == ["MD5", "BLAKE3"]
    assert metadata.footprint is not None
    assert inspection.report.checked_files >= 1
    assert inspection.report.absent_files  # the samples were stripped for size


def test_sample_attributes_and_content_date() -> None:
    metadata = inspect(sample(GRANULE)).metadata
    attributes = {a.name: (a.value_type, a.value) for a in metadata.attributes}
    assert attributes["productType"] == ("String", "MSI_L0__GR")
    assert attributes["platformShortName"] == ("String", "SENTINEL-2")
    assert attributes["platformSerialIdentifier"] == ("String", "B")
    assert attributes["orbitNumber"] == ("Integer", 43890)
    assert attributes["detectorId"] == ("Integer", 4)
    assert attributes["processingLevel"] == ("String", "Level-0")
    assert attributes["datastripId"] == ("String", DATASTRIP)
    assert attributes["cloudCover"] == ("Double", 0.0)
    assert metadata.content_date.start == datetime(2025, 8, 1, 7, 6, 20, 464000, tzinfo=UTC)


def test_absent_files_policy_reject_refuses_stripped_samples() -> None:
    with pytest.raises(QualityCheckFailed, match=r"data objects of manifest.safe are absent"):
        inspect(sample(TILE), QcPolicy(absent_files="reject"))


def edited(tmp_path: Path, stem: str, file: str, old: str, new: str) -> Path:
    folder = extract_sample(stem, tmp_path / "edit")
    path = folder / file
    text = path.read_text(encoding="latin-1")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="latin-1")
    return retar(folder, tmp_path / f"{stem}.tar", gzip=True)


def test_metadata_contradicting_the_name(tmp_path: Path) -> None:
    product = edited(tmp_path, GRANULE, "Inventory_Metadata.xml", "<Detector>04<", "<Detector>07<")
    with pytest.raises(InvalidMetadata, match=r"<Detector> is 7 but the name says 4"):
        inspect(product)


def test_file_type_contradicting_the_name(tmp_path: Path) -> None:
    product = edited(
        tmp_path, TILE, "Inventory_Metadata.xml", "<File_Type>MSI_L2A_TL", "<File_Type>MSI_L1C_TL"
    )
    with pytest.raises(InvalidMetadata, match="File_Type"):
        inspect(product)


def test_malformed_inventory(tmp_path: Path) -> None:
    product = edited(tmp_path, TILE, "Inventory_Metadata.xml", "</Inventory_Metadata>", "")
    with pytest.raises(InvalidMetadata, match="well-formed"):
        inspect(product)


def test_missing_inventory(tmp_path: Path) -> None:
    folder = extract_sample(TILE, tmp_path / "edit")
    (folder / "Inventory_Metadata.xml").unlink()
    with pytest.raises(InvalidMetadata, match="missing"):
        inspect(retar(folder, tmp_path / f"{TILE}.tar"))


def test_declared_size_smaller_than_the_content(tmp_path: Path) -> None:
    product = edited(
        tmp_path, TILE, "Inventory_Metadata.xml", "<Data_Size>878596534", "<Data_Size>1000"
    )
    with pytest.raises(QualityCheckFailed, match=r"Data_Size> declares 1000"):
        inspect(product)


def test_file_that_differs_from_the_manifest(tmp_path: Path) -> None:
    product = edited(tmp_path, TILE, "MTD_TL.xml", "<", "< ")
    with pytest.raises(
        QualityCheckFailed, match=r"MTD_TL.xml is \d+ bytes, manifest.safe declares"
    ):
        inspect(product)


def test_same_size_different_checksum(tmp_path: Path) -> None:
    folder = extract_sample(TILE, tmp_path / "edit")
    mtd = folder / "MTD_TL.xml"
    data = bytearray(mtd.read_bytes())
    data[-2] ^= 0x01
    mtd.write_bytes(bytes(data))
    with pytest.raises(QualityCheckFailed, match=re.escape("MTD_TL.xml has SHA3-256")):
        inspect(retar(folder, tmp_path / f"{TILE}.tar"))


def test_unknown_product_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidProductName):
        inspect(sample(TILE), name="holiday-photos.tar")


def test_pdi_type_delivered_as_a_plain_file(tmp_path: Path) -> None:
    plain = tmp_path / f"{TILE}.tar"
    plain.write_bytes(b"not an archive at all")
    with pytest.raises(InvalidPackage, match="must be a folder or archive"):
        inspect(plain)


def test_true_colour_image_needs_no_inventory(tmp_path: Path) -> None:
    image = tmp_path / "S2B_OPER_MSI_L1C_TC_2BPS_20231015T123456_A043890_T39UWP_N02.08.jp2"
    image.write_bytes(b"\x00\x00\x00\x0cjP  " + bytes(2000))
    metadata = inspect(image).metadata
    assert metadata.content_type == "image/jp2"
    assert metadata.content_date.start == datetime(2023, 10, 15, 12, 34, 56, tzinfo=UTC)
    assert {a.name for a in metadata.attributes} >= {"tileId", "orbitNumber", "productType"}
