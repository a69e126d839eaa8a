"""PullQueue: pull subscriptions' notifications, queued by the notifier, read and
acknowledged by their owners (domain/pull.py).

A queue holds at most ``max_length`` entries: queuing one more drops the oldest, as CDSE
does, and counts it. Each queue's length is kept in its ``pull_queues`` row, changed in the
transaction that queues, drops or acknowledges, so bounding a full queue of 100,000 costs
no count of it. That row also serialises a queue's writers (the notifier's one delivery
job per subscription, and its owner's Acks).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, insert, select, update

from prip_ray.db.tables import pull_queue, pull_queues
from prip_ray.errors import InvalidQuery


class PullQueue:
    def __init__(self, engine: Engine):
        self._engine = engine

    def enqueue(self, subscription_id: UUID, body: dict[str, Any], max_length: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(insert(pull_queue).values(subscription_id=subscription_id, body=body))
            length = _grow(conn, subscription_id, 1)
            if length > max_length:
                _drop_oldest(conn, subscription_id, length - max_length)

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
            return done.rowcount, _grow(conn, subscription_id, -done.rowcount)

    def length(self, subscription_id: UUID) -> int:
        return self._state(subscription_id)[0]

    def dropped(self, subscription_id: UUID) -> int:
        return self._state(subscription_id)[1]

    def _state(self, subscription_id: UUID) -> tuple[int, int]:
        query = select(pull_queues.c.length, pull_queues.c.dropped).where(
            pull_queues.c.subscription_id == subscription_id
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return (int(row.length), int(row.dropped)) if row is not None else (0, 0)


def _grow(conn: Connection, subscription_id: UUID, by: int) -> int:
    """Change the queue's length by ``by``; its length now."""
    mine = pull_queues.c.subscription_id == subscription_id
    done = conn.execute(update(pull_queues).where(mine).values(length=pull_queues.c.length + by))
    if done.rowcount == 0:
        conn.execute(
            insert(pull_queues).values(subscription_id=subscription_id, length=by, dropped=0)
        )
    return int(conn.execute(select(pull_queues.c.length).where(mine)).scalar_one())


def _drop_oldest(conn: Connection, subscription_id: UUID, count: int) -> None:
    mine = pull_queue.c.subscription_id == subscription_id
    oldest = select(pull_queue.c.id).where(mine).order_by(pull_queue.c.id).limit(count)
    done = conn.execute(delete(pull_queue).where(pull_queue.c.id.in_(oldest)))
    conn.execute(
        update(pull_queues)
        .where(pull_queues.c.subscription_id == subscription_id)
        .values(
            length=pull_queues.c.length - done.rowcount,
            dropped=pull_queues.c.dropped + done.rowcount,
        )
    )
