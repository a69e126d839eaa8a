"""The catalogue queries of the Roller: candidates, store size, and the eviction itself.

Eviction is two steps so that an Online entry never lacks its bytes: one transaction marks
the entry offline, appends the ``deleted`` outbox event and records the DeletedProducts
entry; then the bytes go, and the
entry's object key is cleared. A crash in between leaves an offline entry whose bytes are
still there, which ``orphans`` finds and the next round deletes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, RowMapping, func, insert, select, update

from prip_ray.db.deleted import record_deletion
from prip_ray.db.tables import consumers, deliveries, downloads, outbox, products
from prip_ray.domain.eviction import Candidate
from prip_ray.domain.products import RETENTION_EXPIRED

_COLUMNS = (
    products.c.id,
    products.c.name,
    products.c.content_length,
    products.c.eviction_date,
    products.c.publication_date,
)


class EvictionRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def due(self, now: datetime, limit: int) -> list[Candidate]:
        query = (
            select(*_COLUMNS)
            .where(products.c.online.is_(True), products.c.eviction_date <= now)
            .order_by(products.c.eviction_date, products.c.id)
            .limit(limit)
        )
        return self._candidates(query)

    def oldest(self, limit: int) -> list[Candidate]:
        query = (
            select(*_COLUMNS)
            .where(products.c.online.is_(True))
            .order_by(products.c.publication_date, products.c.id)
            .limit(limit)
        )
        return self._candidates(query)

    def stored_bytes(self) -> int:
        query = select(func.coalesce(func.sum(products.c.content_length), 0)).where(
            products.c.online.is_(True)
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def busy(self, now: datetime, stale_after_s: float) -> set[UUID]:
        """Products with a download running now (as the quota slots see it)."""
        query = select(downloads.c.product_id).where(
            downloads.c.status == "active",
            downloads.c.progress_at > now - timedelta(seconds=stale_after_s),
        )
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def owed(self, ids: Sequence[UUID], channel: str, product_types: Collection[str]) -> set[UUID]:
        """Those of ``ids`` a delivery channel still owes its peer: a ``created`` delivery
        queued and not done (pending, or sending), or, for ``product_types``, a ``created``
        event the channel has not even queued yet (its forwarder is behind, or down)."""
        if not ids:
            return set()
        queued = select(deliveries.c.product_id).where(
            deliveries.c.channel == channel,
            deliveries.c.event == "created",
            deliveries.c.state.in_(("pending", "sending")),
            deliveries.c.product_id.in_(ids),
        )
        cursor = (
            select(func.coalesce(func.max(consumers.c.cursor), 0))
            .where(consumers.c.name == channel)
            .scalar_subquery()
        )
        unqueued = (
            select(outbox.c.product_id)
            .join(products, products.c.id == outbox.c.product_id)
            .where(
                outbox.c.event == "created",
                outbox.c.seq > cursor,
                outbox.c.product_id.in_(ids),
                products.c.product_type.in_(product_types),
            )
        )
        with self._engine.connect() as conn:
            owed = set(conn.execute(queued).scalars())
            if product_types:
                owed |= set(conn.execute(unqueued).scalars())
        return owed

    def mark_evicted(
        self, product_id: UUID, now: datetime, cause: str = RETENTION_EXPIRED
    ) -> str | None:
        """Offline + ``deleted`` event + DeletedProducts entry (with ``cause``), in one
        transaction; returns the key whose bytes to delete (None if someone else evicted it
        meanwhile)."""
        with self._engine.begin() as conn:
            key = conn.execute(
                select(products.c.object_key).where(
                    products.c.id == product_id, products.c.online.is_(True)
                )
            ).scalar()
            if key is None:
                return None
            conn.execute(
                update(products)
                .where(products.c.id == product_id)
                .values(online=False, modification_date=now)
            )
            conn.execute(
                insert(outbox).values(product_id=product_id, event="deleted", created_at=now)
            )
            record_deletion(conn, product_id, now, cause)
        return str(key)

    def bytes_gone(self, product_id: UUID) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(products).where(products.c.id == product_id).values(object_key=""))

    def orphans(self, limit: int) -> list[tuple[UUID, str]]:
        """Offline entries whose bytes were not confirmed deleted (a crash mid-eviction)."""
        query = (
            select(products.c.id, products.c.object_key)
            .where(products.c.online.is_(False), products.c.object_key != "")
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(query)]

    def _candidates(self, query: Any) -> list[Candidate]:
        with self._engine.connect() as conn:
            return [_candidate(r) for r in conn.execute(query).mappings()]


def _candidate(row: RowMapping) -> Candidate:
    return Candidate(
        row["id"], row["name"], row["content_length"], row["eviction_date"], row["publication_date"]
    )
