"""Footprints: from Inventory_Metadata points to GeoJSON/EWKT that are right at the antimeridian
and the poles.

Inventory points are (lat, lon) with longitudes in [-180, 180]. A ring that jumps by more than
180° between two points crosses the antimeridian; it is unwrapped to a continuous longitude,
then cut at ±180° into a MultiPolygon. A ring whose unwrapped longitudes end 360° away from
where they began goes round a pole (polar Sentinel-2 datastrips do): it is closed through that
pole. The result is what spatial queries test against, so "does it intersect" is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from prip_ray.domain.products import Footprint


def footprint_from_points(points: Sequence[tuple[float, float]]) -> Footprint | None:
    """``points`` as (lat, lon); None when they do not make an area (fewer than 3 points)."""
    ring = [(lon, lat) for lat, lon in points]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring = ring[:-1]
    if len(set(ring)) < 3:
        return None
    unwrapped = _unwrap(ring)
    closing = ring[0][0] + _step(unwrapped[-1][0], ring[0][0])
    if abs(closing - unwrapped[0][0]) > 180:
        unwrapped = _through_pole(unwrapped, closing)
    if all(-180 <= lon <= 180 for lon, _ in unwrapped):
        geometry: BaseGeometry = Polygon(unwrapped)
        if not geometry.is_valid:
            geometry = _polygons(make_valid(geometry))
        return from_geometry(geometry)
    polar = abs(closing - unwrapped[0][0]) > 180
    return from_geometry(_cut_at_antimeridian(Polygon(unwrapped)), None if polar else unwrapped)


def from_geometry(
    geometry: BaseGeometry, unwrapped: list[tuple[float, float]] | None = None
) -> Footprint:
    """``unwrapped``: the ring before it was cut at the antimeridian. Its box is kept (east
    edge beyond 180°) so that the box stays small and indexable; queries try both sides."""
    geojson = _lists(mapping(geometry))
    bbox = tuple(geometry.bounds)
    if unwrapped is not None:
        lons = [lon for lon, _ in unwrapped]
        shift = 360.0 if min(lons) < -180 else 0.0
        bbox = (min(lons) + shift, bbox[1], max(lons) + shift, bbox[3])
    return Footprint(geojson=geojson, bbox=bbox)  # type: ignore[arg-type]


def geometry_of(footprint: Footprint) -> BaseGeometry:
    return shape(footprint.geojson)


def to_ewkt(footprint: Footprint) -> str:
    """``geography'SRID=4326;POLYGON((lon lat,...))'``, keyword upper-case as CDSE writes it."""
    return f"geography'SRID=4326;{to_wkt(footprint.geojson)}'"


def to_wkt(geojson: dict[str, Any]) -> str:
    kind = geojson["type"]
    if kind == "Polygon":
        return "POLYGON" + _polygon_text(geojson["coordinates"])
    if kind == "MultiPolygon":
        return "MULTIPOLYGON(" + ",".join(_polygon_text(p) for p in geojson["coordinates"]) + ")"
    return shape(geojson).wkt


def _polygon_text(rings: list[list[list[float]]]) -> str:
    return (
        "("
        + ",".join("(" + ",".join(f"{x} {y}" for x, y, *_ in ring) + ")" for ring in rings)
        + ")"
    )


def _step(previous: float, lon: float) -> float:
    """What to add to ``lon`` so it lies within 180° of ``previous``."""
    shift = 0.0
    while lon + shift - previous > 180:
        shift -= 360
    while lon + shift - previous < -180:
        shift += 360
    return shift


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = [ring[0]]
    for lon, lat in ring[1:]:
        out.append((lon + _step(out[-1][0], lon), lat))
    return out


def _through_pole(ring: list[tuple[float, float]], closing: float) -> list[tuple[float, float]]:
    """Close a ring that goes round a pole: back to the start 360° on, over the pole."""
    pole = 90.0 if sum(lat for _, lat in ring) > 0 else -90.0
    return [*ring, (closing, ring[0][1]), (closing, pole), (ring[0][0], pole)]


def _cut_at_antimeridian(polygon: Polygon) -> BaseGeometry:
    shape: BaseGeometry = polygon if polygon.is_valid else _polygons(make_valid(polygon))
    pieces = []
    for turn in (-1, 0, 1):
        window = box(-180 + 360 * turn, -90, 180 + 360 * turn, 90)
        piece = shape.intersection(window)
        if not piece.is_empty:
            pieces.extend(_parts(affinity.translate(piece, xoff=-360 * turn)))
    return pieces[0] if len(pieces) == 1 else MultiPolygon(pieces)


def _parts(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry] if geometry.area > 0 else []
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and g.area > 0]


def _polygons(geometry: BaseGeometry) -> BaseGeometry:
    parts = _parts(geometry)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value
