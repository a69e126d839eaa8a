"""Derive the published metadata of a product from its name, Inventory_Metadata and package.

The attribute names are those the Sentinel-2 PRIP publishes (interface digest); each has one
fixed value type, so a typed filter (``Integer``/``Double``/``DateTimeOffset``) always applies.
"""

from __future__ import annotations

from datetime import datetime

from prip_ray.domain.footprint import footprint_from_points
from prip_ray.domain.inventory import Inventory
from prip_ray.domain.naming import ProductName
from prip_ray.domain.package import PackageScan
from prip_ray.domain.product_types import DATASTRIP, GRANULE, TILE, ProductTypeRule
from prip_ray.domain.products import Attribute, AttributeValue, Checksum, ProductMetadata, TimeRange

INSTRUMENTS = {"MSI": "MSI"}
QUALITY_STATUS = {"N": "NOMINAL", "D": "DEGRADED"}


def build_metadata(
    name: ProductName,
    rule: ProductTypeRule,
    scan: PackageScan,
    inventory: Inventory | None,
    *,
    published_name: str,
    origin_date: datetime,
    checksum_date: datetime,
) -> ProductMetadata:
    content_date = _content_date(name, inventory, origin_date)
    return ProductMetadata(
        name=published_name,
        product_type=name.file_type,
        content_type=rule.content_type(name),
        content_length=scan.size,
        origin_date=origin_date,
        content_date=content_date,
        footprint=footprint_from_points(inventory.points) if inventory else None,
        attributes=tuple(_attributes(name, rule, inventory, content_date)),
        checksums=(
            Checksum("MD5", scan.md5, checksum_date),
            Checksum("BLAKE3", scan.blake3, checksum_date),
        ),
    )


def _content_date(name: ProductName, inventory: Inventory | None, fallback: datetime) -> TimeRange:
    if inventory is not None:
        return TimeRange(inventory.validity_start, inventory.validity_stop)
    if name.validity is not None:
        return TimeRange(*name.validity)
    if name.orbit_period is not None:
        return TimeRange(name.orbit_period[1], name.orbit_period[2])
    moment = name.sensing or name.creation or fallback
    return TimeRange(moment, moment)


def _attributes(
    name: ProductName, rule: ProductTypeRule, inventory: Inventory | None, content: TimeRange
) -> list[Attribute]:
    values: dict[str, AttributeValue | None] = {
        "productType": name.file_type,
        "platformShortName": name.platform,
        "platformSerialIdentifier": name.unit,
        "instrumentShortName": INSTRUMENTS.get(name.file_type[:3]),
        "processingLevel": rule.processing_level,
        "beginningDateTime": content.start,
        "endingDateTime": content.end,
        "tileId": name.tile or (inventory.tile_id if inventory else None),
        "detectorId": int(name.detector) if name.detector else None,
        "relativeOrbitNumber": name.relative_orbit,
        "orbitNumber": name.absolute_orbit,
        "baselineCollection": name.baseline,
        "processingStation": name.site,
        "processingCenter": name.site,
        "processingDate": name.creation,
        "qualityStatus": QUALITY_STATUS.get(name.degradation or "N"),
        "productCategory": rule.category,
    }
    if inventory is not None:
        values |= _inventory_values(name, rule, inventory)
    return [_typed(key, value) for key, value in sorted(values.items()) if value is not None]


def _inventory_values(
    name: ProductName, rule: ProductTypeRule, inventory: Inventory
) -> dict[str, AttributeValue | None]:
    values: dict[str, AttributeValue | None] = {
        "orbitNumber": inventory.start_orbit or name.absolute_orbit,
        "orbitDirection": _direction(inventory.ascending),
        "productGroupId": inventory.group_id,
        "processorVersion": inventory.source_sw_version,
        "processingDate": inventory.generation_time or name.creation,
        "processingStation": inventory.processing_station or name.site,
        "processingCenter": inventory.processing_station or name.site,
        "acquisitionStation": inventory.acquisition_station,
        "cloudCover": inventory.cloud_percentage,
        "qualityInfo": _float(inventory.quality_info),
        "baselineCollection": name.baseline or inventory.file_version,
        "detectorId": int(inventory.detector)
        if inventory.detector and inventory.detector.isdigit()
        else (int(name.detector) if name.detector else None),
    }
    if rule.category == DATASTRIP:
        values["datastripId"] = inventory.file_id
    elif rule.category in (GRANULE, TILE):
        values["granuleIdentifier"] = inventory.file_id
        values["datastripId"] = inventory.parent_id
    return values


def _typed(name: str, value: AttributeValue) -> Attribute:
    if isinstance(value, bool):
        return Attribute(name, "Boolean", value)
    if isinstance(value, int):
        return Attribute(name, "Integer", value)
    if isinstance(value, float):
        return Attribute(name, "Double", value)
    if isinstance(value, datetime):
        return Attribute(name, "DateTimeOffset", value)
    return Attribute(name, "String", str(value))


def _direction(ascending: bool | None) -> str | None:
    if ascending is None:
        return None
    return "ASCENDING" if ascending else "DESCENDING"


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
