"""RollerActor: the rolling archive's singleton, running the Roller every interval.

Its progress is the catalogue itself (what is still online), so a restart just runs again;
two rollers meeting (a KubeRay upgrade) cannot evict a product twice, as marking an entry
offline only succeeds while it is online.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from ray.util.metrics import Counter, Gauge

from prip_ray.actors.names import ROLLER
from prip_ray.actors.service_loop import holder_name
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.leases import LeaseRepository
from prip_ray.domain.retention import parse_duration
from prip_ray.metrics import add

log = logging.getLogger(__name__)
ROLLER_LEASE = ROLLER


class RollerActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._roller = components.roller()
        self._leases = LeaseRepository(components.engine)
        self._holder = holder_name(ROLLER_LEASE)
        self._ttl = timedelta(seconds=settings.lease.ttl_s)
        interval = parse_duration(settings.roller.interval)
        self._interval = interval.total_seconds() if interval else 600.0
        self._evicted = Counter("prip_evictions", "products evicted by the Roller")
        self._freed = Counter("prip_evicted_bytes", "bytes freed by the Roller")
        self._failed = Counter("prip_roller_failed", "Roller rounds that failed (DB, store)")
        self._busy = Gauge("prip_roller_busy", "due products waiting for their downloads")
        self._batch = settings.roller.batch
        self._last: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._loop, name="roller", daemon=True).start()

    def run_now(self, dry_run: bool = False) -> dict[str, Any]:
        with self._lock:
            if not dry_run and not self._leases.acquire(
                ROLLER_LEASE, self._holder, self._ttl, datetime.now(UTC)
            ):
                log.info("roller: another cluster's Roller holds the lease; not rolling")
                return {"standing_by": True}
            try:
                report = self._roller.run_once(dry_run=dry_run)
            finally:
                if not dry_run:
                    self._leases.release(ROLLER_LEASE, self._holder)
            if not dry_run:
                add(self._evicted, len(report.evicted))
                add(self._freed, report.freed_bytes)
                self._busy.set(len(report.busy))
                self._last = asdict(report)
            return asdict(report)

    def last_run(self) -> dict[str, Any]:
        return self._last

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        wait = self._interval
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                report = self.run_now()
            except Exception:  # the DB or store may be away: the next round retries
                self._failed.inc()
                log.exception("roller round failed")
                continue
            if len(report.get("evicted", ())) >= self._batch:
                wait = 0.0  # a full batch: more is due, go on at once
