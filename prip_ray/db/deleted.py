"""DeletedProducts in the PRIP DB: the entry written when a product goes, and its search.

``deleted_products``/``deleted_attributes`` have the columns of ``products``/``attributes``,
so a DeletedProducts search is a Products search statement (db/search/statements.py) moved
onto them by one traversal that swaps the tables and their columns: the filter translator,
its whitelist checks and the paging are the same code, only the two DeletedProducts
properties (DeletionDate, DeletionCause) are extra columns (db/search/clauses.py). Statements are
kept per distinct query like those of Products.

An entry is recorded (``record_deletion``) inside the transaction that takes the product
offline, so the entry and the ``deleted`` outbox event exist together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Connection, Engine, String, insert, literal, select
from sqlalchemy.sql.visitors import replacement_traverse

from prip_ray.db.id_lists import id_in
from prip_ray.db.keyset import keyset_walk
from prip_ray.db.rows import attribute_from_row, product_from_row
from prip_ray.db.search import statements
from prip_ray.db.search.clauses import order_by_clauses
from prip_ray.db.search.pages import MAX_SHAPE_CANDIDATES  # as for Products
from prip_ray.db.session import reader
from prip_ray.db.tables import (
    UtcDateTime,
    attributes,
    deleted_attributes,
    deleted_products,
    products,
)
from prip_ray.domain.products import Attribute, DeletedProduct, Footprint
from prip_ray.errors import InvalidQuery, ProductNotFound
from prip_ray.odata.ast import conjuncts, has_geometry, is_spatial
from prip_ray.odata.evaluate import footprint_matches
from prip_ray.odata.options import QueryOptions

_SWAP: dict[int, Any] = {id(products): deleted_products, id(attributes): deleted_attributes}
_SWAP.update({id(c): deleted_products.c[c.name] for c in products.c})
_SWAP.update({id(c): deleted_attributes.c[c.name] for c in attributes.c})


def on_deleted(statement: Any) -> Any:
    """A statement on ``products``/``attributes`` as the same statement on DeletedProducts."""
    return replacement_traverse(  # type: ignore[call-overload]
        statement, {}, lambda element: _SWAP.get(id(element))
    )


@lru_cache(maxsize=statements.KEPT)
def _count_of(node: Any) -> Any:
    return on_deleted(statements.count_of(node))


@lru_cache(maxsize=statements.KEPT)
def _page_of(node: Any, orderby: tuple[tuple[str, bool], ...], skip: int, limit: int) -> Any:
    return on_deleted(statements.page_of(node, orderby, skip, limit))


@lru_cache(maxsize=statements.KEPT)
def _ordered(node: Any, orderby: tuple[tuple[str, bool], ...]) -> Any:
    """Every matching entry in order (bounded): the candidates of an area search."""
    query = statements.matching(node).order_by(*order_by_clauses(orderby))
    return on_deleted(query.limit(MAX_SHAPE_CANDIDATES + 1))


@dataclass(frozen=True)
class DeletedPage:
    entries: list[DeletedProduct]
    count: int | None  # set when $count=true was asked
    more: bool = False


def record_deletion(conn: Connection, product_id: UUID, when: datetime, cause: str) -> None:
    """Copy the product's row and attributes into DeletedProducts, offline and without its
    object key, in the caller's transaction."""
    overrides = {
        "online": literal(False, Boolean()),
        "object_key": literal("", String()),
        "modification_date": literal(when, UtcDateTime()),
    }
    columns: list[Any] = [overrides.get(c.name, c) for c in products.c]
    extra: list[Any] = [literal(when, UtcDateTime()), literal(cause, String())]
    names = [c.name for c in products.c] + ["deletion_date", "deletion_cause"]
    rows = select(*columns, *extra).where(products.c.id == product_id)
    conn.execute(insert(deleted_products).from_select(names, rows))
    names = [c.name for c in attributes.c]
    rows = select(*attributes.c).where(attributes.c.product_id == product_id)
    conn.execute(insert(deleted_attributes).from_select(names, rows))


class DeletedProductRepository:
    def __init__(self, engine: Engine):
        self._engine = engine
        self._reader = reader(engine)

    def get(self, product_id: UUID) -> DeletedProduct:
        found = self._load(select(deleted_products).where(deleted_products.c.id == product_id))
        if not found:
            raise ProductNotFound(f"no deleted product with Id {product_id}")
        return found[0]

    def by_ids(self, ids: Sequence[UUID]) -> dict[UUID, DeletedProduct]:
        """The entries of these Ids (unknown ones left out), with attributes."""
        found: dict[UUID, DeletedProduct] = {}
        for start in range(0, len(ids), 1000):  # SQLite's parameters per statement
            chunk = list(ids[start : start + 1000])
            query = select(deleted_products).where(
                id_in(deleted_products.c.id, chunk, self._dialect)
            )
            found.update((e.product.id, e) for e in self._load(query))
        return found

    def search(self, options: QueryOptions) -> DeletedPage:
        if has_geometry(options.filter):
            return self._search_area(options)
        count = None
        with self._reader.connect() as conn:
            if options.count:
                count = int(conn.execute(_count_of(options.filter)).scalar_one())
            page = _page_of(options.filter, options.orderby, options.skip, options.top + 1)
            ids = [row.id for row in conn.execute(page)]
        more = len(ids) > options.top
        return DeletedPage(self._in_order(ids[: options.top], options), count, more)

    def stream(self, since: datetime | None, batch: int = 1000) -> Iterator[DeletedProduct]:
        """Entries recorded since ``since`` (all for None), a keyset walk in deletion order."""
        order = (deleted_products.c.deletion_date, deleted_products.c.id)
        return keyset_walk(
            deleted_products,
            order,
            self._load,
            lambda entry: (entry.deletion_date, entry.product.id),
            since,
            batch,
        )

    def _search_area(self, options: QueryOptions) -> DeletedPage:
        """SQL decides all but the shapes (bounding boxes give a superset) and orders; the
        footprints then decide. The area must be a condition of its own (``and``-ed)."""
        assert options.filter is not None
        parts = conjuncts(options.filter)
        spatial = [p for p in parts if has_geometry(p)]
        if not all(is_spatial(p) for p in spatial):
            raise InvalidQuery("on DeletedProducts, an area condition cannot be under or/not")
        with self._reader.connect() as conn:
            rows = conn.execute(_ordered(options.filter, options.orderby)).mappings().all()
        if len(rows) > MAX_SHAPE_CANDIDATES:
            raise InvalidQuery(f"the area matches more than {MAX_SHAPE_CANDIDATES} footprints")
        hits = [r["id"] for r in rows if all(footprint_matches(n, _footprint(r)) for n in spatial)]
        window = hits[options.skip : options.skip + options.top]
        more = len(hits) > options.skip + options.top
        count = len(hits) if options.count else None
        return DeletedPage(self._in_order(window, options), count, more)

    def _in_order(self, ids: Sequence[UUID], options: QueryOptions) -> list[DeletedProduct]:
        with_attributes = "Attributes" in options.expand
        query = select(deleted_products).where(id_in(deleted_products.c.id, ids, self._dialect))
        found = {e.product.id: e for e in self._load(query, with_attributes)} if ids else {}
        return [found[i] for i in ids if i in found]

    @property
    def _dialect(self) -> str:
        return self._engine.dialect.name

    def _load(self, query: Any, with_attributes: bool = True) -> list[DeletedProduct]:
        with self._reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            grouped = self._attributes(conn, ids) if with_attributes and ids else {}
        return [
            DeletedProduct(
                product_from_row(r, grouped.get(r["id"], ())),
                r["deletion_date"],
                r["deletion_cause"],
            )
            for r in rows
        ]

    def _attributes(self, conn: Connection, ids: Sequence[UUID]) -> dict[UUID, list[Attribute]]:
        grouped: dict[UUID, list[Attribute]] = defaultdict(list)
        table = deleted_attributes
        query = select(table).where(id_in(table.c.product_id, ids, self._dialect))
        for row in conn.execute(query.order_by(table.c.product_id, table.c.name)).mappings():
            grouped[row["product_id"]].append(attribute_from_row(row))
        return grouped


def _footprint(row: Any) -> Footprint | None:
    if row["footprint"] is None:
        return None
    box = (row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"])
    return Footprint(row["footprint"], box)
