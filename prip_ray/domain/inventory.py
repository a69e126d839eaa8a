"""Inventory_Metadata.xml: the S2 PDI's own description of itself (PSD-15 Inventory_Metadata.xsd).

Only the fields the PRIP publishes or checks are read. A field that is present but
unparseable makes the whole document invalid: publishing a half-read record is worse than
quarantining the product.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from prip_ray.errors import InvalidMetadata

_TIME = re.compile(r"^(?:UTC=)?(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z?$")


@dataclass(frozen=True)
class Inventory:
    file_id: str
    file_type: str
    validity_start: datetime
    validity_stop: datetime
    parent_id: str | None = None
    group_id: str | None = None
    file_version: str | None = None
    source: str | None = None
    source_sw_version: str | None = None
    generation_time: datetime | None = None
    start_orbit: int | None = None
    stop_orbit: int | None = None
    points: tuple[tuple[float, float], ...] = ()  # (lat, lon) as the document lists them
    quality_info: str | None = None
    data_size: int | None = None
    detector: str | None = None
    tile_id: str | None = None
    sensor_code: str | None = None
    acquisition_station: str | None = None
    processing_station: str | None = None
    satellite_code: str | None = None
    ascending: bool | None = None
    cloud_percentage: float | None = None


def parse_inventory(document: bytes) -> Inventory:
    try:
        root = ET.fromstring(document)
    except ET.ParseError as e:
        raise InvalidMetadata(f"Inventory_Metadata.xml is not well-formed XML: {e}") from None
    fields = {_local(child.tag): (child.text or "").strip() for child in root}
    if _local(root.tag) != "Inventory_Metadata":
        raise InvalidMetadata(f"Inventory_Metadata.xml has root <{_local(root.tag)}>")
    for required in ("File_ID", "File_Type", "Validity_Start", "Validity_Stop"):
        if not fields.get(required):
            raise InvalidMetadata(f"Inventory_Metadata.xml lacks <{required}>")
    return Inventory(
        file_id=fields["File_ID"],
        file_type=fields["File_Type"],
        validity_start=parse_time(fields["Validity_Start"], "Validity_Start"),
        validity_stop=parse_time(fields["Validity_Stop"], "Validity_Stop"),
        parent_id=fields.get("Parent_ID") or None,
        group_id=fields.get("Group_ID") or None,
        file_version=fields.get("File_Version") or None,
        source=fields.get("Source") or None,
        source_sw_version=fields.get("Source_Sw_Version") or None,
        generation_time=_optional(fields, "Generation_Time", parse_time),
        start_orbit=_optional(fields, "Start_Orbit_Number", _integer),
        stop_orbit=_optional(fields, "Stop_Orbit_Number", _integer),
        points=_points(root),
        quality_info=fields.get("Quality_Info") or None,
        data_size=_optional(fields, "Data_Size", _integer),
        detector=fields.get("Detector") or None,
        tile_id=fields.get("Tile_ID") or fields.get("Tile_Id") or None,
        sensor_code=fields.get("Sensor_Code") or None,
        acquisition_station=fields.get("Acquisition_Station") or None,
        processing_station=fields.get("Processing_Station") or None,
        satellite_code=fields.get("Satellite_Code") or None,
        ascending=_optional(fields, "Ascending_Flag", _boolean),
        cloud_percentage=_optional(fields, "CloudPercentage", _number),
    )


def parse_time(text: str, field: str = "time") -> datetime:
    """``UTC=2025-08-01T07:06:20.464`` (any number of fraction digits up to 6)."""
    match = _TIME.match(text.strip())
    if not match:
        raise InvalidMetadata(f"<{field}> {text!r} is not a UTC=YYYY-MM-DDTHH:MM:SS time")
    whole, fraction = match.groups()
    try:
        value = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise InvalidMetadata(f"<{field}> {text!r} is not a valid date") from None
    micro = int((fraction or "0").ljust(6, "0"))
    return value.replace(microsecond=micro, tzinfo=UTC)


def _points(root: ET.Element) -> tuple[tuple[float, float], ...]:
    points = []
    for point in root.iter():
        if _local(point.tag) != "Geo_Pnt":
            continue
        values = {_local(c.tag): (c.text or "").strip() for c in point}
        lat = _number(values.get("LATITUDE", ""), "LATITUDE")
        lon = _number(values.get("LONGITUDE", ""), "LONGITUDE")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidMetadata(f"Geo_Pnt ({lat}, {lon}) is outside the globe")
        points.append((lat, lon))
    return tuple(points)


def _optional(fields: dict[str, str], name: str, parse):  # type: ignore[no-untyped-def]
    text = fields.get(name)
    return parse(text, name) if text else None


def _integer(text: str, field: str = "value") -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidMetadata(f"<{field}> {text!r} is not an integer") from None


def _number(text: str, field: str = "value") -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidMetadata(f"<{field}> {text!r} is not a number") from None
    if not math.isfinite(value):  # float() takes "nan" and "inf"; no JSON or filter does
        raise InvalidMetadata(f"<{field}> {text!r} is not a finite number")
    return value


def _boolean(text: str, field: str = "value") -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise InvalidMetadata(f"<{field}> {text!r} is not true or false")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
