"""Products as OData JSON, with the property names and shapes of the PRIP interface."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from prip_ray.domain.assets import Asset
from prip_ray.domain.footprint import to_ewkt
from prip_ray.domain.products import Attribute, DeletedProduct, Product

PRODUCT_PROPERTIES = (
    "Id",
    "Name",
    "ContentType",
    "ContentLength",
    "OriginDate",
    "PublicationDate",
    "ModificationDate",
    "EvictionDate",
    "Online",
    "Checksum",
    "ContentDate",
    "ProductionType",
    "Footprint",
    "GeoFootprint",
)


def odata_datetime(value: datetime) -> str:
    """``2025-08-01T07:42:12.646Z``; microseconds kept when they are not whole milliseconds."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    precision = "microseconds" if value.microsecond % 1000 else "milliseconds"
    return value.isoformat(timespec=precision)[:-6] + "Z"  # "+00:00" -> "Z"


def product_json(
    product: Product,
    *,
    with_attributes: bool = False,
    select: Sequence[str] | None = None,
    expand: Collection[str] = (),
    service_root: str = "",
) -> dict[str, Any]:
    """``service_root`` (``https://prip.example/odata/v1/``) starts the assets' DownloadLink;
    empty, the link is relative to it, as ``@odata.context`` is."""
    body: dict[str, Any] = {
        "@odata.mediaContentType": product.content_type,
        "Id": str(product.id),
        "Name": product.name,
        "ContentType": product.content_type,
        "ContentLength": product.content_length,
        "OriginDate": odata_datetime(product.origin_date),
        "PublicationDate": odata_datetime(product.publication_date),
        "ModificationDate": odata_datetime(product.modification_date),
        "EvictionDate": odata_datetime(product.eviction_date),
        "Online": product.online,
        "Checksum": [
            {
                "Algorithm": c.algorithm,
                "Value": c.value,
                "ChecksumDate": odata_datetime(c.date),
            }
            for c in product.checksums
        ],
        "ContentDate": {
            "Start": odata_datetime(product.content_date.start),
            "End": odata_datetime(product.content_date.end),
        },
        "ProductionType": product.production_type,
        "Footprint": to_ewkt(product.footprint) if product.footprint else None,
        "GeoFootprint": product.footprint.geojson if product.footprint else None,
    }
    if select is not None:
        keep = set(select) | {"@odata.mediaContentType", "Id"}
        body = {k: v for k, v in body.items() if k in keep}
    if with_attributes or "Attributes" in expand:
        body["Attributes"] = [attribute_json(a) for a in product.attributes]
    if "Assets" in expand:
        body["Assets"] = [asset_json(a, service_root) for a in product.assets]
    if "Quicklooks" in expand:  # the older CSC navigation: the quicklook is an Asset now
        body["Quicklooks"] = []
    return body


def asset_json(asset: Asset, service_root: str = "") -> dict[str, Any]:
    """As CDSE gives an asset, but for ``S3Path``: the quicklook is a member of the
    product's package, not an object of its own."""
    return {
        "Type": asset.type,
        "Id": str(asset.id),
        "DownloadLink": f"{service_root}Assets({asset.id})/$value",
    }


def deleted_product_json(
    entry: DeletedProduct,
    *,
    with_attributes: bool = False,
    select: Sequence[str] | None = None,
    expand: Collection[str] = (),
) -> dict[str, Any]:
    """A DeletedProducts entity: the product's properties, then DeletionDate and
    DeletionCause (as CDSE's DeletedProducts gives them)."""
    body = product_json(
        entry.product, with_attributes=with_attributes, select=select, expand=expand
    )
    for name, value in (
        ("DeletionDate", odata_datetime(entry.deletion_date)),
        ("DeletionCause", entry.cause),
    ):
        if select is None or name in select:
            body[name] = value
    return body


def attribute_json(attribute: Attribute) -> dict[str, Any]:
    value = attribute.value
    return {
        "@odata.type": f"#OData.CSC.{attribute.value_type}Attribute",
        "Name": attribute.name,
        "ValueType": attribute.value_type,
        "Value": odata_datetime(value) if isinstance(value, datetime) else value,
    }


def collection_context(
    entity_set: str, *, expand: Sequence[str] = (), select: Sequence[str] | None = None
) -> str:
    """``$metadata#Products``, ``...#Products(Attributes())``, ``...#Products(Id,Name)``."""
    parts = list(select or ()) + [f"{e}()" for e in expand]
    return f"$metadata#{entity_set}" + (f"({','.join(parts)})" if parts else "")


def collection_body(
    context: str, count: int | None, entities: Sequence[bytes], next_link: str | None
) -> bytes:
    """A collection's JSON from its products' JSON, already encoded (odata/entity_cache.py):
    ``{"@odata.context", ["@odata.count",] "value", ["@odata.nextLink"]}``."""
    head: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        head["@odata.count"] = count
    body = orjson.dumps(head)[:-1] + b',"value":[' + b",".join(entities) + b"]"
    if next_link is not None:
        body += b',"@odata.nextLink":' + orjson.dumps(next_link)
    return body + b"}"


def entity_context(
    entity_set: str, *, expand: Sequence[str] = (), select: Sequence[str] | None = None
) -> str:
    return collection_context(entity_set, expand=expand, select=select) + "/$entity"
