"""The Product as the PRIP publishes it (interface digest, "Product"), in plain Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from prip_ray.domain.assets import Asset

ValueType = Literal["String", "Integer", "Double", "Boolean", "DateTimeOffset"]
AttributeValue = str | int | float | bool | datetime

NEVER = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
"""EvictionDate of a product that never leaves the archive."""

SYSTEMATIC = "systematic_production"
PRODUCTION_TYPES = ("systematic_production", "on-demand default", "on-demand non-default")


@dataclass(frozen=True)
class Checksum:
    algorithm: str  # "MD5", "BLAKE3", "SHA3-256", ...
    value: str  # lower-case hex
    date: datetime


@dataclass(frozen=True)
class Attribute:
    name: str
    value_type: ValueType
    value: AttributeValue


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Footprint:
    """A footprint as GeoJSON (lon/lat, WGS84); the EWKT form is derived from it."""

    geojson: dict[str, Any]
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


@dataclass(frozen=True)
class ProductMetadata:
    """Everything the ingestor learns about a product before it is stored and published."""

    name: str
    product_type: str
    content_type: str
    content_length: int
    origin_date: datetime
    content_date: TimeRange
    production_type: str = SYSTEMATIC
    footprint: Footprint | None = None
    attributes: tuple[Attribute, ...] = ()
    checksums: tuple[Checksum, ...] = ()


@dataclass(frozen=True)
class ProductVersion:
    """One state of a product. What clients are served of it changes only with its
    ModificationDate (eviction sets it, and Online false; an OLQC report that changes the
    qualityStatus attribute sets it too), so these three name it."""

    id: UUID
    modification_date: datetime
    online: bool


@dataclass
class Product:
    """A published product: the catalogue row plus where its bytes live."""

    id: UUID
    name: str
    product_type: str
    content_type: str
    content_length: int
    origin_date: datetime
    publication_date: datetime
    eviction_date: datetime
    modification_date: datetime
    content_date: TimeRange
    object_key: str
    online: bool = True
    production_type: str = SYSTEMATIC
    footprint: Footprint | None = None
    checksums: tuple[Checksum, ...] = ()
    attributes: tuple[Attribute, ...] = field(default_factory=tuple)
    assets: tuple[Asset, ...] = ()  # read only when asked for ($expand=Assets)

    @property
    def version(self) -> ProductVersion:
        return ProductVersion(self.id, self.modification_date, self.online)

    def checksum(self, algorithm: str) -> str | None:
        for checksum in self.checksums:
            if checksum.algorithm.upper() == algorithm.upper():
                return checksum.value
        return None


# DeletionCause values the PRIP writes itself (CDSE's DeletedProducts uses causes like these);
# a withdrawal carries the operator's text after WITHDRAWN.
RETENTION_EXPIRED = "Retention period expired"
STORAGE_WATERMARK = "Storage watermark"
WITHDRAWN = "Withdrawn"


@dataclass(frozen=True)
class DeletedProduct:
    """An entry of DeletedProducts: the product as it was when it went, with when and why."""

    product: Product
    deletion_date: datetime
    cause: str
