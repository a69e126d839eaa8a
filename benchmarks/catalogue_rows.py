"""Synthetic catalogue rows for the OData benchmark, bulk-loaded with PostgreSQL COPY.

Products look like a month of a Sentinel-2 PRIP: eight product types, a publication every
~2.6 s, ~15 typed attributes each, 1°-ish footprints spread over the globe with about 1% of
them straddling the antimeridian.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from prip_ray.db.session import create_db_engine
from prip_ray.db.spans import recompute_spans

T0 = datetime(2025, 7, 1, tzinfo=UTC)
STEP = timedelta(seconds=2.6)
TYPES = [
    ("MSI_L0__GR", "Level-0"),
    ("MSI_L0__DS", "Level-0"),
    ("MSI_L1B_GR", "Level-1B"),
    ("MSI_L1C_TL", "Level-1C"),
    ("MSI_L1C_DS", "Level-1C"),
    ("MSI_L2A_TL", "Level-2A"),
    ("MSI_L2A_DS", "Level-2A"),
    ("MSI_L1C_TC", "Level-1C"),
]
PRODUCT_COLUMNS = [
    "id",
    "name",
    "product_type",
    "content_type",
    "content_length",
    "origin_date",
    "publication_date",
    "eviction_date",
    "modification_date",
    "content_start",
    "content_end",
    "online",
    "production_type",
    "object_key",
    "checksums",
    "md5",
    "footprint",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
]
ATTRIBUTE_COLUMNS = [
    "product_id",
    "name",
    "value_type",
    "string_value",
    "integer_value",
    "double_value",
    "boolean_value",
    "datetime_value",
]
_TYPED = {"String": 3, "Integer": 4, "Double": 5, "Boolean": 6, "DateTimeOffset": 7}


def product_name(index: int) -> str:
    file_type = TYPES[index % len(TYPES)][0]
    published = T0 + STEP * index
    return (
        f"S2B_OPER_{file_type}_2BPS_{published:%Y%m%dT%H%M%S}_"
        f"S{published - timedelta(minutes=40):%Y%m%dT%H%M%S}_N05.11_{index:07d}.tar"
    )


def footprint(index: int) -> tuple[dict[str, Any], tuple[float, float, float, float]]:
    lon = -180.0 + (index * 7.31) % 360.0
    lat = -60.0 + (index * 3.17) % 140.0
    if lon > 179.0:  # straddles the antimeridian: stored split, as ingestion does
        east = [[lon, lat], [180.0, lat], [180.0, lat + 1], [lon, lat + 1], [lon, lat]]
        west_end = lon + 1 - 360
        west = [
            [-180.0, lat],
            [west_end, lat],
            [west_end, lat + 1],
            [-180.0, lat + 1],
            [-180.0, lat],
        ]
        # its box stays unwrapped (east edge beyond 180), as ingestion stores it
        return {"type": "MultiPolygon", "coordinates": [[east], [west]]}, (
            lon,
            lat,
            lon + 1,
            lat + 1,
        )
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}, (lon, lat, lon + 1, lat + 1)


def rows(index: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    file_type, level = TYPES[index % len(TYPES)]
    product_id = uuid.UUID(int=index + 1)
    published = T0 + STEP * index
    start = published - timedelta(minutes=40)
    end = start + timedelta(seconds=5 if "GR" in file_type else 125)
    geometry, bbox = footprint(index)
    md5 = f"{index:032x}"
    checksums = [{"Algorithm": "MD5", "Value": md5, "ChecksumDate": published.isoformat()}]
    product = (
        product_id, product_name(index), file_type, "application/octet-stream",
        18_000_000 + index % 900_000_000, start, published, published + timedelta(days=7),
        published, start, end, True, "systematic_production", f"{product_id}/x",
        json.dumps(checksums), md5, json.dumps(geometry), *bbox,
    )  # fmt: skip
    values: list[tuple[str, str, Any]] = [
        ("productType", "String", file_type),
        ("platformShortName", "String", "SENTINEL-2"),
        ("platformSerialIdentifier", "String", "B"),
        ("instrumentShortName", "String", "MSI"),
        ("processingLevel", "String", level),
        ("processingStation", "String", "2BPS"),
        ("baselineCollection", "String", "05.11"),
        ("qualityStatus", "String", "NOMINAL"),
        ("tileId", "String", f"{31 + index % 30}{'CDEFGHJKLMNPQRSTUVWX'[index % 20]}MH"),
        ("orbitNumber", "Integer", 43000 + index // 300),
        ("relativeOrbitNumber", "Integer", 1 + (index // 300) % 143),
        ("cloudCover", "Double", float(index % 1000) / 10),
        ("beginningDateTime", "DateTimeOffset", start),
        ("endingDateTime", "DateTimeOffset", end),
        ("processingDate", "DateTimeOffset", published),
    ]
    attributes = []
    for name, value_type, value in values:
        row: list[Any] = [product_id, name, value_type, None, None, None, None, None]
        row[_TYPED[value_type]] = value
        attributes.append(tuple(row))
    return product, attributes


def load(url: str, count: int, batch: int = 50_000) -> Iterator[int]:
    """COPY ``count`` products (and their attributes) in; yields the number loaded so far."""
    with psycopg.connect(url) as conn:
        for first in range(0, count, batch):
            indexes = range(first, min(count, first + batch))
            built = [rows(i) for i in indexes]
            with conn.cursor() as cur:
                with cur.copy(f"COPY products ({', '.join(PRODUCT_COLUMNS)}) FROM STDIN") as copy:
                    for product, _ in built:
                        copy.write_row(product)
                with cur.copy(
                    f"COPY attributes ({', '.join(ATTRIBUTE_COLUMNS)}) FROM STDIN"
                ) as copy:
                    for _, attributes in built:
                        for row in attributes:
                            copy.write_row(row)
            conn.commit()
            yield indexes.stop
    engine = create_db_engine(url)  # what publication keeps current, COPY does not
    with engine.begin() as db:
        recompute_spans(db)
    engine.dispose()
