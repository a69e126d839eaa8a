"""HistoryCleanerActor: the singleton that runs the History Cleaner periodically.

Named and (on a cluster) detached, restarted by Ray if it dies; it keeps no state worth
losing, so a restart simply runs again. Each run is logged and counted in Ray's metrics.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from typing import Any

from ray.util.metrics import Counter

from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.metrics import add
from prip_ray.services.history import HistoryCleaner

log = logging.getLogger(__name__)


class HistoryCleanerActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._cleaner = HistoryCleaner(
            components.downloads,
            components.counters,
            components.users,
            settings.quotas.window_days,
        )
        self._interval = settings.quotas.history_cleaner_interval_s
        self._runs = Counter("prip_history_cleaner_runs", "History Cleaner runs")
        self._removed = Counter("prip_history_rows_removed", "download history rows removed")
        self._last: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._loop, name="history-cleaner", daemon=True).start()

    def run_now(self) -> dict[str, Any]:
        with self._lock:
            run = self._cleaner.run_once()
            self._runs.inc()
            add(self._removed, run.downloads_removed)
            self._last = {**asdict(run), "cutoff": run.cutoff.isoformat()}
            return self._last

    def last_run(self) -> dict[str, Any]:
        return self._last

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_now()
            except Exception:  # the DB may be away for a while: try again next time
                log.exception("history cleaner run failed")
