"""CatalogueExportActor: the singleton that writes the scheduled catalogue exports."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from ray.util.metrics import Counter

from prip_ray.actors.names import CATALOGUE_EXPORT
from prip_ray.actors.service_loop import holder_name
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.leases import LeaseRepository
from prip_ray.services.export_schedule import due_export

log = logging.getLogger(__name__)
CHECK_EVERY_S = 600.0
EXPORT_LEASE = CATALOGUE_EXPORT
EXPORT_TTL = timedelta(hours=1)


class CatalogueExportActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._exporter = components.exporter()
        self._leases = LeaseRepository(components.engine)
        self._holder = holder_name(EXPORT_LEASE)
        self._every = timedelta(days=1)
        self._full_every = timedelta(days=7)
        self._exports = Counter("prip_catalogue_exports", "catalogue exports written", ("kind",))
        self._failed = Counter("prip_catalogue_exports_failed", "catalogue exports that failed")
        self._stop = threading.Event()
        threading.Thread(target=self._loop, name="catalogue-export", daemon=True).start()

    def run_due(self) -> str | None:
        due = due_export(
            self._exporter.exports(),
            datetime.now(UTC),
            every=self._every,
            full_every=self._full_every,
        )
        if due is None:
            return None
        kind, since = due
        # Held for the whole export (minutes on a big catalogue), so that the other cluster
        # of an upgrade does not write the same export; a holder that dies frees it in 1 h.
        if not self._leases.acquire(EXPORT_LEASE, self._holder, EXPORT_TTL, datetime.now(UTC)):
            log.info("catalogue export: another cluster is exporting; standing by")
            return None
        try:
            record = self._exporter.export(since=since)
        finally:
            self._leases.release(EXPORT_LEASE, self._holder)
        self._exports.inc(tags={"kind": kind})
        log.info("catalogue export %s: %d products in %s", kind, record.count, record.key)
        return record.key

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            try:
                self.run_due()
            except Exception:  # the DB or store may be away: the next check retries
                self._failed.inc()
                log.exception("catalogue export failed")
