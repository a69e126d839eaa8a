"""NotifierActor: the Subscription component on Ray, a named singleton that runs delivery
rounds while it holds the DB lease. All its progress lives in the DB (cursors, outbox), so a
restart by Ray resumes where the last cursor write left off, and a second cluster during an
upgrade stands by instead of notifying twice."""

from __future__ import annotations

import logging

from ray.util.metrics import Counter

from prip_ray.actors.names import NOTIFIER
from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.leases import LeaseRepository
from prip_ray.metrics import add

log = logging.getLogger(__name__)


class NotifierActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._notifier = components.notifier()
        self._delivered = Counter("prip_notifications_delivered", "notifications delivered")
        self._failed = Counter(
            "prip_notifications_failed", "notification attempts that failed (retried)"
        )
        self._total = 0
        self._failures_seen = 0
        self._loop = ServiceLoop(
            NOTIFIER,
            LeaseRepository(components.engine),
            ttl_s=settings.lease.ttl_s,
            interval_s=settings.subscriptions.poll_interval_s,
            work=self._round,
        )

    def wake(self) -> None:
        """A hint that products were published; the outbox is the source of truth."""
        self._loop.wake()

    def delivered(self) -> int:
        return self._total

    def stop(self) -> None:
        self._loop.stop()

    def _round(self) -> int:
        count = self._notifier.run_once()
        self._total += count
        add(self._delivered, count)
        failures = self._notifier.failures
        add(self._failed, failures - self._failures_seen)
        self._failures_seen = failures
        return count
