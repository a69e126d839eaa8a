"""The singletons that run a job every so often: the Roller, the catalogue export and the
History Cleaner (see ``actors/leased_service.py``). Their progress is the PRIP DB and the store
themselves (what is online, the exports written, the history left), so a restart just runs
again when due."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from ray.util.metrics import Counter, Gauge

from prip_ray.actors.singleton_service import Every, SingletonService
from prip_ray.bootstrap import Components
from prip_ray.domain.retention import parse_duration
from prip_ray.metrics import add
from prip_ray.services.export_schedule import due_export
from prip_ray.services.history import HistoryCleaner

log = logging.getLogger(__name__)
EXPORT_CHECK_S = 600.0
# The export's lease outlives an export of a big catalogue (minutes, the loop renews the
# lease only between rounds), so the other cluster of an upgrade never writes the same one.
EXPORT_TTL_S = 3600.0


def roller(components: Components) -> SingletonService:
    """The rolling archive. Two rollers meeting cannot evict a product twice (marking an entry
    offline only succeeds while it is online); the lease keeps them from trying."""
    roller = components.roller()
    evicted = Counter("prip_evictions", "products evicted by the Roller")
    freed = Counter("prip_evicted_bytes", "bytes freed by the Roller")
    failed = Counter("prip_roller_failed", "Roller rounds that failed (DB, store)")
    busy = Gauge("prip_roller_busy", "due products waiting for their downloads")
    last: dict[str, Any] = {}

    def roll() -> dict[str, Any]:
        try:
            report = roller.run_once()
        except Exception:
            failed.inc()
            raise
        add(evicted, len(report.evicted))
        add(freed, report.freed_bytes)
        busy.set(len(report.busy))
        last.clear()
        last.update(asdict(report))
        return asdict(report)

    interval = parse_duration(components.settings.roller.interval)
    interval_s = interval.total_seconds() if interval else 600.0
    batch = components.settings.roller.batch
    # a full batch: more is due, go on at once
    job = Every(interval_s, roll, more=lambda report: len(report["evicted"]) >= batch)
    return SingletonService(job, interval_s, roll, stats=lambda: {"last_run": dict(last)})


def catalogue_export(components: Components) -> SingletonService:
    """Daily incremental and weekly full exports; the schedule is read from the exports
    already stored."""
    exporter = components.exporter()
    exports = Counter("prip_catalogue_exports", "catalogue exports written", ("kind",))
    failed = Counter("prip_catalogue_exports_failed", "catalogue exports that failed")

    def export_due() -> str | None:
        try:
            due = due_export(
                exporter.exports(),
                datetime.now(UTC),
                every=timedelta(days=1),
                full_every=timedelta(days=7),
            )
            if due is None:
                return None
            kind, since = due
            record = exporter.export(since=since)
        except Exception:  # the DB or store may be away: the next check retries
            failed.inc()
            raise
        exports.inc(tags={"kind": kind})
        log.info("catalogue export %s: %d products in %s", kind, record.count, record.key)
        return record.key

    job = Every(EXPORT_CHECK_S, export_due)
    return SingletonService(job, EXPORT_CHECK_S, export_due, ttl_s=EXPORT_TTL_S)


def history_cleaner(components: Components) -> SingletonService:
    """Purges download history older than the longest quota window."""
    settings = components.settings
    cleaner = HistoryCleaner(
        components.downloads, components.counters, components.users, settings.quotas.window_days
    )
    runs = Counter("prip_history_cleaner_runs", "History Cleaner runs")
    removed = Counter("prip_history_rows_removed", "download history rows removed")
    last: dict[str, Any] = {}

    def clean() -> dict[str, Any]:
        run = cleaner.run_once()
        runs.inc()
        add(removed, run.downloads_removed)
        last.clear()
        last.update(asdict(run), cutoff=run.cutoff.isoformat())
        return dict(last)

    interval_s = settings.quotas.history_cleaner_interval_s
    return SingletonService(
        Every(interval_s, clean), interval_s, clean, stats=lambda: {"last_run": dict(last)}
    )
