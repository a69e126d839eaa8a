"""The figures the KPIs are computed from, read from the PRIP DB (and written: probes)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, func, insert, select

from prip_ray.db.tables import health_probes, products

_BATCH = 10_000


class KpiRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def delays(self, since: datetime, until: datetime) -> Iterator[tuple[str, float]]:
        """(product type, publication - origin in seconds) of products published in the
        window, streamed."""
        query = select(
            products.c.product_type, products.c.publication_date, products.c.origin_date
        ).where(products.c.publication_date >= since, products.c.publication_date < until)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_BATCH).execute(query)
            for product_type, published, origin in result:
                yield product_type, (published - origin).total_seconds()

    def timed_delays(
        self, since: datetime, until: datetime
    ) -> Iterator[tuple[datetime, str, float]]:
        """(publication time, product type, delay in seconds) of products published in the
        window, streamed: what the hourly and daily series are built from."""
        query = select(
            products.c.publication_date, products.c.product_type, products.c.origin_date
        ).where(products.c.publication_date >= since, products.c.publication_date < until)
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_BATCH).execute(query)
            for published, product_type, origin in result:
                yield published, product_type, (published - origin).total_seconds()

    def named(self, since: datetime, until: datetime, like: str) -> Iterator[tuple[str, datetime]]:
        """(name, publication time) of the products published in the window named ``like``."""
        query = select(products.c.name, products.c.publication_date).where(
            products.c.publication_date >= since,
            products.c.publication_date < until,
            products.c.name.like(like),
        )
        with self._engine.connect() as conn:
            rows = conn.execution_options(yield_per=_BATCH).execute(query)
            yield from ((name, published) for name, published in rows)  # tuples, not Rows

    def published_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        query = (
            select(products.c.product_type, func.count())
            .where(products.c.publication_date >= since, products.c.publication_date < until)
            .group_by(products.c.product_type)
        )
        with self._engine.connect() as conn:
            return {t: int(n) for t, n in conn.execute(query)}

    def names(self, since: datetime, until: datetime, like: str) -> Iterator[str]:
        query = select(products.c.name).where(
            products.c.publication_date >= since,
            products.c.publication_date < until,
            products.c.name.like(like),
        )
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=_BATCH).execute(query).scalars()

    def record_probe(self, at: datetime, ok: bool, seconds: float, detail: str | None) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(health_probes).values(at=at, ok=ok, seconds=seconds, detail=detail))

    def record_probes(self, rows: Sequence[tuple[datetime, bool, float, str | None]]) -> None:
        """Probes kept while the DB was away, in one transaction."""
        values = [{"at": at, "ok": ok, "seconds": s, "detail": d} for at, ok, s, d in rows]
        if values:
            with self._engine.begin() as conn:
                conn.execute(insert(health_probes), values)

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
