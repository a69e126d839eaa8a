"""NotifierActor: the Subscription component on Ray, a named singleton that runs delivery
rounds in a thread. All its progress lives in the DB (cursors, outbox), so a restart by Ray
resumes where the last cursor write left off."""

from __future__ import annotations

import logging
import threading

from ray.util.metrics import Counter

from prip_ray.bootstrap import Components
from prip_ray.config import Settings

log = logging.getLogger(__name__)


class NotifierActor:
    def __init__(self, settings: Settings):
        self._notifier = Components(settings).notifier()
        self._interval = settings.subscriptions.poll_interval_s
        self._delivered = Counter("prip_notifications_delivered", "notifications delivered")
        self._total = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        threading.Thread(target=self._loop, name="notifier", daemon=True).start()

    def wake(self) -> None:
        """A hint that products were published; the outbox is the source of truth."""
        self._wake.set()

    def delivered(self) -> int:
        return self._total

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                count = self._notifier.run_once()
            except Exception:  # the DB may be away for a while: the next round retries
                log.exception("notification round failed")
                count = 0
            if count:
                self._total += count
                self._delivered.inc(count)
                continue  # more may be waiting: go on without sleeping
            self._wake.wait(self._interval)
            self._wake.clear()
