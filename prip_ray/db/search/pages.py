"""What every search path shares: the page it returns, and the bound on its candidates.

A path that tests footprints in Python reads at most ``MAX_SHAPE_CANDIDATES`` of them for
one query; beyond that the client is asked to narrow the query rather than let one search
hold a replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select

from prip_ray.domain.products import ProductVersion
from prip_ray.errors import InvalidQuery
from prip_ray.odata.options import QueryOptions

T = TypeVar("T")
MAX_SHAPE_CANDIDATES = 50_000  # footprints tested in Python for one spatial query


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, as the products' versions in order."""

    versions: list[ProductVersion]
    count: int | None  # set when $count=true was asked
    more: bool = False  # more products follow this page


def version_of(row: Any) -> ProductVersion:
    """The version named by a row's ``id``, ``modification_date`` and ``online`` columns."""
    return ProductVersion(row.id, row.modification_date, row.online)


def bounded(query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
    """One candidate more than allowed, so that too many can be told."""
    return query.limit(MAX_SHAPE_CANDIDATES + 1)


def check_candidates(found: int) -> None:
    if found > MAX_SHAPE_CANDIDATES:
        raise InvalidQuery(
            f"the area matches more than {MAX_SHAPE_CANDIDATES} footprints: "
            "narrow it, or add a time or name condition"
        )


def window(hits: Sequence[T], options: QueryOptions) -> Sequence[T]:
    """The hits of the requested page, from all hits in order."""
    return hits[options.skip : options.skip + options.top]


def page(versions: list[ProductVersion], total: int, options: QueryOptions) -> SearchPage:
    """A page of a search whose hits number ``total``."""
    more = total > options.skip + options.top
    return SearchPage(versions, total if options.count else None, more=more)
