"""The search path without geometry: SQL decides, orders, counts and pages alone."""

from __future__ import annotations

from sqlalchemy import Engine

from prip_ray.db.search import statements
from prip_ray.db.search.pages import SearchPage, version_of
from prip_ray.odata.options import QueryOptions


def search(reader: Engine, options: QueryOptions) -> SearchPage:
    """A page of the products that match ``options``, and their count if asked."""
    count = None
    if options.count:
        with reader.connect() as conn:
            count = int(conn.execute(statements.count_of(options.filter)).scalar_one())
    # One row more than asked tells whether a next page exists, without a second query.
    rows = statements.page_of(options.filter, options.orderby, options.skip, options.top + 1)
    with reader.connect() as conn:
        found = [version_of(row) for row in conn.execute(rows)]
    return SearchPage(found[: options.top], count, more=len(found) > options.top)
