"""Withdrawal in the PRIP DB: an operator takes a published product back.

Like an eviction, one transaction takes the entry offline, appends the ``deleted`` outbox
event (subscribers, the Tracer's DELETE trace) and records the DeletedProducts entry, here
with the operator's cause; the bytes go after (services/withdraw.py), and a crash in between
leaves an offline entry with an object key, which the Roller's orphan sweep (or withdrawing
again) deletes. Withdrawing twice changes nothing; withdrawing an evicted product only
turns its DeletionCause into a withdrawal (its ``deleted`` event went out at eviction).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, insert, select, update

from prip_ray.db.deleted import record_deletion
from prip_ray.db.tables import deleted_products, outbox, products
from prip_ray.domain.withdrawals import Withdrawn as Withdrawn
from prip_ray.domain.withdrawals import is_withdrawal as is_withdrawal
from prip_ray.domain.withdrawals import withdrawal_cause as withdrawal_cause


class WithdrawalRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def withdraw(self, product_id: UUID, now: datetime, cause: str) -> Withdrawn | None:
        """None if no such product is in Products."""
        with self._engine.begin() as conn:
            row = conn.execute(
                select(products.c.online, products.c.object_key).where(products.c.id == product_id)
            ).first()
            if row is None:
                return None
            recorded = conn.execute(
                select(deleted_products.c.deletion_cause).where(deleted_products.c.id == product_id)
            ).scalar()
            if row.online:
                conn.execute(
                    update(products)
                    .where(products.c.id == product_id)
                    .values(online=False, modification_date=now)
                )
                conn.execute(
                    insert(outbox).values(product_id=product_id, event="deleted", created_at=now)
                )
            if recorded is None:
                record_deletion(conn, product_id, now, cause)
            elif not is_withdrawal(recorded):
                conn.execute(
                    update(deleted_products)
                    .where(deleted_products.c.id == product_id)
                    .values(deletion_cause=cause)
                )
            else:
                cause = recorded
        return Withdrawn(row.object_key, bool(row.online), cause)
