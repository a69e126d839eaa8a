"""Bounding-box overlap between a product footprint and a query box, index-assisted.

PostgreSQL answers it with its built-in ``box`` type and a GiST expression index (no PostGIS
needed): ``box(point(min_lon, min_lat), point(max_lon, max_lat)) && box(...)``. Other
databases get the four comparisons, which any engine evaluates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, and_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from prip_ray.db.tables import products

# Must match the expression of the GiST index created by migration 0003.
PG_BOX = "box(point(products.min_lon, products.min_lat), point(products.max_lon, products.max_lat))"


class BoxOverlap(ColumnElement[bool]):
    # The bounds are bound parameters that take part in the cache key, so SQLAlchemy
    # compiles a search shape once and reuses it for any bounds.
    inherit_cache = True
    type = Boolean()
    # The box columns are traversed too, so that a statement moved onto another table of the
    # same shape (DeletedProducts, db/deleted.py) tests that table's boxes.
    _traverse_internals = [
        ("bounds", InternalTraversal.dp_clauseelement_list),
        ("box", InternalTraversal.dp_clauseelement_list),
    ]

    def __init__(self, min_lon: float, min_lat: float, max_lon: float, max_lat: float):
        self.bounds = [
            bindparam(None, v, type_=Float()) for v in (min_lon, min_lat, max_lon, max_lat)
        ]
        c = products.c
        self.box = [c.min_lon, c.min_lat, c.max_lon, c.max_lat]


@compiles(BoxOverlap)
def _portable(element: BoxOverlap, compiler: Any, **kw: Any) -> str:
    min_lon, min_lat, max_lon, max_lat = element.bounds
    box_min_lon, box_min_lat, box_max_lon, box_max_lat = element.box
    clause = and_(
        box_min_lon <= max_lon,
        box_max_lon >= min_lon,
        box_min_lat <= max_lat,
        box_max_lat >= min_lat,
    )
    return f"({compiler.process(clause, **kw)})"


@compiles(BoxOverlap, "postgresql")
def _postgresql(element: BoxOverlap, compiler: Any, **kw: Any) -> str:
    values = [compiler.process(bound, **kw) for bound in element.bounds]
    query = f"box(point({values[0]}, {values[1]}), point({values[2]}, {values[3]}))"
    edges = [compiler.process(column, **kw) for column in element.box]
    # For ``products`` this renders PG_BOX, the expression of its GiST index.
    box = f"box(point({edges[0]}, {edges[1]}), point({edges[2]}, {edges[3]}))"
    return f"({box} && {query})"
