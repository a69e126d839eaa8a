"""PullQueue: pull subscriptions' notifications, queued by the notifier, read and
acknowledged by their owners (domain/pull.py).

A queue holds at most ``max_length`` entries: queuing one more drops the oldest, as CDSE
does, and counts it in ``pull_dropped``, in the transaction that queues.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from prip_ray.db.tables import pull_dropped, pull_queue
from prip_ray.errors import InvalidQuery


class PullQueue:
    def __init__(self, engine: Engine):
        self._engine = engine

    def enqueue(self, subscription_id: UUID, body: dict[str, Any], max_length: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(pull_queue).values(subscription_id=subscription_id, body=body))
            over = _length(conn, subscription_id) - max_length
            if over > 0:
                _drop_oldest(conn, subscription_id, over)

    def read(self, subscription_id: UUID, top: int) -> list[tuple[int, dict[str, Any]]]:
        """The ``top`` oldest entries (entry number, notification); they stay queued."""
        query = (
            select(pull_queue.c.id, pull_queue.c.body)
            .where(pull_queue.c.subscription_id == subscription_id)
            .order_by(pull_queue.c.id)
            .limit(top)
        )
        with self._engine.connect() as conn:
            return [(int(r.id), dict(r.body)) for r in conn.execute(query)]

    def ack(self, subscription_id: UUID, entry: int) -> tuple[int, int]:
        """Take ``entry`` and every one before it off the queue: (how many, how many are
        left). InvalidQuery if ``entry`` is not queued (acknowledged already, dropped, or
        never issued): acknowledging up to an entry the owner has not read would lose some."""
        mine = pull_queue.c.subscription_id == subscription_id
        with self._engine.begin() as conn:
            found = conn.execute(select(pull_queue.c.id).where(mine, pull_queue.c.id == entry))
            if found.first() is None:
                raise InvalidQuery(
                    "$ackid names no queued notification (acknowledged already or dropped)"
                )
            done = conn.execute(delete(pull_queue).where(mine, pull_queue.c.id <= entry))
            return done.rowcount, _length(conn, subscription_id)

    def length(self, subscription_id: UUID) -> int:
        with self._engine.connect() as conn:
            return _length(conn, subscription_id)

    def dropped(self, subscription_id: UUID) -> int:
        query = select(pull_dropped.c.dropped).where(
            pull_dropped.c.subscription_id == subscription_id
        )
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one_or_none() or 0)


def _length(conn: Connection, subscription_id: UUID) -> int:
    query = select(func.count()).where(pull_queue.c.subscription_id == subscription_id)
    return int(conn.execute(query).scalar_one())


def _drop_oldest(conn: Connection, subscription_id: UUID, count: int) -> None:
    mine = pull_queue.c.subscription_id == subscription_id
    oldest = select(pull_queue.c.id).where(mine).order_by(pull_queue.c.id).limit(count)
    conn.execute(delete(pull_queue).where(pull_queue.c.id.in_(oldest)))
    counted = conn.execute(
        update(pull_dropped)
        .where(pull_dropped.c.subscription_id == subscription_id)
        .values(dropped=pull_dropped.c.dropped + count)
    )
    if counted.rowcount == 0:
        conn.execute(insert(pull_dropped).values(subscription_id=subscription_id, dropped=count))
