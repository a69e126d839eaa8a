"""The figures the KPIs are computed from, read from the PRIP DB (and written: probes).

Publications are read from Products and from the DeletedProducts entries whose row has left
Products (db/retention.py): a report on a past month still counts what has rolled out since.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Subquery, delete, exists, func, insert, not_, select, union_all

from prip_ray.db.tables import deleted_products, health_probes, products

_BATCH = 10_000


class KpiRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def delays(self, since: datetime, until: datetime) -> Iterator[tuple[str, float]]:
        """(product type, publication - origin in seconds) of products published in the
        window, streamed."""
        published = _published(since, until)
        query = select(
            published.c.product_type, published.c.publication_date, published.c.origin_date
        )
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_BATCH).execute(query)
            for product_type, published, origin in result:
                yield product_type, (published - origin).total_seconds()

    def published_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        published = _published(since, until)
        query = select(published.c.product_type, func.count()).group_by(published.c.product_type)
        with self._engine.connect() as conn:
            return {t: int(n) for t, n in conn.execute(query)}

    def names(self, since: datetime, until: datetime, like: str) -> Iterator[str]:
        published = _published(since, until)
        query = select(published.c.name).where(published.c.name.like(like))
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=_BATCH).execute(query).scalars()

    def record_probe(self, at: datetime, ok: bool, seconds: float, detail: str | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(health_probes).values(at=at, ok=ok, seconds=seconds, detail=detail))

    def probes(self, since: datetime, until: datetime) -> list[tuple[datetime, bool]]:
        query = (
            select(health_probes.c.at, health_probes.c.ok)
            .where(health_probes.c.at >= since, health_probes.c.at < until)
            .order_by(health_probes.c.at)
        )
        with self._engine.connect() as conn:
            return [(at, bool(ok)) for at, ok in conn.execute(query)]

    def purge_probes(self, before: datetime) -> int:
        with self._engine.begin() as conn:
            return conn.execute(delete(health_probes).where(health_probes.c.at < before)).rowcount


def _published(since: datetime, until: datetime) -> Subquery:
    """Products published in ``[since, until)``, listed or rolled out of Products."""
    columns = ("name", "product_type", "publication_date", "origin_date")

    def of(table: Any) -> Any:
        return select(*(table.c[c] for c in columns)).where(
            table.c.publication_date >= since, table.c.publication_date < until
        )

    gone = not_(exists().where(products.c.id == deleted_products.c.id))
    return union_all(of(products), of(deleted_products).where(gone)).subquery()
