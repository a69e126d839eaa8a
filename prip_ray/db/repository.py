"""ProductRepository: the catalogue of published products in the PRIP DB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Select, insert, select, tuple_, update
from sqlalchemy.exc import DataError, IntegrityError

from prip_ray.db import tables
from prip_ray.db.id_lists import chunks, id_in
from prip_ray.db.keyset import keyset_walk
from prip_ray.db.olqc import OlqcLinks, lock_key
from prip_ray.db.rows import (
    asset_from_row,
    asset_row,
    attribute_from_row,
    attribute_rows,
    digests_from_row,
    digests_row,
    listing_from_row,
    listing_row,
    product_from_row,
    product_row,
)
from prip_ray.db.search import SearchPage, search_page, statements
from prip_ray.db.search.pages import version_of
from prip_ray.db.session import reader
from prip_ray.db.spans import longest_spans, raise_spans
from prip_ray.db.true_colour import TrueColourLinks
from prip_ray.domain.assets import Asset, quicklook
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.package import PackageListing
from prip_ray.domain.products import Attribute, Product, ProductVersion
from prip_ray.errors import DuplicateProduct, InvalidMetadata, ProductNotFound, StorageError
from prip_ray.odata.options import QueryOptions

products, attributes, ingestions = tables.products, tables.attributes, tables.ingestions


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
        self._true_colour = TrueColourLinks()

    def publish(
        self,
        product: Product,
        digests: ProductHashes | None = None,
        *,
        listing: PackageListing | None = None,
    ) -> None:
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
        listings = {product.id: listing} if listing is not None else {}
        if not self.publish_all([product], found, listings=listings):
            raise StorageError(f"{product.name}: ingestion attempt was cancelled")

    def publish_all(
        self,
        group: Sequence[Product],
        digests: Mapping[UUID, ProductHashes] | None = None,
        *,
        listings: Mapping[UUID, PackageListing] | None = None,
    ) -> list[Product]:
        """Publish a group in one transaction, as :meth:`publish` does one product (with the
        ``digests`` and package ``listings`` computed for them, by Id); returns those
        published. A product whose
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
                    own = self._insert_listings(conn, chosen, listings or {})
                    self._true_colour.on_publish(conn, chosen, own)
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
        raise_spans(conn, group)
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

    @staticmethod
    def _insert_listings(
        conn: Any, group: Sequence[Product], listings: Mapping[UUID, PackageListing]
    ) -> dict[UUID, Asset]:
        """The members of each product's package, and the quicklook found among them: the
        products that have one, and what it is."""
        rows = [listing_row(p.id, listings[p.id]) for p in group if p.id in listings]
        if rows:
            conn.execute(insert(tables.product_nodes), rows)
        found = {p.id: quicklook(p.id, listings[p.id].members) for p in group if p.id in listings}
        previews = {pid: asset for pid, asset in found.items() if asset is not None}
        if previews:
            conn.execute(insert(tables.assets), [asset_row(*item) for item in previews.items()])
        return previews

    def asset(self, asset_id: UUID) -> tuple[UUID, Asset]:
        """(product Id, asset) of the asset with this Id; ProductNotFound if none."""
        assets = tables.assets
        with self._reader.connect() as conn:
            row = conn.execute(select(assets).where(assets.c.id == asset_id)).mappings().first()
        if row is None:
            raise ProductNotFound(f"no asset with Id {asset_id}")
        return row["product_id"], asset_from_row(row)

    def listing(self, product_id: UUID) -> PackageListing | None:
        """The package members recorded at publication (None before migration 0018)."""
        nodes = tables.product_nodes
        query = select(nodes).where(nodes.c.product_id == product_id)
        with self._reader.connect() as conn:
            row = conn.execute(query).mappings().first()
        return listing_from_row(row) if row is not None else None

    def get(self, product_id: UUID, *, with_assets: bool = False) -> Product:
        query = select(products).where(products.c.id == product_id)
        found = self._load(query, with_assets=with_assets)
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

    def longest_spans(self) -> dict[str, float]:
        """The longest sensing period, in seconds, of each product type ever published
        (db/spans.py): what bounds a search by period overlap."""
        with self._reader.connect() as conn:
            return longest_spans(conn)

    def by_name(
        self, name: str, with_attributes: bool = True, *, with_assets: bool = False
    ) -> Product | None:
        query = select(products).where(products.c.name == name)
        found = self._load(query, with_attributes, with_assets=with_assets)
        return found[0] if found else None

    def stream(self, since: datetime | None, batch: int = 1000) -> Iterator[Product]:
        """Every product (online or not), batch by batch in (ModificationDate, Id) order: a
        keyset walk, so each batch is an index range and memory holds one batch only."""
        order = (products.c.modification_date, products.c.id)
        return keyset_walk(
            products, order, self._load, lambda p: (p.modification_date, p.id), since, batch
        )

    def by_ids(
        self, ids: Sequence[UUID], with_attributes: bool = True, *, with_assets: bool = False
    ) -> list[Product]:
        """Products for these Ids, in no order; unknown Ids are left out."""
        found: list[Product] = []
        for chunk in chunks(ids):
            query = select(products).where(self._id_in(products.c.id, chunk))
            found += self._load(query, with_attributes, with_assets=with_assets)
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
            found = {row.name: version_of(row) for row in conn.execute(query)}
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
        return search_page(self._reader, self._load, options)

    def _id_in(self, column: Any, ids: Sequence[UUID]) -> Any:
        return id_in(column, ids, self._engine.dialect.name)

    def _load(
        self,
        query: Select[tuple[object, ...]],
        with_attributes: bool = True,
        *,
        with_assets: bool = False,
    ) -> list[Product]:
        with self._reader.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            found = self._attributes(conn, ids) if with_attributes else {}
            assets = self._assets(conn, ids) if with_assets else {}
        return [product_from_row(r, found.get(r["id"], ()), assets.get(r["id"], ())) for r in rows]

    def _assets(self, conn: Any, ids: Sequence[UUID]) -> dict[UUID, list[Asset]]:
        grouped: dict[UUID, list[Asset]] = defaultdict(list)
        if not ids:
            return grouped
        query = select(tables.assets).where(self._id_in(tables.assets.c.product_id, ids))
        for row in conn.execute(query.order_by(tables.assets.c.id)).mappings():
            grouped[row["product_id"]].append(asset_from_row(row))
        return grouped

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
