"""The History Cleaner's job: forget download history no quota can look at any more.

The longest window in force (the default or any user's override) decides what is old; the
purge runs in small batches so the history table is never locked for long. Request and
failed-login counters older than an hour go too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prip_ray.ports import CounterPurge, DownloadHistoryPurge, QuotaWindows

log = logging.getLogger(__name__)
COUNTERS_KEPT = timedelta(hours=1)


@dataclass(frozen=True)
class CleanerRun:
    cutoff: datetime
    downloads_removed: int
    counters_removed: int


class HistoryCleaner:
    def __init__(
        self,
        history: DownloadHistoryPurge,
        counters: CounterPurge,
        users: QuotaWindows,
        default_window_days: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._history = history
        self._counters = counters
        self._users = users
        self._default_window_days = default_window_days
        self._now = now

    def run_once(self, batch: int = 5000) -> CleanerRun:
        now = self._now()
        days = max(self._default_window_days, self._users.longest_window_days() or 0)
        cutoff = now - timedelta(days=days)
        self._history.expire_stale(now)
        run = CleanerRun(
            cutoff=cutoff,
            downloads_removed=self._history.purge(cutoff, batch=batch),
            counters_removed=self._counters.purge(now - COUNTERS_KEPT),
        )
        log.info(
            "history cleaner: removed %d downloads before %s and %d old counters",
            run.downloads_removed,
            cutoff.isoformat(),
            run.counters_removed,
        )
        return run
