"""The queryable names of a Product and their types: the whitelist every query is checked
against (pygeofilter calls it ``field_mapping``). Nothing outside it reaches SQL."""

from __future__ import annotations

from prip_ray.domain.products import PRODUCTION_TYPES

STRING, INTEGER, DOUBLE, BOOLEAN, DATETIME, GUID, ENUM = (
    "string",
    "integer",
    "double",
    "boolean",
    "datetime",
    "guid",
    "enum",
)

PRODUCT_FIELDS: dict[str, str] = {
    "Id": GUID,
    "Name": STRING,
    "ContentType": STRING,
    "ContentLength": INTEGER,
    "OriginDate": DATETIME,
    "PublicationDate": DATETIME,
    "EvictionDate": DATETIME,
    "ModificationDate": DATETIME,
    "Online": BOOLEAN,
    "ProductionType": ENUM,
    "ContentDate/Start": DATETIME,
    "ContentDate/End": DATETIME,
}

ATTRIBUTE_VALUE_TYPES: dict[str, str] = {
    "String": STRING,
    "Integer": INTEGER,
    "Double": DOUBLE,
    "Boolean": BOOLEAN,
    "DateTimeOffset": DATETIME,
}

CHECKSUM_FIELDS: dict[str, str] = {"Algorithm": STRING, "Value": STRING, "ChecksumDate": DATETIME}

ORDERABLE = (
    "Id",
    "Name",
    "ContentLength",
    "OriginDate",
    "PublicationDate",
    "EvictionDate",
    "ModificationDate",
    "ContentDate/Start",
    "ContentDate/End",
)

SELECTABLE = (
    "Id",
    "Name",
    "ContentType",
    "ContentLength",
    "OriginDate",
    "PublicationDate",
    "EvictionDate",
    "ModificationDate",
    "Online",
    "Checksum",
    "ContentDate",
    "ProductionType",
    "Footprint",
    "GeoFootprint",
)

EXPANDABLE = ("Attributes", "Quicklooks", "Assets")

# DeletedProducts: a Product's names plus when and why it went (CDSE's entity set).
DELETED_PRODUCT_FIELDS: dict[str, str] = {
    **PRODUCT_FIELDS,
    "DeletionDate": DATETIME,
    "DeletionCause": STRING,
}
FIELDS = {"Products": PRODUCT_FIELDS, "DeletedProducts": DELETED_PRODUCT_FIELDS}
ORDERABLE_IN = {"Products": ORDERABLE, "DeletedProducts": (*ORDERABLE, "DeletionDate")}
SELECTABLE_IN = {
    "Products": SELECTABLE,
    "DeletedProducts": (*SELECTABLE, "DeletionDate", "DeletionCause"),
}


def production_type(text: str) -> str | None:
    """The canonical ProductionType for any accepted spelling (``on_demand_default``)."""
    wanted = _squash(text)
    return next((p for p in PRODUCTION_TYPES if _squash(p) == wanted), None)


def _squash(text: str) -> str:
    return text.lower().replace("_", " ").replace("-", " ")
