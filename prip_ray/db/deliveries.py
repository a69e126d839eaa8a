"""The durable queue of downstream deliveries (traces, HKTM to FOS), fed from the outbox.

``feed`` reads the outbox after the channel's cursor and queues one delivery per wanted
event in the same transaction that advances the cursor, so an event is queued exactly once
whatever crashes. A delivery then goes pending -> sending (an attempt may have reached the
peer; a restart must check the peer before sending again) -> done, or refused with its
reason when the peer says no for good.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, RowMapping, func, insert, select, update

from prip_ray.db.tables import consumers, deliveries, outbox, products
from prip_ray.domain.deliveries import DONE as DONE
from prip_ray.domain.deliveries import PENDING as PENDING
from prip_ray.domain.deliveries import REFUSED as REFUSED
from prip_ray.domain.deliveries import SENDING as SENDING
from prip_ray.domain.deliveries import Delivery as Delivery
from prip_ray.domain.deliveries import QueuedEvent as QueuedEvent


class _Raced(Exception):
    pass


class DeliveryQueue:
    def __init__(self, engine: Engine, channel: str):
        self._engine = engine
        self.channel = channel

    def feed(self, wanted: Callable[[QueuedEvent], bool], now: datetime, limit: int) -> int:
        """Queue the wanted events among the next ``limit`` of the outbox; returns how many."""
        try:
            return self._feed(wanted, now, limit)
        except _Raced:  # another feeder moved the cursor first; its rows stand, ours are gone
            return 0

    def _feed(self, wanted: Callable[[QueuedEvent], bool], now: datetime, limit: int) -> int:
        with self._engine.begin() as conn:
            cursor = conn.execute(
                select(consumers.c.cursor).where(consumers.c.name == self.channel)
            ).scalar()
            if cursor is None:
                conn.execute(insert(consumers).values(name=self.channel, cursor=0))
                cursor = 0
            rows = conn.execute(
                select(
                    outbox.c.seq,
                    outbox.c.event,
                    outbox.c.product_id,
                    products.c.name,
                    products.c.product_type,
                )
                .join(products, products.c.id == outbox.c.product_id)
                .where(outbox.c.seq > cursor)
                .order_by(outbox.c.seq)
                .limit(limit)
            ).all()
            if not rows:
                return 0
            queued = [
                {
                    "channel": self.channel, "outbox_seq": seq, "product_id": product_id,
                    "product_name": name, "event": event, "state": PENDING, "attempts": 0,
                    "next_attempt_at": now, "queued_at": now,
                }
                for seq, event, product_id, name, product_type in rows
                if wanted(QueuedEvent(event, product_type, name))
            ]  # fmt: skip
            if queued:
                conn.execute(insert(deliveries), queued)
            advanced = conn.execute(
                update(consumers)
                .where(consumers.c.name == self.channel, consumers.c.cursor == cursor)
                .values(cursor=rows[-1][0])
            )
            if advanced.rowcount != 1:
                raise _Raced  # rolls the inserts back with the transaction
        return len(queued)

    def due(self, now: datetime, limit: int, in_order: bool = False) -> list[Delivery]:
        """Deliveries to attempt now, oldest event first. ``in_order``: none behind one that
        is waiting (what must arrive in publication order)."""
        waiting = (
            deliveries.c.channel == self.channel,
            deliveries.c.state.in_((PENDING, SENDING)),
        )
        query = select(deliveries).where(*waiting).order_by(deliveries.c.id).limit(limit)
        if not in_order:
            query = query.where(deliveries.c.next_attempt_at <= now)
        with self._engine.connect() as conn:
            found = [_delivery(r) for r in conn.execute(query).mappings()]
        if in_order:
            late = [i for i, d in enumerate(found) if d.next_attempt_at > now]
            found = found[: late[0]] if late else found
        return found

    def sending(self, delivery_id: int, detail: Mapping[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"state": SENDING, "attempts": deliveries.c.attempts + 1}
        if detail is not None:
            values["detail"] = dict(detail)
        self._set(delivery_id, **values)

    def done(self, delivery_id: int, now: datetime, detail: Mapping[str, Any] | None) -> None:
        values: dict[str, Any] = {"state": DONE, "done_at": now, "last_error": None}
        if detail is not None:
            values["detail"] = dict(detail)
        self._set(delivery_id, **values)

    def retry(self, delivery_id: int, error: str, not_before: datetime) -> None:
        """Failed for now (the peer is down): stays in the queue, due again at ``not_before``.
        The state stays ``sending`` if it was: the peer may have it already."""
        self._set(delivery_id, last_error=error[:2000], next_attempt_at=not_before)

    def refuse(self, delivery_id: int, error: str, now: datetime) -> None:
        self._set(delivery_id, state=REFUSED, last_error=error[:2000], done_at=now)

    def detail(self, product_id: UUID, event: str) -> dict[str, Any] | None:
        """The recorded detail of a product's delivery for ``event`` (e.g. its trace)."""
        query = (
            select(deliveries.c.detail)
            .where(
                deliveries.c.channel == self.channel,
                deliveries.c.product_id == product_id,
                deliveries.c.event == event,
                deliveries.c.detail.is_not(None),
            )
            .order_by(deliveries.c.id.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            return conn.execute(query).scalar()

    def waiting(self, product_ids: Collection[UUID], event: str) -> set[UUID]:
        """Those of the products whose delivery for ``event`` is still waiting (pending or
        sending): what must reach the peer before the product's later events."""
        query = select(deliveries.c.product_id).where(
            deliveries.c.channel == self.channel,
            deliveries.c.product_id.in_(list(product_ids)),
            deliveries.c.event == event,
            deliveries.c.state.in_((PENDING, SENDING)),
        )
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def backlog(self, now: datetime) -> tuple[int, float]:
        """(deliveries waiting, seconds the oldest of them has waited)."""
        query = select(func.count(), func.min(deliveries.c.queued_at)).where(
            deliveries.c.channel == self.channel,
            deliveries.c.state.in_((PENDING, SENDING)),
        )
        with self._engine.connect() as conn:
            count, oldest = conn.execute(query).one()
        if oldest is not None and oldest.tzinfo is None:  # min() skips the column's type
            oldest = oldest.replace(tzinfo=now.tzinfo)
        lag = (now - oldest).total_seconds() if oldest is not None else 0.0
        return int(count), max(0.0, lag)

    def counts(self) -> dict[str, int]:
        query = (
            select(deliveries.c.state, func.count())
            .where(deliveries.c.channel == self.channel)
            .group_by(deliveries.c.state)
        )
        with self._engine.connect() as conn:
            return {state: int(n) for state, n in conn.execute(query)}

    def of_products(self, names: Collection[str]) -> list[Delivery]:
        query = select(deliveries).where(
            deliveries.c.channel == self.channel, deliveries.c.product_name.in_(list(names))
        )
        with self._engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query.order_by(deliveries.c.id)).mappings()]

    def _set(self, delivery_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"], channel=row["channel"], outbox_seq=row["outbox_seq"],
        product_id=row["product_id"], product_name=row["product_name"], event=row["event"],
        state=row["state"], attempts=row["attempts"], queued_at=row["queued_at"],
        next_attempt_at=row["next_attempt_at"], detail=row["detail"],
    )  # fmt: skip
