"""Pruning the event tables of the PRIP DB once nobody needs their rows.

* ``outbox``: an event goes once every reader's cursor is past it (``outbox_low_water``:
  a paused subscription stops holding events after ``paused_hold``) and it is older than
  the retention. The newest event always stays: SQLite hands out the
  highest rowid + 1, so an emptied outbox would reuse sequence numbers the cursors have
  passed, and the next events would be skipped.
* ``deliveries``: done or refused ones older than the retention, once their product's row
  has left Products: the Tracer reads the CREATE delivery of a product again to trace its
  DELETE with the same digest.
* ``olqc_outcomes``: the tally of a product's OLQC reports, once no report has come for it
  for longer than its product can stay in Products, per-type retentions included (the
  Roller passes that age, domain/retention.py ``tally_retention``): a product published
  when its last report came has left Products by then, and no later report can change it.

Batches of ``batch`` rows per transaction, so no lock is held long.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, exists, func, not_, select

from prip_ray.db.retention import outbox_low_water
from prip_ray.db.tables import deliveries, olqc_outcomes, outbox, products

FINISHED = ("done", "refused")


class EventPruner:
    def __init__(self, engine: Engine, paused_hold: timedelta | None = None):
        """``paused_hold``: how much outbox history a paused subscription holds
        (db/retention.py ``outbox_low_water``)."""
        self._engine = engine
        self._paused_hold = paused_hold

    def prune_outbox(self, before: datetime, batch: int = 5000) -> int:
        removed = 0
        while True:
            with self._engine.begin() as conn:
                newest = conn.execute(select(func.max(outbox.c.seq))).scalar()
                if newest is None:
                    return removed
                low = outbox_low_water(conn, self._paused_hold)
                limit = newest if low is None else min(low + 1, newest)
                query = select(outbox.c.seq).where(
                    outbox.c.seq < limit, outbox.c.created_at < before
                )
                seqs = conn.execute(query.order_by(outbox.c.seq).limit(batch)).scalars().all()
                if seqs:
                    conn.execute(delete(outbox).where(outbox.c.seq.in_(seqs)))
            removed += len(seqs)
            if len(seqs) < batch:
                return removed

    def prune_deliveries(self, before: datetime, batch: int = 5000) -> int:
        removed = 0
        finished = (
            deliveries.c.state.in_(FINISHED),
            deliveries.c.queued_at < before,
            not_(exists().where(products.c.id == deliveries.c.product_id)),
        )
        while True:
            with self._engine.begin() as conn:
                query = select(deliveries.c.id).where(*finished).limit(batch)
                ids = conn.execute(query).scalars().all()
                if ids:
                    conn.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
            removed += len(ids)
            if len(ids) < batch:
                return removed

    def prune_olqc_outcomes(self, before: datetime, batch: int = 5000) -> int:
        removed = 0
        while True:
            with self._engine.begin() as conn:
                query = select(olqc_outcomes.c.inspected).where(olqc_outcomes.c.updated_at < before)
                names = conn.execute(query.limit(batch)).scalars().all()
                if names:
                    conn.execute(delete(olqc_outcomes).where(olqc_outcomes.c.inspected.in_(names)))
            removed += len(names)
            if len(names) < batch:
                return removed
