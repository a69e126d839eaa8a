"""The Roller: one round of the rolling archive (evict what is due or over the watermark).

Bounded: at most ``batch`` products per round, so a million-product catalogue is walked in
many short rounds. ``dry_run`` reports what would go and changes nothing. HKTM that FOS has
not received is held (``fos_types``: the product types the HKTM forwarder sends, empty when
it is not configured), whatever its EvictionDate or the watermark say.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prip_ray.db.eviction import EvictionRepository
from prip_ray.domain.eviction import choose
from prip_ray.errors import StorageError
from prip_ray.ports import ObjectStore

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


class Roller:
    def __init__(
        self,
        repository: EvictionRepository,
        store: ObjectStore,
        *,
        watermark_bytes: int | None,
        batch: int,
        stale_download_s: float,
        fos_types: Collection[str] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._repository = repository
        self._store = store
        self._watermark = watermark_bytes
        self._batch = batch
        self._stale_download_s = stale_download_s
        self._fos_types = tuple(fos_types)
        self._now = now

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
            key = self._repository.mark_evicted(candidate.id, now)
            if key is None:
                continue  # evicted meanwhile by another roller
            self._delete(candidate.id, key)
            evicted.append(candidate.name)
            freed += candidate.size
            log.info(
                "evicted %s (%d bytes): %s", candidate.name, candidate.size, reasons[candidate.name]
            )
        return RollReport(evicted, busy, orphans, freed, False, reasons, held)

    def _delete(self, product_id: object, key: str) -> None:
        try:
            if key:
                self._store.delete(key)
            self._repository.bytes_gone(product_id)  # type: ignore[arg-type]
        except StorageError as e:  # the entry is offline already; the sweep retries the bytes
            log.warning("eviction: bytes of %s stay for the next round: %s", key, e)

    def _sweep_orphans(self) -> int:
        orphans = self._repository.orphans(self._batch)
        for product_id, key in orphans:
            self._delete(product_id, key)
        return len(orphans)
