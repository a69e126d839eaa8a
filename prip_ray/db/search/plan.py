"""Which path answers a Product search, chosen from the shape of its ``$filter``.

- no geometry: ``plain``, SQL alone;
- an area ``and``-ed to the rest that is one rectangle: ``rectangles``, mostly SQL;
- any other area ``and``-ed to the rest: ``footprints``, boxes from SQL, shapes in Python;
- geometry mixed with other conditions: ``evaluated``, whole products in Python.
"""

from __future__ import annotations

from sqlalchemy import Engine

from prip_ray.db.search import evaluated, footprints, plain, rectangles
from prip_ray.db.search.evaluated import Loader
from prip_ray.db.search.pages import SearchPage
from prip_ray.odata.ast import conjuncts, has_geometry, is_spatial
from prip_ray.odata.options import QueryOptions


def search_page(reader: Engine, load: Loader, options: QueryOptions) -> SearchPage:
    """One page of a search as product versions, and the count if asked; ``load`` reads
    whole products for the path that needs them."""
    if not has_geometry(options.filter):
        return plain.search(reader, options)
    assert options.filter is not None
    spatial = [p for p in conjuncts(options.filter) if has_geometry(p)]
    if not all(is_spatial(p) for p in spatial):
        return evaluated.search(load, options)
    area = footprints.single_area(spatial)
    bounds = rectangles.rectangle_of(area) if area is not None else None
    if bounds is not None:
        return rectangles.search(reader, options, area, bounds)
    return footprints.search(reader, options, spatial)
