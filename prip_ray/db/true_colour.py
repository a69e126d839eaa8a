"""Lend a tile the image of the true-colour (TC) product of the same tile and sensing, in
the publication's transaction (domain/true_colour.py says which products pair).

A tile and its TC product arrive in either order, often on two shards at once; whichever
is published second must see the first, so both take the lock of their sensing key before
they read ``true_colour_keys`` (as OLQC reports and their products do, db/olqc.py; these
locks are taken after a group's OLQC locks, in key order, so two groups never wait for
each other's):

* a TC product records its key and lends its image (its own quicklook asset) to every
  tile waiting under that key, which stop waiting;
* a tile with no preview of its own borrows the image of a TC product already recorded
  under its key, or waits under it.

A borrowed image is an asset of the tile whose ``source_id`` is the TC product. Lending it
to a tile already published gives the tile a new ModificationDate: what clients are served
of a product is keyed by it (the API's entity caches, the incremental export).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, delete, insert, select, update

from prip_ray.db.locks import lock_name
from prip_ray.db.rows import asset_row
from prip_ray.db.tables import assets, products, true_colour_keys
from prip_ray.domain.assets import Asset, borrowed
from prip_ray.domain.naming import parse_name
from prip_ray.domain.products import Product
from prip_ray.domain.true_colour import is_true_colour, sensing_key
from prip_ray.errors import InvalidProductName

_TICK = timedelta(microseconds=1)  # a new ModificationDate is always later than the last
keys = true_colour_keys


class TrueColourLinks:
    def on_publish(
        self, conn: Connection, group: Sequence[Product], own: Mapping[UUID, Asset]
    ) -> None:
        """Called in ``group``'s publication transaction, after its rows and their own
        quicklooks (``own``, by product Id) are written."""
        keyed = [(key, p) for p in group if (key := _key(p)) is not None]
        for key, product in sorted(keyed, key=lambda pair: (pair[0], pair[1].id)):
            lock_name(conn, f"tc:{key}")
            if is_true_colour(parse_name(product.name)):
                image = own.get(product.id)
                if image is not None:
                    _lend(conn, key, product, image)
            elif product.id not in own:
                _borrow(conn, key, product)


def _key(product: Product) -> str | None:
    try:
        return sensing_key(parse_name(product.name))
    except InvalidProductName:
        return None


def _lend(conn: Connection, key: str, source: Product, image: Asset) -> None:
    conn.execute(insert(keys).values(product_id=source.id, key=key, true_colour=True))
    waiting = keys.c.key == key, keys.c.true_colour.is_(False)
    tiles = list(conn.execute(select(keys.c.product_id).where(*waiting)).scalars())
    if not tiles:
        return
    conn.execute(insert(assets), [asset_row(t, borrowed(t, source.id, image)) for t in tiles])
    conn.execute(delete(keys).where(*waiting))
    for tile in tiles:
        _new_version(conn, tile, source.publication_date)


def _borrow(conn: Connection, key: str, tile: Product) -> None:
    lender = (
        select(keys.c.product_id, assets.c.id, assets.c.type, assets.c.path)
        .join(assets, assets.c.product_id == keys.c.product_id)
        .where(keys.c.key == key, keys.c.true_colour.is_(True), assets.c.source_id.is_(None))
        .order_by(keys.c.product_id)
        .limit(1)
    )
    found = conn.execute(lender).first()
    if found is None:
        conn.execute(insert(keys).values(product_id=tile.id, key=key, true_colour=False))
        return
    image = Asset(found.id, found.type, found.path)
    conn.execute(
        insert(assets).values(asset_row(tile.id, borrowed(tile.id, found.product_id, image)))
    )


def _new_version(conn: Connection, product_id: UUID, now: datetime) -> None:
    current = select(products.c.modification_date).where(products.c.id == product_id)
    before = conn.execute(current).scalar_one()
    conn.execute(
        update(products)
        .where(products.c.id == product_id)
        .values(modification_date=max(now, before + _TICK))
    )
