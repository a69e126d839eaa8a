"""The search path for ``<conditions SQL decides exactly> and <spatial part>`` when the
area is not a rectangle (or there are several): only boxes and sort keys are read for the
candidates, and footprints only for those whose box does not settle it.

SQL gives a superset (bounding boxes, GiST-indexed on PostgreSQL), unordered so the planner
can use that index; the real footprint shapes then decide, and the survivors are ordered and
paged here exactly as SQL would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Text, cast, select

from prip_ray.db.id_lists import chunks, id_in
from prip_ray.db.search import statements
from prip_ray.db.search.keys import key_columns, sort_rows
from prip_ray.db.search.pages import (
    SearchPage,
    bounded,
    check_candidates,
    page,
    version_of,
    window,
)
from prip_ray.db.tables import products
from prip_ray.domain.products import Footprint
from prip_ray.odata.ast import Intersects, Node
from prip_ray.odata.evaluate import boxes_inside, footprint_matches, shapes_intersect
from prip_ray.odata.options import QueryOptions

BOX_COLUMNS = (products.c.min_lon, products.c.min_lat, products.c.max_lon, products.c.max_lat)


def search(reader: Engine, options: QueryOptions, spatial: list[Node]) -> SearchPage:
    """A page of the products that match ``options``, whose conjuncts with geometry are
    ``spatial`` (each purely spatial, ``ast.is_spatial``)."""
    light = statements.matching(options.filter).with_only_columns(
        products.c.id, *BOX_COLUMNS, *key_columns(options.orderby)
    )
    with reader.connect() as conn:
        rows = conn.execute(bounded(light)).all()
        check_candidates(len(rows))
        hits = _spatial_hits(conn, rows, spatial)
    sort_rows(hits, options.orderby)
    return _page_of(reader, hits, options)


def single_area(spatial: list[Node]) -> Any:
    """The geometry when the spatial part is one Intersects, else None."""
    if len(spatial) == 1 and isinstance(spatial[0], Intersects):
        return spatial[0].geometry
    return None


def _page_of(reader: Engine, hits: list[Any], options: QueryOptions) -> SearchPage:
    """The page ``hits[skip:skip+top]`` (rows with an ``id``, in order) as versions, from
    one more query."""
    ids = [r.id for r in window(hits, options)]
    with reader.connect() as conn:
        query = statements.VERSIONS.where(id_in(products.c.id, ids, reader.dialect.name))
        found = {row.id: version_of(row) for row in conn.execute(query)}
    return page([found[i] for i in ids if i in found], len(hits), options)


def _spatial_hits(conn: Connection, rows: Sequence[Any], spatial: list[Node]) -> list[Any]:
    """Boxes inside the area need no shape; footprints are read only for the others."""
    boxes = [_box(r) for r in rows]
    area = single_area(spatial)
    inside = boxes_inside(area, boxes) if area is not None else [False] * len(rows)
    unsure = [r.id for r, sure in zip(rows, inside, strict=True) if not sure]
    if area is not None:  # the common case: one area, footprints tested in one call
        passed = _intersecting(conn, unsure, area)
        return [r for r, sure in zip(rows, inside, strict=True) if sure or r.id in passed]
    shapes: dict[UUID, Any] = {}
    for chunk in chunks(unsure):
        query = select(products.c.id, products.c.footprint).where(_id_in(conn, chunk))
        shapes.update((row.id, row.footprint) for row in conn.execute(query))
    return [
        r
        for r, box, sure in zip(rows, boxes, inside, strict=True)
        if sure or _shape_matches(spatial, shapes.get(r.id), box)
    ]


def _intersecting(conn: Connection, ids: list[UUID], geometry: Any) -> set[UUID]:
    """Those of ``ids`` whose footprint intersects ``geometry``, read as GeoJSON text."""
    passed: set[UUID] = set()
    text = cast(products.c.footprint, Text).label("shape")
    for chunk in chunks(ids):
        found = conn.execute(select(products.c.id, text).where(_id_in(conn, chunk))).all()
        hits = shapes_intersect(geometry, [row.shape for row in found])
        passed.update(row.id for row, hit in zip(found, hits, strict=True) if hit)
    return passed


def _id_in(conn: Connection, ids: Sequence[UUID]) -> Any:
    return id_in(products.c.id, ids, conn.dialect.name)


def _box(row: Any) -> tuple[float, float, float, float] | None:
    """The row's bounding box, None for a product without a footprint."""
    if row.min_lon is None:
        return None
    return (row.min_lon, row.min_lat, row.max_lon, row.max_lat)


def _shape_matches(spatial: list[Node], geojson: Any, box: Any) -> bool:
    footprint = Footprint(geojson, box) if geojson is not None else None
    return all(footprint_matches(n, footprint) for n in spatial)
