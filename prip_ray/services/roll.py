"""The Roller: one round of the rolling archive (evict what is due or over the watermark),
then of its rolling catalogue (evicted rows leave Products after ``offline_retention``, their
DeletedProducts entries go after ``deleted_retention``; db/retention.py says when it is safe).

Bounded: at most ``batch`` products per round and step, so a million-product catalogue is
walked in many short rounds. ``dry_run`` reports what would be evicted and changes nothing.
HKTM that FOS has not received is held (``fos_types``: the product types the HKTM forwarder
sends, empty when it is not configured), whatever its EvictionDate or the watermark say.
Every step is one transaction per product or batch: a round cut short anywhere leaves what
it did not do to the next round.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prip_ray.domain.eviction import choose
from prip_ray.errors import StorageError
from prip_ray.ports import (
    CatalogueRetention,
    EventPruning,
    Evictions,
    ObjectStore,
    QuarantineTidying,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RollReport:
    evicted: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    orphans_removed: int = 0
    freed_bytes: int = 0
    dry_run: bool = False
    reasons: dict[str, str] = field(default_factory=dict)
    held: list[str] = field(default_factory=list)  # HKTM that FOS does not have yet
    left_catalogue: int = 0  # offline rows taken out of Products
    purged_deleted: int = 0  # DeletedProducts entries past their retention
    quarantine_purged: int = 0  # quarantine entries past theirs
    events_pruned: int = 0  # outbox events and finished deliveries nobody needs any more


class Roller:
    def __init__(
        self,
        repository: Evictions,
        store: ObjectStore,
        *,
        watermark_bytes: int | None,
        batch: int,
        stale_download_s: float,
        fos_types: Collection[str] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        retention: CatalogueRetention | None = None,
        offline_retention: timedelta | None = None,
        deleted_retention: timedelta | None = None,
        exported_until: Callable[[], datetime | None] = lambda: None,
        quarantine: QuarantineTidying | None = None,
        quarantine_retention: timedelta | None = None,
        events: EventPruning | None = None,
        events_retention: timedelta | None = None,
        outcomes_retention: timedelta | None = None,
    ):
        """``retention`` None: rows stay in Products for ever (as before DeletedProducts);
        a retention None ("never") keeps that step off. ``exported_until``: the catalogue
        export's high-water mark; nothing newer leaves the DB (None: nothing does)."""
        self._repository = repository
        self._store = store
        self._watermark = watermark_bytes
        self._batch = batch
        self._stale_download_s = stale_download_s
        self._fos_types = tuple(fos_types)
        self._now = now
        self._retention = retention
        self._offline_retention = offline_retention
        self._deleted_retention = deleted_retention
        self._exported_until = exported_until
        self._quarantine = quarantine
        self._quarantine_retention = quarantine_retention
        self._events = events
        self._events_retention = events_retention
        self._outcomes_retention = outcomes_retention

    def run_once(self, dry_run: bool = False) -> RollReport:
        now = self._now()
        orphans = 0 if dry_run else self._sweep_orphans()
        due = self._repository.due(now, self._batch)
        oldest = self._repository.oldest(self._batch) if self._watermark is not None else []
        candidates = list({c.id: c for c in (*due, *oldest)})
        decision = choose(
            due,
            oldest,
            stored_bytes=self._repository.stored_bytes() if self._watermark is not None else 0,
            watermark_bytes=self._watermark,
            busy_ids=self._repository.busy(now, self._stale_download_s),
            limit=self._batch,
            held_ids=self._repository.owed(candidates, "hktm", self._fos_types),
        )
        reasons = {c.name: decision.reason[c.id] for c in decision.evict}
        busy = [c.name for c in decision.busy]
        held = [c.name for c in decision.held]
        if dry_run:
            evict = [c.name for c in decision.evict]
            return RollReport(evict, busy, 0, 0, True, reasons, held)
        evicted, freed = [], 0
        for candidate in decision.evict:
            key = self._repository.mark_evicted(candidate.id, now, decision.cause[candidate.id])
            if key is None:
                continue  # evicted meanwhile by another roller
            self._delete(candidate.id, key)
            evicted.append(candidate.name)
            freed += candidate.size
            log.info(
                "evicted %s (%d bytes): %s", candidate.name, candidate.size, reasons[candidate.name]
            )
        left, purged = self._forget(now)
        quarantined = self._tidy_quarantine(now)
        pruned = self._prune_events(now)
        return RollReport(
            evicted, busy, orphans, freed, False, reasons, held,
            left_catalogue=left, purged_deleted=purged, quarantine_purged=quarantined,
            events_pruned=pruned,
        )  # fmt: skip

    def _prune_events(self, now: datetime) -> int:
        if self._events is None or self._events_retention is None:
            return 0
        before = now - self._events_retention
        pruned = self._events.prune_outbox(before) + self._events.prune_deliveries(before)
        if self._outcomes_retention is not None:
            pruned += self._events.prune_olqc_outcomes(now - self._outcomes_retention)
        return pruned

    def _tidy_quarantine(self, now: datetime) -> int:
        """Settle what a crash left half done in the quarantine, then purge old entries."""
        if self._quarantine is None:
            return 0
        self._quarantine.reconcile()
        if self._quarantine_retention is None:
            return 0
        return self._quarantine.purge(now - self._quarantine_retention)

    def _forget(self, now: datetime) -> tuple[int, int]:
        """Rows past ``offline_retention`` leave Products, then entries past
        ``deleted_retention`` leave DeletedProducts: only what the export already holds."""
        exported = self._exported_until() if self._retention is not None else None
        if self._retention is None or exported is None:
            return 0, 0
        left = purged = 0
        if self._offline_retention is not None:
            before = now - self._offline_retention
            for product_id in self._retention.leaving(before, exported, self._batch):
                left += self._retention.remove(product_id, before, exported)
        if self._deleted_retention is not None:
            before = now - self._deleted_retention
            purged = self._retention.purge(self._retention.purgeable(before, exported, self._batch))
        if left or purged:
            log.info("catalogue: %d rows left Products, %d DeletedProducts purged", left, purged)
        return left, purged

    def _delete(self, product_id: UUID, key: str) -> None:
        try:
            if key:
                self._store.delete(key)
            self._repository.bytes_gone(product_id)
        except StorageError as e:  # the entry is offline already; the sweep retries the bytes
            log.warning("eviction: bytes of %s stay for the next round: %s", key, e)

    def _sweep_orphans(self) -> int:
        orphans = self._repository.orphans(self._batch)
        for product_id, key in orphans:
            self._delete(product_id, key)
        return len(orphans)
