"""The longest sensing period per product type (db/spans.py), kept by publication and
recomputed from the catalogue for bulk loads, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from prip_ray.bootstrap import Components
from prip_ray.db.spans import recompute_spans
from prip_ray.db.tables import products
from tests.samples import publish_samples


def test_publication_keeps_each_types_longest_period(components: Components) -> None:
    publish_samples(components)
    with components.engine.connect() as conn:
        rows = conn.execute(
            select(products.c.product_type, products.c.content_start, products.c.content_end)
        ).all()
    expected: dict[str, float] = {}
    for product_type, start, end in rows:
        seconds = (end - start).total_seconds()
        expected[product_type] = max(seconds, expected.get(product_type, 0.0))
    assert len(expected) >= 2  # the samples are of several types
    kept = components.products.longest_spans()
    assert kept.keys() == expected.keys()
    for product_type, seconds in expected.items():
        assert abs(kept[product_type] - seconds) < 1e-3, product_type
    with components.engine.begin() as conn:  # what a bulk load runs afterwards
        recompute_spans(conn)
    recomputed = components.products.longest_spans()
    assert recomputed.keys() == expected.keys()
    assert all(abs(recomputed[t] - s) < 1e-3 for t, s in expected.items())
