"""The catalogue queries of metadata retention: evicted rows leave Products, old
DeletedProducts entries are purged.

A ``products`` row leaves only when nothing still needs it there:

* it is offline and its bytes are confirmed gone (``object_key`` cleared: the orphan sweep
  of db/eviction.py finds unfinished evictions through the row);
* it went offline before the retention cutoff and before the export high-water mark (the
  catalogue export holds its last state);
* every outbox reader is past its events: the subscriptions that may still deliver
  (running, and paused for a while: ``outbox_low_water``) and the delivery channels
  (``consumers``) read the product's row when they handle an event, and a delivery of it
  still pending or sending reads it too.

Each removal is one transaction that also writes the DeletedProducts entry if eviction did
not (rows evicted before DeletedProducts existed), so a crash leaves either the row or the
entry with nothing lost. DeletedProducts entries are purged after their own retention, once
exported, and never while their product's row is still in ``products``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, and_, delete, exists, func, not_, or_, select

from prip_ray.db.deleted import record_deletion
from prip_ray.db.tables import (
    attributes,
    consumers,
    deleted_attributes,
    deleted_products,
    deliveries,
    outbox,
    products,
    subscriptions,
)
from prip_ray.domain.products import RETENTION_EXPIRED, WITHDRAWN
from prip_ray.errors import Unavailable

WAITING = ("pending", "sending")  # deliveries that will still read their product


def outbox_low_water(conn: Connection, paused_hold: timedelta | None = None) -> int | None:
    """The lowest cursor of every outbox reader that still reads (None: no reader): every
    event up to it has been handled by all of them.

    A paused subscription reads again only when its owner resumes it, which may be never: it
    holds events (and the rows they name) only while the oldest it has not read is within
    ``paused_hold`` of the newest event (None: for ever). Past that it lets them go, and a
    resumed subscription misses what was pruned meanwhile, as CDSE's miss all they did not
    see while paused."""
    return _lowest(
        conn.execute(select(func.min(consumers.c.cursor))).scalar(),
        conn.execute(
            select(func.min(subscriptions.c.cursor)).where(_reading(conn, paused_hold))
        ).scalar(),
    )


def _reading(conn: Connection, paused_hold: timedelta | None) -> Any:
    """Subscriptions that still hold the outbox."""
    running, paused = subscriptions.c.status == "running", subscriptions.c.status == "paused"
    newest = conn.execute(
        select(outbox.c.created_at).order_by(outbox.c.seq.desc()).limit(1)
    ).scalar()
    if paused_hold is None or newest is None:
        return or_(running, paused)
    oldest_unread = (
        select(outbox.c.created_at)
        .where(outbox.c.seq > subscriptions.c.cursor)
        .order_by(outbox.c.seq)
        .limit(1)
        .correlate(subscriptions)
        .scalar_subquery()
    )
    recent = or_(oldest_unread.is_(None), oldest_unread >= newest - paused_hold)
    return or_(running, and_(paused, recent))


def _lowest(*cursors: Any) -> int | None:
    found = [int(c) for c in cursors if c is not None]
    return min(found) if found else None


def _unread_by_everyone(
    conn: Connection, product_id: Any, paused_hold: timedelta | None = None
) -> Any:
    """No outbox reader will still read this product's row."""
    low = outbox_low_water(conn, paused_hold)
    pending = exists().where(deliveries.c.product_id == product_id, deliveries.c.state.in_(WAITING))
    if low is None:
        return not_(pending)
    unread = exists().where(outbox.c.product_id == product_id, outbox.c.seq > low)
    return and_(not_(pending), not_(unread))


class RetentionRepository:
    def __init__(self, engine: Engine, paused_hold: timedelta | None = None):
        """``paused_hold``: how much outbox history a paused subscription holds
        (``outbox_low_water``; the Roller's ``events_retention``)."""
        self._engine = engine
        self._paused_hold = paused_hold

    def leaving(self, offline_before: datetime, exported_until: datetime, limit: int) -> list[UUID]:
        """Offline rows due to leave Products, oldest first."""
        before = min(offline_before, exported_until)
        query = (
            select(products.c.id)
            .where(*self._leavable(before))
            .order_by(products.c.modification_date, products.c.id)
            .limit(limit)
        )
        with self._engine.begin() as conn:
            query = query.where(_unread_by_everyone(conn, products.c.id, self._paused_hold))
            return list(conn.execute(query).scalars())

    def remove(self, product_id: UUID, offline_before: datetime, exported_until: datetime) -> bool:
        """Take the row out of Products (its DeletedProducts entry written if missing), in
        one transaction; False if it no longer qualifies (another Roller, a re-check)."""
        before = min(offline_before, exported_until)
        with self._engine.begin() as conn:
            row = conn.execute(
                select(products.c.modification_date).where(
                    products.c.id == product_id,
                    *self._leavable(before),
                    _unread_by_everyone(conn, products.c.id, self._paused_hold),
                )
            ).first()
            if row is None:
                return False
            return self._take_out(conn, product_id, row.modification_date)

    def remove_withdrawn(self, name: str) -> bool:
        """Free ``name`` for a new delivery: take its withdrawn row out of Products now,
        whatever the retention (its DeletedProducts entry keeps the metadata, and exports
        carry it). False if ``name`` is not a withdrawn product; Unavailable while an outbox
        reader still needs the row or its bytes are not gone yet (the delivery waits)."""
        with self._engine.begin() as conn:
            row = conn.execute(
                select(products.c.id, products.c.modification_date, products.c.object_key)
                .join(deleted_products, deleted_products.c.id == products.c.id)
                .where(
                    products.c.name == name,
                    products.c.online.is_(False),
                    deleted_products.c.deletion_cause.startswith(WITHDRAWN),
                )
            ).first()
            if row is None:
                return False
            unread = conn.execute(
                select(_unread_by_everyone(conn, row.id, self._paused_hold))
            ).scalar()
            if row.object_key or not unread:
                raise Unavailable(
                    f"{name} was withdrawn; its new delivery waits until its bytes are gone "
                    "and subscribers and the Tracer have heard of the withdrawal"
                )
            return self._take_out(conn, row.id, row.modification_date)

    def purgeable(
        self, deleted_before: datetime, exported_until: datetime, limit: int
    ) -> list[UUID]:
        """DeletedProducts entries past their retention and exported, oldest first."""
        before = min(deleted_before, exported_until)
        query = (
            select(deleted_products.c.id)
            .where(deleted_products.c.deletion_date < before, self._row_gone())
            .order_by(deleted_products.c.deletion_date, deleted_products.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def purge(self, ids: list[UUID]) -> int:
        """Drop these DeletedProducts entries (with their attributes), in one transaction."""
        if not ids:
            return 0
        row_gone = not_(exists().where(products.c.id == deleted_attributes.c.product_id))
        with self._engine.begin() as conn:
            conn.execute(
                delete(deleted_attributes).where(deleted_attributes.c.product_id.in_(ids), row_gone)
            )
            chosen = and_(deleted_products.c.id.in_(ids), self._row_gone())
            gone = conn.execute(delete(deleted_products).where(chosen)).rowcount
        return int(gone)

    def _take_out(self, conn: Connection, product_id: UUID, offline_since: datetime) -> bool:
        recorded = exists().where(deleted_products.c.id == product_id)
        if not conn.execute(select(recorded)).scalar():
            record_deletion(conn, product_id, offline_since, RETENTION_EXPIRED)
        conn.execute(delete(attributes).where(attributes.c.product_id == product_id))
        conn.execute(delete(products).where(products.c.id == product_id))
        return True

    @staticmethod
    def _leavable(before: datetime) -> tuple[Any, ...]:
        return (
            products.c.online.is_(False),
            products.c.object_key == "",
            products.c.modification_date < before,
        )

    @staticmethod
    def _row_gone() -> Any:
        return not_(exists().where(products.c.id == deleted_products.c.id))
