"""Catalogue rows written straight to the PRIP DB, for tests of what reads them."""

from __future__ import annotations

from sqlalchemy import Engine, insert

from prip_ray.db.rows import attribute_rows, product_row
from prip_ray.db.tables import attributes, products
from prip_ray.domain.products import Product


def insert_products(engine: Engine, items: list[Product]) -> None:
    """Product rows and their attributes, in one transaction."""
    with engine.begin() as conn:
        conn.execute(insert(products), [product_row(p) for p in items])
        conn.execute(insert(attributes), [r for p in items for r in attribute_rows(p)])
