"""ProductRepository: the catalogue of published products in the PRIP DB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import (
    Engine,
    Select,
    Text,
    cast,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError

from prip_ray.db import tables
from prip_ray.db.id_lists import id_in
from prip_ray.db.olqc import OlqcLinks, lock_key
from prip_ray.db.rows import (
    attribute_from_row,
    attribute_rows,
    digests_from_row,
    digests_row,
    product_from_row,
    product_row,
)
from prip_ray.db.search import statements
from prip_ray.db.search.clauses import COLUMNS
from prip_ray.db.search.rectangles import plain_key, rectangle_of, sort_rows
from prip_ray.db.session import reader
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.products import Attribute, Footprint, Product, ProductVersion
from prip_ray.errors import (
    DuplicateProduct,
    InvalidMetadata,
    InvalidQuery,
    ProductNotFound,
    StorageError,
)
from prip_ray.odata.ast import Intersects, Lambda, Node, conjuncts, has_geometry, is_spatial, walk
from prip_ray.odata.evaluate import (
    boxes_inside,
    footprint_matches,
    matches,
    shapes_intersect,
    sort_products,
)
from prip_ray.odata.options import QueryOptions, sort_keys

products, attributes, ingestions = tables.products, tables.attributes, tables.ingestions
T = TypeVar("T")
MAX_SHAPE_CANDIDATES = 50_000  # footprints tested in Python for one spatial query


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, as the products' versions in order."""

    versions: list[ProductVersion]
    count: int | None  # set when $count=true was asked
    more: bool = False  # more products follow this page


@dataclass(frozen=True)
class SearchResult:
    products: list[Product]
    count: int | None  # set when $count=true was asked
    more: bool = False  # more products follow this page


class ProductRepository:
    def __init__(self, engine: Engine, olqc: OlqcLinks | None = None):
        self._engine = engine
        self._reader = reader(engine)
        self._olqc = olqc or OlqcLinks()

    def publish(self, product: Product, digests: ProductHashes | None = None) -> None:
        """Make ``product`` visible, and mark its ingestion published, in one transaction;
        with the ``digests`` its traces certify, when ingestion computed them, and linked to
        its OLQC reports (or, for a report, to the product it inspects: db/olqc.py).

        Only while the journal still holds this attempt: if recovery cancelled it (and deleted
        its bytes) nothing is published and StorageError says the attempt must be retried.
        A value no column can hold (an integer beyond BIGINT: PostgreSQL's DataError, the
        OverflowError of SQLite's driver) is the product's fault, not an outage: it raises
        InvalidMetadata, which quarantines the product instead of retrying it forever.
        """
        found = {product.id: digests} if digests is not None else {}
        if not self.publish_all([product], found):
            raise StorageError(f"{product.name}: ingestion attempt was cancelled")

    def publish_all(
        self, group: Sequence[Product], digests: Mapping[UUID, ProductHashes] | None = None
    ) -> list[Product]:
        """Publish a group in one transaction, as :meth:`publish` does one product (with the
        ``digests`` computed for them, by Id); returns those published. A product whose
        attempt the journal no longer holds is left out, and its neighbours are published; a
        name that is taken (DuplicateProduct) or a value no column holds (InvalidMetadata)
        fails the whole group, which the caller then publishes one by one."""
        if not group:
            return []
        now = datetime.now(UTC)
        attempts = [(p.name, p.object_key) for p in group]
        claim = (
            update(ingestions)
            .where(
                tuple_(ingestions.c.name, ingestions.c.object_key).in_(attempts),
                ingestions.c.state == "storing",
            )
            .values(state="published", updated_at=now)
            .returning(ingestions.c.name, ingestions.c.object_key)
        )
        try:
            with self._engine.begin() as conn:
                claimed = {(row.name, row.object_key) for row in conn.execute(claim)}
                chosen = [p for p in group if (p.name, p.object_key) in claimed]
                if chosen:
                    self._insert(conn, chosen, digests or {}, now)
        except IntegrityError as e:
            raise DuplicateProduct(f"{_names(group)} is already published") from e
        except (DataError, OverflowError) as e:
            cause = getattr(e, "orig", None) or e
            raise InvalidMetadata(
                f"{_names(group)}: a metadata value cannot be stored in the catalogue: {cause}"
            ) from e
        return chosen

    def _insert(
        self,
        conn: Any,
        group: Sequence[Product],
        digests: Mapping[UUID, ProductHashes],
        now: datetime,
    ) -> None:
        """The rows of a publication: products, their attributes, an outbox event each, the
        digests ingestion computed, and the OLQC links (in the order of their locks, so two
        groups never wait for each other's)."""
        conn.execute(insert(products), [product_row(p) for p in group])
        conn.execute(
            insert(tables.outbox),
            [{"product_id": p.id, "event": "created", "created_at": now} for p in group],
        )
        conn.execute(insert(attributes), [row for p in group for row in attribute_rows(p)])
        computed = [digests_row(p.id, digests[p.id]) for p in group if p.id in digests]
        if computed:
            conn.execute(insert(tables.trace_digests), computed)
        for product in sorted(group, key=lock_key):
            self._olqc.on_publish(conn, product)  # a report and its product meet here

    def get(self, product_id: UUID) -> Product:
        found = self._load(select(products).where(products.c.id == product_id))
        if not found:
            raise ProductNotFound(f"no product with Id {product_id}")
        return found[0]

    def trace_digests(self, product_id: UUID, algorithm: str) -> ProductHashes | None:
        """The digests stored at publication, if computed with ``algorithm``."""
        digests = tables.trace_digests
        query = select(digests).where(
            digests.c.product_id == product_id, digests.c.algorithm == algorithm
        )
        with self._reader.connect() as conn:
            row = conn.execute(query).mappings().first()
        return digests_from_row(row) if row is not None else None

    def by_name(self, name: str, with_attributes: bool = True) -> Product | None:
        found = self._load(select(products).where(products.c.name == name), with_attributes)
        return found[0] if found else None

    def stream(self, since: datetime | None, batch: int = 1000) -> Iterator[Product]:
        """Every product (online or not), batch by batch in (ModificationDate, Id) order: a
        keyset walk, so each batch is an index range and memory holds one batch only."""
        order = (products.c.modification_date, products.c.id)
        last: tuple[datetime, UUID] | None = None
        while True:
            query = select(products).order_by(*order).limit(batch)
            if since is not None:
                query = query.where(products.c.modification_date >= since)
            if last is not None:
                query = query.where(tuple_(*order) > tuple_(*last))
            found = self._load(query)
            yield from found
            if len(found) < batch:
                return
            last = (found[-1].modification_date, found[-1].id)

    def by_ids(self, ids: Sequence[UUID], with_attributes: bool = True) -> list[Product]:
        """Products for these Ids, in no order; unknown Ids are left out."""
        found: list[Product] = []
        for chunk in _chunks(ids):
            query = select(products).where(self._id_in(products.c.id, chunk))
            found += self._load(query, with_attributes)
        return found

    def by_names(self, names: Sequence[str], with_attributes: bool = True) -> list[Product]:
        """Products with these names, in the order asked; unknown names are left out."""
        if not names:
            return []
        query = select(products).where(products.c.name.in_(names))
        found = {p.name: p for p in self._load(query, with_attributes)}
        return [found[name] for name in names if name in found]

    def versions_by_names(self, names: Sequence[str]) -> list[ProductVersion]:
        """The versions of the products with these names, in the order asked (FilterList):
        a caller that keeps encoded products reads in full only those it lacks."""
        if not names:
            return []
        query = statements.VERSIONS.add_columns(products.c.name).where(products.c.name.in_(names))
        with self._reader.connect() as conn:
            found = {row.name: ProductVersion(*row[:3]) for row in conn.execute(query)}
        return [found[name] for name in names if name in found]

    def search(self, options: QueryOptions) -> SearchResult:
        """One page of products, with their attributes if ``$expand=Attributes``."""
        page = self.search_page(options)
        ids = [v.id for v in page.versions]
        found = {p.id: p for p in self.by_ids(ids, "Attributes" in options.expand)}
        return SearchResult([found[i] for i in ids if i in found], page.count, page.more)

    def search_page(self, options: QueryOptions) -> SearchPage:
        """One page of a search as product versions: what a caller that keeps encoded
        products (serve/products.py) needs to tell which it must read in full."""
        query = statements.matching(options.filter)
        if has_geometry(options.filter):
            return self._search_shapes(query, options)
        count = self._scalar(statements.count_of(options.filter)) if options.count else None
        # One row more than asked tells whether a next page exists, without a second query.
        page = statements.page_of(options.filter, options.orderby, options.skip, options.top + 1)
        with self._reader.connect() as conn:
            rows: list[Any] = list(conn.execute(page))  # (Id, ModificationDate, Online)
            found = [ProductVersion(*row) for row in rows]
        return SearchPage(found[: options.top], count, more=len(found) > options.top)

    def _search_shapes(
        self, query: Select[tuple[object, ...]], options: QueryOptions
    ) -> SearchPage:
        """SQL gives a superset (bounding boxes, GiST-indexed on PostgreSQL), unordered so the
        planner can use that index; the real footprint shapes then decide, and the survivors
        are ordered and paged here exactly as SQL would."""
        assert options.filter is not None
        parts = conjuncts(options.filter)
        if has_geometry(options.filter) and all(is_spatial(p) for p in parts if has_geometry(p)):
            return self._search_footprints(query, options, [p for p in parts if has_geometry(p)])
        with_attributes = any(isinstance(n, Lambda) for n in walk(options.filter))
        candidates = self._load(_bounded(query), with_attributes)
        _check_candidates(len(candidates))
        hits = sort_products([p for p in candidates if matches(options.filter, p)], options.orderby)
        return _page([p.version for p in _window(hits, options)], len(hits), options)

    def _search_footprints(
        self, query: Select[tuple[object, ...]], options: QueryOptions, spatial: list[Node]
    ) -> SearchPage:
        """The usual case, ``<conditions SQL decides exactly> and <spatial part>``: only
        footprints and sort keys are read for the candidates."""
        area = _single_area(spatial)
        bounds = rectangle_of(area) if area is not None else None
        if bounds is not None:
            return self._search_rectangle(options, area, bounds)
        keys = [plain_key(COLUMNS[name]) for name, _ in sort_keys(options.orderby)]
        light = query.with_only_columns(products.c.id, *BOX_COLUMNS, *keys)
        with self._reader.connect() as conn:
            rows = conn.execute(_bounded(light)).all()
            _check_candidates(len(rows))
            hits = self._spatial_hits(conn, rows, spatial)
        sort_rows(hits, options.orderby, first_key=1 + len(BOX_COLUMNS))
        return self._page_of(hits, len(hits), options)

    def _search_rectangle(
        self, options: QueryOptions, area: Any, bounds: tuple[float, float, float, float]
    ) -> SearchPage:
        """A rectangular area: SQL orders and counts the boxes inside it (rectangles.py)."""
        assert options.filter is not None
        wanted = options.skip + options.top + 1
        candidates = statements.rectangle_page(
            options.filter, options.orderby, bounds, wanted, MAX_SHAPE_CANDIDATES
        )
        with self._reader.connect() as conn:
            rows = conn.execute(candidates).all()
        unsure = [r for r in rows if not r.sure]
        _check_candidates(len(unsure))
        passed = shapes_intersect(area, [r.shape for r in unsure])
        hits = [r for r in rows if r.sure] + [
            r for r, hit in zip(unsure, passed, strict=True) if hit
        ]
        sort_rows(hits, options.orderby, first_key=6)
        total = (int(rows[0].sure_count or 0) if rows else 0) + sum(passed)
        page = [ProductVersion(r.id, r.modification_date, r.online) for r in _window(hits, options)]
        return _page(page, total, options)

    def _page_of(self, hits: list[Any], total: int, options: QueryOptions) -> SearchPage:
        """The page ``hits[skip:skip+top]`` (rows whose first column is the Id, in order)
        as versions, from one more query."""
        ids = [r[0] for r in _window(hits, options)]
        with self._reader.connect() as conn:
            rows = conn.execute(statements.VERSIONS.where(self._id_in(products.c.id, ids)))
            found = {row[0]: ProductVersion(*row) for row in rows}
        return _page([found[i] for i in ids if i in found], total, options)

    def _spatial_hits(self, conn: Any, rows: Sequence[Any], spatial: list[Node]) -> list[Any]:
        """Boxes inside the area need no shape; footprints are read only for the others."""
        boxes = [_box(r) for r in rows]
        area = _single_area(spatial)
        inside = boxes_inside(area, boxes) if area is not None else [False] * len(rows)
        unsure = [r.id for r, sure in zip(rows, inside, strict=True) if not sure]
        if area is not None:  # the common case: one area, footprints tested in one call
            passed = self._intersecting(conn, unsure, area)
            return [r for r, sure in zip(rows, inside, strict=True) if sure or r.id in passed]
        shapes: dict[UUID, Any] = {}
        for chunk in _chunks(unsure):
            query = select(products.c.id, products.c.footprint).where(
                self._id_in(products.c.id, chunk)
            )
            shapes.update((row.id, row.footprint) for row in conn.execute(query))
        return [
            r
            for r, box, sure in zip(rows, boxes, inside, strict=True)
            if sure or _shape_matches(spatial, shapes.get(r.id), box)
        ]

    def _intersecting(self, conn: Any, ids: list[UUID], geometry: Any) -> set[UUID]:
        """Those of ``ids`` whose footprint intersects ``geometry``, read as GeoJSON text."""
        passed: set[UUID] = set()
        text = cast(products.c.footprint, Text)
        for chunk in _chunks(ids):
            query = select(products.c.id, text).where(self._id_in(products.c.id, chunk))
            found = conn.execute(query).all()
            hits = shapes_intersect(geometry, [row[1] for row in found])
            passed.update(row[0] for row, hit in zip(found, hits, strict=True) if hit)
        return passed

    def _id_in(self, column: Any, ids: Sequence[UUID]) -> Any:
        return id_in(column, ids, self._engine.dialect.name)

    def _scalar(self, query: Select[Any]) -> int:
        with self._reader.connect() as conn:
            found: int = conn.execute(query).scalar_one()
            return found

    def _load(
        self, query: Select[tuple[object, ...]], with_attributes: bool = True
    ) -> list[Product]:
        with self._reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
            found = self._attributes(conn, [r["id"] for r in rows]) if with_attributes else {}
        return [product_from_row(r, found.get(r["id"], ())) for r in rows]

    def _attributes(self, conn: object, ids: Sequence[UUID]) -> dict[UUID, list[Attribute]]:
        grouped: dict[UUID, list[Attribute]] = defaultdict(list)
        if not ids:
            return grouped
        query = select(attributes).where(self._id_in(attributes.c.product_id, ids))
        query = query.order_by(attributes.c.product_id, attributes.c.name)
        for row in conn.execute(query).mappings():  # type: ignore[attr-defined]
            grouped[row["product_id"]].append(attribute_from_row(row))
        return grouped


def _names(group: Sequence[Product]) -> str:
    return group[0].name if len(group) == 1 else f"one of {len(group)} products"


BOX_COLUMNS = (products.c.min_lon, products.c.min_lat, products.c.max_lon, products.c.max_lat)


def _chunks(ids: Sequence[UUID], size: int = 1000) -> Iterator[list[UUID]]:
    """Id lists a statement at a time (SQLite limits the parameters of one statement)."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _bounded(query: Select[tuple[object, ...]]) -> Select[tuple[object, ...]]:
    return query.limit(MAX_SHAPE_CANDIDATES + 1)


def _single_area(spatial: list[Node]) -> Any:
    """The geometry when the spatial part is one Intersects, else None."""
    if len(spatial) == 1 and isinstance(spatial[0], Intersects):
        return spatial[0].geometry
    return None


def _check_candidates(found: int) -> None:
    if found > MAX_SHAPE_CANDIDATES:
        raise InvalidQuery(
            f"the area matches more than {MAX_SHAPE_CANDIDATES} footprints: "
            "narrow it, or add a time or name condition"
        )


def _window(hits: Sequence[T], options: QueryOptions) -> Sequence[T]:
    """The hits of the requested page, from all hits in order."""
    return hits[options.skip : options.skip + options.top]


def _page(versions: list[ProductVersion], total: int, options: QueryOptions) -> SearchPage:
    """A page of a search whose hits number ``total``."""
    more = total > options.skip + options.top
    return SearchPage(versions, total if options.count else None, more=more)


def _box(row: Any) -> tuple[float, float, float, float] | None:
    box = tuple(row[1:5])  # id, then the BOX_COLUMNS
    return None if box[0] is None else box


def _shape_matches(spatial: list[Node], geojson: Any, box: Any) -> bool:
    footprint = Footprint(geojson, box) if geojson is not None else None
    return all(footprint_matches(n, footprint) for n in spatial)
