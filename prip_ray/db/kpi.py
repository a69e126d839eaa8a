"""The figures the KPIs are computed from, read from the PRIP DB (and written: probes).

Publications are read from Products and from the DeletedProducts entries whose row has left
Products (db/retention.py): a report on a past month still counts what has rolled out since.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Subquery,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    union_all,
)

from prip_ray.db.tables import (
    deleted_products,
    health_probes,
    kpi_days,
    kpi_hours,
    kpi_probe_hours,
    olqc_awaited,
    products,
)

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

    def timed_delays(
        self, since: datetime, until: datetime
    ) -> Iterator[tuple[datetime, str, float]]:
        """(publication time, product type, delay in seconds) of products published in the
        window, streamed: what the hourly rollups are built from."""
        published = _published(since, until)
        query = select(
            published.c.publication_date, published.c.product_type, published.c.origin_date
        )
        with self._engine.connect() as conn:
            result = conn.execution_options(yield_per=_BATCH).execute(query)
            for when, product_type, origin in result:
                yield when, product_type, (when - origin).total_seconds()

    def named(self, since: datetime, until: datetime, like: str) -> Iterator[tuple[str, datetime]]:
        """(name, publication time) of the products published in the window named ``like``."""
        published = _published(since, until)
        query = select(published.c.name, published.c.publication_date).where(
            published.c.name.like(like)
        )
        with self._engine.connect() as conn:
            rows = conn.execution_options(yield_per=_BATCH).execute(query)
            yield from ((name, when) for name, when in rows)  # tuples, not Rows

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

    def unreported(
        self, since: datetime, until: datetime, product_types: Collection[str], latest: int
    ) -> tuple[dict[datetime, int], list[tuple[str, datetime]]]:
        """The products of ``product_types`` published in the window that still wait for
        their OLQC report (``olqc_awaited``, db/olqc.py): how many per day (UTC midnight),
        counted by the DB, and the ``latest`` of them, (name, publication time) newest
        first."""
        c = olqc_awaited.c
        where = (
            c.publication_date >= since,
            c.publication_date < until,
            c.product_type.in_(sorted(product_types)),
        )
        day = _day_of(self._engine.dialect.name, c.publication_date).label("day")
        per_day = select(day, func.count()).where(*where).group_by(day)
        names = (
            select(c.name, c.publication_date)
            .where(*where)
            .order_by(c.publication_date.desc())
            .limit(latest)
        )
        with self._engine.connect() as conn:
            counts = {_midnight(d): int(n) for d, n in conn.execute(per_day)}
            found = [(name, when) for name, when in conn.execute(names)]
        return counts, found

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

    def last_probe(self, since: datetime, until: datetime) -> tuple[datetime, bool] | None:
        window = (health_probes.c.at >= since, health_probes.c.at < until)
        query = select(health_probes.c.at, health_probes.c.ok).where(*window)
        with self._engine.connect() as conn:
            row = conn.execute(query.order_by(health_probes.c.at.desc()).limit(1)).first()
        return None if row is None else (row[0], bool(row[1]))

    def probe_changes(self, since: datetime, until: datetime) -> list[tuple[datetime, bool]]:
        """The probes whose outcome differs from the one before, and the last probe: all
        that outages are computed from, without reading every probe of a month."""
        window = (health_probes.c.at >= since, health_probes.c.at < until)
        previous = func.lag(health_probes.c.ok).over(order_by=health_probes.c.at)
        marked = (
            select(health_probes.c.at, health_probes.c.ok, previous.label("previous"))
            .where(*window)
            .subquery()
        )
        changes = (
            select(marked.c.at, marked.c.ok)
            .where(or_(marked.c.previous.is_(None), marked.c.previous != marked.c.ok))
            .order_by(marked.c.at)
        )
        last = select(health_probes.c.at, health_probes.c.ok).where(*window)
        last = last.order_by(health_probes.c.at.desc()).limit(1)
        with self._engine.connect() as conn:
            found = [(at, bool(ok)) for at, ok in conn.execute(changes)]
            tail = [(at, bool(ok)) for at, ok in conn.execute(last)]
        if tail and (not found or found[-1][0] != tail[0][0]):
            found += tail
        return found

    def probe_slots(
        self,
        since: datetime,
        until: datetime,
        slots: int,
        within: tuple[datetime, datetime] | None = None,
    ) -> list[tuple[int, int, int]]:
        """(slot, good, failed) of the probes in each of ``slots`` equal parts of the window
        that had any, counted by the DB; ``within``: only the probes of that part of it."""
        low, high = within or (since, until)
        width = (until - since).total_seconds() / slots
        offset = _seconds_since(self._engine.dialect.name, health_probes.c.at, since)
        slot = func.floor(offset / width).label("slot")
        good = func.sum(case((health_probes.c.ok, 1), else_=0))
        query = (
            select(slot, good, func.count())
            .where(health_probes.c.at >= low, health_probes.c.at < high)
            .group_by(slot)
        )
        with self._engine.connect() as conn:
            return [
                (min(slots - 1, int(s)), int(g), int(n) - int(g)) for s, g, n in conn.execute(query)
            ]

    def purge_probes(self, before: datetime) -> int:
        """The KPI history older than ``before``: probes, and the rollups of hours and days
        (kept as long, for reports on past months); how many probes went."""
        with self._engine.begin() as conn:
            conn.execute(delete(kpi_hours).where(kpi_hours.c.hour < before))
            conn.execute(delete(kpi_probe_hours).where(kpi_probe_hours.c.hour < before))
            conn.execute(delete(kpi_days).where(kpi_days.c.day < before))
            return conn.execute(delete(health_probes).where(health_probes.c.at < before)).rowcount


def _seconds_since(dialect: str, column: Any, since: datetime) -> ColumnElement[Any]:
    """Seconds from ``since`` to ``column``, in the DB's own date arithmetic (timestamps
    are stored naive in UTC, see tables.UtcDateTime)."""
    naive = since.astimezone(UTC).replace(tzinfo=None)
    if dialect == "postgresql":
        return func.extract("epoch", column - literal(naive))
    return (func.julianday(column) - func.julianday(literal(naive.isoformat(sep=" ")))) * 86400.0


def _day_of(dialect: str, column: Any) -> ColumnElement[Any]:
    """The UTC day of a timestamp column (stored naive in UTC), in the DB's own terms."""
    if dialect == "postgresql":
        return func.date_trunc("day", column)
    return func.date(column)


def _midnight(day: date | datetime | str) -> datetime:
    """A day as the DB gives it back (a timestamp, a date or SQLite's text): its midnight."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if not isinstance(day, datetime):
        day = datetime(day.year, day.month, day.day)
    return day.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)


def _published(since: datetime, until: datetime) -> Subquery:
    """Products published in ``[since, until)``, listed or rolled out of Products."""
    columns = ("name", "product_type", "publication_date", "origin_date")

    def of(table: Any) -> Any:
        return select(*(table.c[c] for c in columns)).where(
            table.c.publication_date >= since, table.c.publication_date < until
        )

    gone = not_(exists().where(products.c.id == deleted_products.c.id))
    return union_all(of(products), of(deleted_products).where(gone)).subquery()
