"""Inspect one product package: read it once, quality-check it, derive its metadata.

This is the CPU-heavy half of ingestion (hashing, XML), run by the QC workers; it touches
neither the DB nor the object store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.inventory import parse_inventory
from prip_ray.domain.manifest import parse_manifest
from prip_ray.domain.metadata import build_metadata
from prip_ray.domain.naming import parse_name
from prip_ray.domain.olqc import is_report
from prip_ray.domain.package import Package, PackageListing, ScanLimits
from prip_ray.domain.product_types import ProductTypeRegistry
from prip_ray.domain.products import ProductMetadata
from prip_ray.domain.qc import QcPolicy, QcReport, quality_check
from prip_ray.pdi import scan_package
from prip_ray.services.olqc import with_report


@dataclass(frozen=True)
class Inspection:
    metadata: ProductMetadata
    report: QcReport
    digests: ProductHashes | None = None  # what the product's traces certify
    listing: PackageListing | None = None  # its members, for its Nodes


def inspect_package(
    package: Package,
    published_name: str,
    *,
    registry: ProductTypeRegistry,
    policy: QcPolicy,
    origin_date: datetime,
    now: datetime,
    trace_algorithm: str | None = None,
    limits: ScanLimits | None = None,
) -> Inspection:
    """Raise a QC error (InvalidProductName, InvalidPackage, InvalidMetadata,
    QualityCheckFailed, QcTimeout) if the product must not be published.
    ``trace_algorithm``: also hash what a trace certifies, in the same read."""
    name = parse_name(published_name)
    rule = registry.match(name)
    scan = scan_package(package, trace_algorithm, limits=limits)
    inventory = parse_inventory(scan.inventory) if scan.inventory is not None else None
    manifest = parse_manifest(scan.manifest) if scan.manifest is not None else None
    report = quality_check(name, rule, scan, inventory, manifest, policy)
    metadata = build_metadata(
        name,
        rule,
        scan,
        inventory,
        published_name=published_name,
        origin_date=origin_date,
        checksum_date=now,
    )
    if is_report(name.file_type):
        metadata = with_report(metadata, package, name, scan)
    return Inspection(metadata, report, scan.trace, scan.listing)
