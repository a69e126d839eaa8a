"""Quality checks a product must pass before the PRIP publishes it.

Each failed rule raises with a reason precise enough for an operator to act on: which field
contradicts which, which file differs from the manifest and how. Products stripped for size
(data objects listed in manifest.safe but absent) are a policy question, not corruption:
``QcPolicy.absent_files`` decides; a file that is present but differs is always rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

from prip_ray.domain.inventory import Inventory
from prip_ray.domain.manifest import DataObject
from prip_ray.domain.naming import ProductName
from prip_ray.domain.package import FILE, PackageScan
from prip_ray.domain.product_types import ProductTypeRule
from prip_ray.errors import InvalidMetadata, InvalidPackage, QualityCheckFailed

SHA3_NAMES = {"SHA3-256", "SHA3_256", "SHA3"}
_SHOWN = 3  # absent files listed by name in a rejection


@dataclass(frozen=True)
class QcPolicy:
    absent_files: str = "accept"  # "accept" | "reject" data objects the manifest lists
    check_data_size: bool = True


@dataclass(frozen=True)
class QcReport:
    checked_files: int = 0
    absent_files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def quality_check(
    name: ProductName,
    rule: ProductTypeRule,
    scan: PackageScan,
    inventory: Inventory | None,
    manifest: list[DataObject] | None,
    policy: QcPolicy,
) -> QcReport:
    if rule.package and scan.format == FILE:
        raise InvalidPackage(f"{name.file_name}: a {rule.file_type} must be a folder or archive")
    if inventory is None:
        if rule.requires_inventory:
            raise InvalidMetadata(f"{name.file_name}: Inventory_Metadata.xml is missing")
    else:
        check_inventory_matches_name(name, inventory)
        if policy.check_data_size:
            check_data_size(name, scan, inventory)
    if manifest is None:
        return QcReport()
    return check_manifest(name, scan, manifest, policy)


def check_inventory_matches_name(name: ProductName, inventory: Inventory) -> None:
    pairs = [
        ("File_ID", inventory.file_id, name.stem),
        ("File_Type", inventory.file_type, name.file_type),
        ("Satellite_Code", inventory.satellite_code, name.mission if name.unit else None),
        ("Processing_Station", inventory.processing_station, name.site),
        ("Detector", _number(inventory.detector), _number(name.detector)),
        ("Start_Orbit_Number", inventory.start_orbit, name.absolute_orbit),
    ]
    for field, declared, named in pairs:
        if declared is not None and named is not None and declared != named:
            raise InvalidMetadata(
                f"{name.file_name}: Inventory_Metadata <{field}> is {declared!r} "
                f"but the name says {named!r}"
            )
    if inventory.validity_stop < inventory.validity_start:
        raise InvalidMetadata(
            f"{name.file_name}: Validity_Stop {inventory.validity_stop.isoformat()} is before "
            f"Validity_Start {inventory.validity_start.isoformat()}"
        )


def check_data_size(name: ProductName, scan: PackageScan, inventory: Inventory) -> None:
    """Data_Size declares the complete product; more bytes than that cannot be right."""
    if inventory.data_size is not None and scan.content_bytes > inventory.data_size:
        raise QualityCheckFailed(
            f"{name.file_name}: holds {scan.content_bytes} bytes of files but "
            f"Inventory_Metadata <Data_Size> declares {inventory.data_size}"
        )


def check_manifest(
    name: ProductName, scan: PackageScan, manifest: list[DataObject], policy: QcPolicy
) -> QcReport:
    absent: list[str] = []
    notes: set[str] = set()
    checked = 0
    for item in manifest:
        entry = scan.files.get(item.path)
        if entry is None:
            absent.append(item.path)
            continue
        checked += 1
        if item.size is not None and item.size != entry.size:
            raise QualityCheckFailed(
                f"{name.file_name}: {item.path} is {entry.size} bytes, "
                f"manifest.safe declares {item.size}"
            )
        if item.checksum and (item.checksum_name or "").upper() in SHA3_NAMES:
            if item.checksum != entry.sha3_256:
                raise QualityCheckFailed(
                    f"{name.file_name}: {item.path} has SHA3-256 {entry.sha3_256}, "
                    f"manifest.safe declares {item.checksum}"
                )
        elif item.checksum:
            notes.add(f"checksum {item.checksum_name} not verified")
    if absent and policy.absent_files == "reject":
        shown = ", ".join(absent[:_SHOWN]) + (" ..." if len(absent) > _SHOWN else "")
        raise QualityCheckFailed(
            f"{name.file_name}: {len(absent)} data objects of manifest.safe are absent ({shown})"
        )
    return QcReport(checked, tuple(absent), tuple(sorted(notes)))


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isdigit() else None
