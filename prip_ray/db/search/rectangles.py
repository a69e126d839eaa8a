"""The search path for a rectangular area: decided mostly in SQL.

A footprint whose bounding box lies inside a rectangle intersects it, whatever its shape:
for those rows SQL decides alone, and it also orders them and counts them, from the one scan
that applies the rest of the filter (``statements.rectangle_candidates``). Only the rows SQL
cannot decide (boxes across the rectangle's edge or the antimeridian) come back with their
footprint, for the exact test. A wide search area over a large catalogue so returns one page
of keys and a handful of shapes instead of every candidate's box and sort keys.
"""

from __future__ import annotations

from typing import Any

import shapely
from sqlalchemy import Engine

from prip_ray.db.search import statements
from prip_ray.db.search.keys import sort_rows
from prip_ray.db.search.pages import (
    MAX_SHAPE_CANDIDATES,
    SearchPage,
    check_candidates,
    page,
    version_of,
    window,
)
from prip_ray.odata.evaluate import shapes_intersect
from prip_ray.odata.options import QueryOptions


def rectangle_of(geometry: Any) -> tuple[float, float, float, float] | None:
    """The bounds of ``geometry`` if it is an axis-aligned rectangle, else None."""
    if geometry.geom_type != "Polygon" or len(geometry.interiors):
        return None
    bounds = geometry.bounds
    return bounds if geometry.equals(shapely.box(*bounds)) else None


def search(
    reader: Engine, options: QueryOptions, area: Any, bounds: tuple[float, float, float, float]
) -> SearchPage:
    """A page of the products in the rectangle ``area`` (whose bounds are ``bounds``) that
    match ``options``: SQL orders and counts the boxes inside it."""
    assert options.filter is not None
    wanted = options.skip + options.top + 1
    candidates = statements.rectangle_page(
        options.filter, options.orderby, bounds, wanted, MAX_SHAPE_CANDIDATES
    )
    with reader.connect() as conn:
        rows = conn.execute(candidates).all()
    unsure = [r for r in rows if not r.sure]
    check_candidates(len(unsure))
    passed = shapes_intersect(area, [r.shape for r in unsure])
    hits = [r for r in rows if r.sure] + [r for r, hit in zip(unsure, passed, strict=True) if hit]
    sort_rows(hits, options.orderby)
    total = (int(rows[0].sure_count or 0) if rows else 0) + sum(passed)
    return page([version_of(r) for r in window(hits, options)], total, options)
