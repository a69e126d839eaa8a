"""Archive bombs (issue #15) are refused with a reason before they are unpacked, and a
scan that runs too long stops with QcTimeout. The bombs are made on the fly, small on disk."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prip_ray.domain.package import ScanLimits
from prip_ray.domain.product_types import default_registry
from prip_ray.domain.qc import QcPolicy
from prip_ray.errors import InvalidPackage, QcTimeout
from prip_ray.pdi import scan_package
from prip_ray.services.inspect import inspect_package
from tests.bombs import MIB, gzip_tar_bomb, sparse_tar, zip_declaring
from tests.samples import GRANULE, extract_sample

GIB = 1 << 30
NOW = datetime(2025, 8, 1, 8, 0, tzinfo=UTC)


def _granule_files(tmp_path: Path, data_size: int | None = None) -> dict[str, bytes]:
    """The granule sample's own files, Inventory_Metadata.xml first (Data_Size changed)."""
    folder = extract_sample(GRANULE, tmp_path / "granule")
    inventory = (folder / "Inventory_Metadata.xml").read_bytes()
    if data_size is not None:
        inventory = inventory.replace(b"<Data_Size>18374111<", b"<Data_Size>%d<" % data_size)
    files = {f"{GRANULE}/Inventory_Metadata.xml": inventory}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        files.setdefault(f"{GRANULE}/{path.relative_to(folder).as_posix()}", path.read_bytes())
    return files


def test_a_gzip_bomb_is_refused_without_unpacking_it(tmp_path: Path) -> None:
    bomb = gzip_tar_bomb(tmp_path / f"{GRANULE}.tar", GIB, _granule_files(tmp_path))
    assert bomb.stat().st_size < 2 * MIB
    started = time.monotonic()
    with pytest.raises(InvalidPackage, match=r"archive bomb: member .*zeros.bin declares"):
        inspect_package(
            bomb,
            bomb.name,
            registry=default_registry(),
            policy=QcPolicy(),
            origin_date=NOW,
            now=NOW,
        )
    assert time.monotonic() - started < 2  # unpacking it all takes several seconds


def test_many_members_that_together_exceed_the_budget_are_stopped(tmp_path: Path) -> None:
    """Each member declares little, together they unpack to more than the budget: the
    member that crosses it is refused, the rest is never read."""
    files = _granule_files(tmp_path, data_size=1000)
    files |= {f"{GRANULE}/fill{i}.bin": bytes(MIB) for i in range(12)}
    bomb = gzip_tar_bomb(tmp_path / f"{GRANULE}.tar", MIB, files)
    limits = ScanLimits(max_expansion=10, min_budget_bytes=4 * MIB)
    with pytest.raises(InvalidPackage, match=r"archive bomb: member .*fill\d+.bin declares"):
        scan_package(bomb, limits=limits)


def test_data_size_widens_the_budget_and_the_timeout_bounds_it(tmp_path: Path) -> None:
    """An inventory declaring 1 GiB admits a 1 GiB member; reading it is then bounded by
    the QC timeout."""
    files = _granule_files(tmp_path, data_size=2 * GIB)
    bomb = gzip_tar_bomb(tmp_path / f"{GRANULE}.tar", GIB, files)
    started = time.monotonic()
    with pytest.raises(QcTimeout, match=r"longer than 0.3 s \(ingest.qc_timeout_s\)"):
        scan_package(bomb, limits=ScanLimits(timeout_s=0.3))
    assert time.monotonic() - started < 2


def test_a_sparse_member_is_refused(tmp_path: Path) -> None:
    bomb = sparse_tar(tmp_path / "sparse.tar", "PDI/big.img", GIB)
    started = time.monotonic()
    with pytest.raises(InvalidPackage, match="sparse"):
        scan_package(bomb)
    assert time.monotonic() - started < 1


def test_a_zip_declaring_gigabytes_is_refused_before_reading(tmp_path: Path) -> None:
    bomb = zip_declaring(tmp_path / "declared.zip", "PDI/big.img", 4 * GIB - 1)
    with pytest.raises(InvalidPackage, match=r"archive bomb: member PDI/big.img declares"):
        scan_package(bomb)


def test_real_samples_fit_their_budget() -> None:
    """The DS sample unpacks to 14 times its size: within the 64 MB floor."""
    from tests.samples import SAMPLES_DIR

    for sample in sorted(SAMPLES_DIR.glob("*.tar")):
        scan_package(sample, limits=ScanLimits(timeout_s=60))
