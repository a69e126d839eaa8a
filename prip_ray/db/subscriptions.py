"""SubscriptionRepository: subscriptions, their delivery cursors, and the outbox they read.

A change that may break an owner's limits (a new subscription, one set running) takes a
``within(running, total)`` check, run on the owner's counts in the same transaction as the
write, with the owner's other changes held off until it commits: two requests at once
cannot both see room for one. PostgreSQL holds them off with a transaction-scoped advisory
lock on the owner; SQLite by its single writer (the write comes first, then the count).
"""

from __future__ import annotations

import builtins  # the method `list` hides the type inside the class
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, RowMapping, and_, delete, func, insert, select, update

from prip_ray.db.tables import outbox, subscriptions
from prip_ray.domain.events import OutboxEvent as OutboxEvent
from prip_ray.domain.subscriptions import Limits as Limits
from prip_ray.domain.subscriptions import Subscription
from prip_ray.errors import ProductNotFound


class SubscriptionRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def create(
        self,
        *,
        owner: str,
        event: str,
        filter_param: str,
        endpoint: str,
        username: str | None,
        sealed_password: str | None,
        now: datetime,
        within: Limits | None = None,
    ) -> Subscription:
        """Stored running, from the newest event on: it hears of products published after."""
        new_id = uuid.uuid4()
        with self._engine.begin() as conn:
            _hold_owner(conn, owner)
            newest = conn.execute(select(func.coalesce(func.max(outbox.c.seq), 0))).scalar_one()
            conn.execute(
                insert(subscriptions).values(
                    id=new_id, owner=owner, status="running", event=event,
                    filter_param=filter_param, endpoint=endpoint, endpoint_username=username,
                    endpoint_password=sealed_password, submission_date=now, cursor=int(newest),
                )
            )  # fmt: skip
            if within is not None:
                within(*_counts(conn, owner, new_id))  # raising rolls the insert back
        return self.get(new_id)

    def counts(self, owner: str) -> tuple[int, int]:
        """(running, total not cancelled) subscriptions of ``owner``."""
        with self._engine.connect() as conn:
            return _counts(conn, owner, None)

    def get(self, subscription_id: UUID) -> Subscription:
        found = self._select(subscriptions.c.id == subscription_id)
        if not found:
            raise ProductNotFound(f"no subscription with Id {subscription_id}")
        return found[0]

    def list(self, owner: str | None = None) -> list[Subscription]:
        return self._select(subscriptions.c.owner == owner if owner is not None else None)

    def running(self) -> builtins.list[tuple[Subscription, str | None]]:
        """Running subscriptions with their sealed endpoint passwords (for the notifier)."""
        query = select(subscriptions).where(subscriptions.c.status == "running")
        with self._engine.connect() as conn:
            rows = conn.execute(query.order_by(subscriptions.c.id)).mappings().all()
        return [(_subscription(r), r["endpoint_password"]) for r in rows]

    def set_status(
        self, subscription_id: UUID, status: str, *, owner: str = "", within: Limits | None = None
    ) -> None:
        """``within`` (with the ``owner``) checks the owner's limits with this change made."""
        with self._engine.begin() as conn:
            if within is not None:
                _hold_owner(conn, owner)
            done = conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(status=status, failing_since=None)
            )
            if done.rowcount == 0:
                raise ProductNotFound(f"no subscription with Id {subscription_id}")
            if within is not None:
                within(*_counts(conn, owner, subscription_id))

    def delete(self, subscription_id: UUID) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))

    def advance(self, subscription_id: UUID, cursor: int, notified: datetime | None) -> None:
        """Persist delivery progress: every event up to ``cursor`` is handled."""
        values: dict[str, Any] = {"cursor": cursor, "failing_since": None, "last_error": None}
        if notified is not None:
            values["last_notification_date"] = notified
        with self._engine.begin() as conn:
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.cursor < cursor)
                .values(**values)
            )

    def advance_many(self, progress: builtins.list[tuple[UUID, int, datetime | None]]) -> None:
        """Several subscriptions' progress in one transaction (the end of a delivery round)."""
        if not progress:
            return
        with self._engine.begin() as conn:
            for subscription_id, cursor, notified in progress:
                values: dict[str, Any] = {
                    "cursor": cursor,
                    "failing_since": None,
                    "last_error": None,
                }
                if notified is not None:
                    values["last_notification_date"] = notified
                conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == subscription_id, subscriptions.c.cursor < cursor)
                    .values(**values)
                )

    def failing(self, subscription_id: UUID, since: datetime, error: str, failed: bool) -> None:
        values: dict[str, Any] = {"failing_since": since, "last_error": error[:2000]}
        if failed:
            values["status"] = "failed"
        self._update(subscription_id, **values)

    def events_after(self, seq: int, limit: int) -> builtins.list[OutboxEvent]:
        query = select(outbox).where(outbox.c.seq > seq).order_by(outbox.c.seq).limit(limit)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [OutboxEvent(r["seq"], r["product_id"], r["event"], r["created_at"]) for r in rows]

    def _update(self, subscription_id: UUID, **values: Any) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values)
            )
        if done.rowcount == 0:
            raise ProductNotFound(f"no subscription with Id {subscription_id}")

    def _select(self, condition: Any) -> builtins.list[Subscription]:
        query = select(subscriptions).order_by(subscriptions.c.submission_date, subscriptions.c.id)
        if condition is not None:
            query = query.where(condition)
        with self._engine.connect() as conn:
            return [_subscription(r) for r in conn.execute(query).mappings().all()]


def _hold_owner(conn: Connection, owner: str) -> None:
    """Hold off the owner's other limited changes until this transaction ends."""
    if conn.dialect.name == "postgresql":
        key = func.hashtext(f"prip-subscriptions:{owner}")
        conn.execute(select(func.pg_advisory_xact_lock(key)))


def _counts(conn: Connection, owner: str, excluding: UUID | None) -> tuple[int, int]:
    """(running, total not cancelled) subscriptions of ``owner``, but ``excluding``."""
    mine = subscriptions.c.owner == owner
    if excluding is not None:
        mine = and_(mine, subscriptions.c.id != excluding)
    live = and_(mine, subscriptions.c.status != "cancelled")
    running = and_(mine, subscriptions.c.status == "running")
    total = conn.execute(select(func.count()).where(live)).scalar_one()
    active = conn.execute(select(func.count()).where(running)).scalar_one()
    return int(active), int(total)


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"], owner=row["owner"], status=row["status"], event=row["event"],
        filter_param=row["filter_param"], endpoint=row["endpoint"],
        endpoint_username=row["endpoint_username"],
        has_password=row["endpoint_password"] is not None,
        submission_date=row["submission_date"],
        last_notification_date=row["last_notification_date"], cursor=row["cursor"],
        failing_since=row["failing_since"], last_error=row["last_error"],
    )  # fmt: skip
