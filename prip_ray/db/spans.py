"""The longest sensing period of each product type (table ``sensing_spans``): raised in a
publication's transaction, read by searches for products whose period meets an interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, select, text
from sqlalchemy.dialects import postgresql, sqlite

from prip_ray.db.tables import sensing_spans
from prip_ray.domain.products import Product


def raise_spans(conn: Any, group: Sequence[Product]) -> None:
    """Make each type's longest period at least that of its products in ``group``. Read
    first, written only when a period is longer than any before (rare once a type has been
    seen), so concurrent publications do not queue on the type's row."""
    longest: dict[str, float] = {}
    for product in group:
        seconds = max(0.0, (product.content_date.end - product.content_date.start).total_seconds())
        longest[product.product_type] = max(seconds, longest.get(product.product_type, 0.0))
    query = select(sensing_spans).where(sensing_spans.c.product_type.in_(list(longest)))
    known = {row.product_type: row.longest_s for row in conn.execute(query)}
    longer = [
        {"product_type": t, "longest_s": s} for t, s in longest.items() if s > known.get(t, -1.0)
    ]
    if not longer:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(sensing_spans)
    kept = case(
        (upsert.excluded.longest_s > sensing_spans.c.longest_s, upsert.excluded.longest_s),
        else_=sensing_spans.c.longest_s,
    )  # another publication may have raised it meanwhile: keep the longer
    conn.execute(
        upsert.on_conflict_do_update(index_elements=["product_type"], set_={"longest_s": kept}),
        sorted(longer, key=lambda row: str(row["product_type"])),  # one lock order for all
    )


def longest_spans(conn: Any) -> dict[str, float]:
    """Seconds by product type, of every type ever published."""
    return {row.product_type: row.longest_s for row in conn.execute(select(sensing_spans))}


def recompute_spans(conn: Any) -> None:
    """Every type's longest period from the products table itself: for catalogues loaded
    around the publication path (a bulk COPY; migration 0020 does the same once)."""
    if conn.dialect.name == "postgresql":
        seconds = "EXTRACT(EPOCH FROM max(content_end - content_start))"
    else:
        seconds = "max((julianday(content_end) - julianday(content_start)) * 86400.0)"
    conn.execute(text("DELETE FROM sensing_spans"))
    conn.execute(
        text(
            "INSERT INTO sensing_spans (product_type, longest_s) "
            f"SELECT product_type, {seconds} FROM products GROUP BY product_type"
        )
    )
