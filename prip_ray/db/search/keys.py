"""Sort keys read with the candidates of a spatial search, to order the hits as SQL would.

Each requested key is selected under the label ``key<i>`` (its place in ``$orderby``), so
the rows are ordered by name whatever other columns a path reads with them.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from sqlalchemy import DateTime, type_coerce

from prip_ray.db.search.clauses import COLUMNS
from prip_ray.db.tables import UtcDateTime
from prip_ray.odata.options import sort_as_sql, sort_keys


def key_columns(orderby: tuple[tuple[str, bool], ...]) -> list[Any]:
    """The requested sort keys as columns labelled ``key0``, ``key1``..."""
    return [
        plain_key(COLUMNS[name]).label(f"key{i}") for i, (name, _) in enumerate(sort_keys(orderby))
    ]


def sort_rows(rows: list[Any], orderby: tuple[tuple[str, bool], ...]) -> None:
    """Order rows with an ``id`` and the ``key<i>`` columns as SQL orders them: the keys
    asked for, then Id ascending (stable sorts, least significant first)."""
    keys = [
        (attrgetter(f"key{i}"), descending) for i, (_, descending) in enumerate(sort_keys(orderby))
    ]
    sort_as_sql(rows, attrgetter("id"), keys)


def plain_key(column: Any) -> Any:
    """Timestamps read only to be compared stay naive UTC, as stored: thousands of them
    turned into aware datetimes cost more than the query."""
    if isinstance(column.type, UtcDateTime):
        return type_coerce(column, DateTime())
    return column
