"""Mapping between domain Products and rows of the ``products``/``attributes`` tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping

from prip_ray.domain.assets import Asset
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.package import Member, PackageListing
from prip_ray.domain.products import Attribute, Checksum, Footprint, Product, TimeRange

PRODUCT_TYPE = "productType"
_VALUE_COLUMN = {
    "String": "string_value",
    "Integer": "integer_value",
    "Double": "double_value",
    "Boolean": "boolean_value",
    "DateTimeOffset": "datetime_value",
}


def value_column(value_type: str) -> str:
    """The typed column that holds attributes of an OData attribute subtype."""
    return _VALUE_COLUMN[value_type]


def product_row(product: Product) -> dict[str, Any]:
    footprint = product.footprint
    bbox = footprint.bbox if footprint else (None, None, None, None)
    return {
        "id": product.id,
        "name": product.name,
        "product_type": product.product_type,
        "content_type": product.content_type,
        "content_length": product.content_length,
        "origin_date": product.origin_date,
        "publication_date": product.publication_date,
        "eviction_date": product.eviction_date,
        "modification_date": product.modification_date,
        "content_start": product.content_date.start,
        "content_end": product.content_date.end,
        "online": product.online,
        "production_type": product.production_type,
        "object_key": product.object_key,
        "checksums": [_checksum_json(c) for c in product.checksums],
        "md5": product.checksum("MD5") or "",
        "footprint": footprint.geojson if footprint else None,
        "min_lon": bbox[0],
        "min_lat": bbox[1],
        "max_lon": bbox[2],
        "max_lat": bbox[3],
    }


def attribute_rows(product: Product) -> list[dict[str, Any]]:
    """The product's attributes as rows, productType always among them and always equal to
    the product_type column: search answers productType filters from that column."""
    given = {a.name: a for a in product.attributes}
    product_type = Attribute(PRODUCT_TYPE, "String", product.product_type)
    if given.setdefault(PRODUCT_TYPE, product_type) != product_type:
        raise ValueError(
            f"{product.name}: productType attribute {given[PRODUCT_TYPE].value!r} "
            f"is not its product type {product.product_type!r}"
        )
    rows = []
    for attribute in given.values():
        row: dict[str, Any] = dict.fromkeys(_VALUE_COLUMN.values())
        row.update(product_id=product.id, name=attribute.name, value_type=attribute.value_type)
        row[value_column(attribute.value_type)] = attribute.value
        rows.append(row)
    return rows


def product_from_row(
    row: RowMapping, attributes: Iterable[Attribute] = (), assets: Iterable[Asset] = ()
) -> Product:
    footprint = None
    if row["footprint"] is not None:
        bbox = (row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"])
        footprint = Footprint(geojson=row["footprint"], bbox=bbox)
    return Product(
        id=row["id"],
        name=row["name"],
        product_type=row["product_type"],
        content_type=row["content_type"],
        content_length=row["content_length"],
        origin_date=row["origin_date"],
        publication_date=row["publication_date"],
        eviction_date=row["eviction_date"],
        modification_date=row["modification_date"],
        content_date=TimeRange(row["content_start"], row["content_end"]),
        object_key=row["object_key"],
        online=row["online"],
        production_type=row["production_type"],
        footprint=footprint,
        checksums=tuple(_checksum_from_json(c) for c in row["checksums"]),
        attributes=tuple(attributes),
        assets=tuple(assets),
    )


def asset_row(product_id: UUID, asset: Asset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "product_id": product_id,
        "type": asset.type,
        "path": asset.path,
        "source_id": asset.source,
    }


def asset_from_row(row: Mapping[Any, Any]) -> Asset:
    return Asset(row["id"], row["type"], row["path"], row["source_id"])


def digests_row(product_id: UUID, digests: ProductHashes) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "algorithm": digests.algorithm,
        "size": digests.size,
        "hash": digests.hash,
        "contents": list(digests.contents),
    }


def digests_from_row(row: Mapping[Any, Any]) -> ProductHashes:  # a RowMapping too
    return ProductHashes(row["algorithm"], row["size"], row["hash"], list(row["contents"]))


def listing_row(product_id: UUID, listing: PackageListing) -> dict[str, Any]:
    members = [_member_row(m) for m in listing.members]
    return {"product_id": product_id, "format": listing.format, "members": members}


def listing_from_row(row: Mapping[Any, Any]) -> PackageListing:
    return PackageListing(row["format"], tuple(Member(*member) for member in row["members"]))


def _member_row(member: Member) -> list[Any]:
    """[path, size, offset, folder], and the compressed length of a deflated zip member
    (rows written before zip members were served have four items: read the same)."""
    row = [member.path, member.size, member.offset, member.folder]
    return row if member.deflated is None else [*row, member.deflated]


def attribute_from_row(row: RowMapping) -> Attribute:
    value_type = row["value_type"]
    return Attribute(row["name"], value_type, row[value_column(value_type)])


def _checksum_json(checksum: Checksum) -> dict[str, str]:
    return {
        "Algorithm": checksum.algorithm,
        "Value": checksum.value,
        "ChecksumDate": checksum.date.isoformat(),
    }


def _checksum_from_json(data: Mapping[str, str]) -> Checksum:
    return Checksum(data["Algorithm"], data["Value"], datetime.fromisoformat(data["ChecksumDate"]))
