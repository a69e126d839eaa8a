"""Read the OLQC report a ``REP_OLQCPA`` product is, at inspection (QC workers).

A report that cannot be read, or whose header contradicts its name, is refused like any
malformed product (quarantine with the reason). One that passes is published with the
attributes that make it searchable (``inspectedProduct``, ``globalStatus``, ...); linking it
to the product it inspects happens in the publication's transaction (``db/olqc.py``).
"""

from __future__ import annotations

from dataclasses import replace

from prip_ray.domain.naming import ProductName
from prip_ray.domain.olqc import check_report_matches_name, parse_report, report_attributes
from prip_ray.domain.package import FILE, Package, PackageScan
from prip_ray.domain.products import ProductMetadata
from prip_ray.errors import InvalidPackage
from prip_ray.pdi import read_package

MAX_REPORT = 16 << 20  # a report is a few KB; one this large is not a report


def with_report(
    metadata: ProductMetadata, package: Package, name: ProductName, scan: PackageScan
) -> ProductMetadata:
    """``metadata`` of the report in ``package``, with the report's own attributes."""
    if scan.format != FILE:
        raise InvalidPackage(f"{name.file_name}: an OLQC report must be one XML file")
    if scan.size > MAX_REPORT:
        raise InvalidPackage(f"{name.file_name}: {scan.size} bytes is too large for a report")
    report = parse_report(read_package(package), name.file_name)
    check_report_matches_name(name, report)
    attributes = {a.name: a for a in metadata.attributes}
    attributes.update((a.name, a) for a in report_attributes(report))
    return replace(metadata, attributes=tuple(attributes[key] for key in sorted(attributes)))
