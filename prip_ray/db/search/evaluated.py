"""The search path for geometry SQL cannot separate from the rest of the filter (an area
under ``or`` with a name condition, say): the candidates' whole products are read and the
filter evaluated on each in Python (odata/evaluate.py), which also orders them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select

from prip_ray.db.search import statements
from prip_ray.db.search.pages import SearchPage, bounded, check_candidates, page, window
from prip_ray.domain.products import Product
from prip_ray.odata.ast import Lambda, walk
from prip_ray.odata.evaluate import matches, sort_products
from prip_ray.odata.options import QueryOptions

# Reads the products a statement selects, with their attributes if asked.
Loader = Callable[[Select[tuple[object, ...]], bool], list[Product]]


def search(load: Loader, options: QueryOptions) -> SearchPage:
    """A page of the products that match ``options``, from at most MAX_SHAPE_CANDIDATES
    that the bounding boxes let through."""
    assert options.filter is not None
    with_attributes = any(isinstance(n, Lambda) for n in walk(options.filter))
    candidates = load(bounded(statements.matching(options.filter)), with_attributes)
    check_candidates(len(candidates))
    hits = sort_products([p for p in candidates if matches(options.filter, p)], options.orderby)
    return page([p.version for p in window(hits, options)], len(hits), options)
