"""Geography literals of ``OData.CSC.Intersects``: ``SRID=4326;POLYGON((lon lat, ...))``.

WKT keywords are accepted in any case (the S2B PRIP writes ``Polygon``, CDSE ``POLYGON``).
Only WGS84 is accepted, coordinates must be on the globe, and an invalid polygon (a bow-tie
drawn by a client) is repaired rather than refused, as GEOS can do it without guessing.
"""

from __future__ import annotations

from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from prip_ray.errors import InvalidQuery

ACCEPTED = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def parse_geography(literal: str) -> tuple[BaseGeometry, str]:
    text = literal.strip()
    if ";" in text:
        srid, text = text.split(";", 1)
        if srid.replace(" ", "").upper() not in ("SRID=4326",):
            raise InvalidQuery(f"only SRID=4326 is supported, not {srid}", token=srid)
    try:
        geometry = shapely_wkt.loads(text)
    except (ShapelyError, ValueError) as e:
        raise InvalidQuery(
            f"geography {text[:60]!r} is not valid WKT: {e}", token=text[:60]
        ) from None
    if geometry.geom_type not in ACCEPTED or geometry.is_empty:
        raise InvalidQuery(f"geography must be a point, line or polygon, not {geometry.geom_type}")
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        raise InvalidQuery(
            "geography coordinates must be lon -180..180, lat -90..90 (lon lat order)"
        )
    if not geometry.is_valid:
        geometry = make_valid(geometry)
    return geometry, text
