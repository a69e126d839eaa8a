"""The loop every singleton service runs: hold the DB lease, do a round, wait.

Only the holder of the service's lease in the PRIP DB works, so two clusters side by side
(a KubeRay upgrade) never run one service twice at once; a holder that dies loses the lease
after its TTL and the other takes over. The holder's name is its Ray cluster (GCS address)
and the service, so the same service restarted by Ray in the same cluster takes its lease
back at once. A round that did something is followed by the next one straight away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import ray

from prip_ray.db.leases import LeaseRepository

log = logging.getLogger(__name__)


def holder_name(service: str) -> str:
    context = ray.get_runtime_context()
    return f"{context.gcs_address}/{context.namespace}/{service}"


class ServiceLoop:
    def __init__(
        self,
        service: str,
        leases: LeaseRepository,
        *,
        ttl_s: float,
        interval_s: float,
        work: Callable[[], int],
        holder: str | None = None,
    ):
        self.service = service
        self.holder = holder or holder_name(service)
        self._leases = leases
        self._ttl = timedelta(seconds=ttl_s)
        self._interval = min(interval_s, ttl_s / 3)
        self._work = work
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._waiting_for: str | None = None
        # run_now (the actor's thread) and the loop may take the lease at the same moment:
        # two INSERTs of one holder, and the loser would think another cluster holds it.
        self._holding_lock = threading.Lock()
        self.holding = False
        self.rounds = 0  # rounds tried, holding the lease or not: what tests and probes wait on
        self._thread = threading.Thread(target=self._loop, name=service, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def alive(self) -> bool:
        """Whether the loop's thread still runs (it ends only when stopped, or on an error
        that is not an ``Exception``)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(30)
        if self.holding:
            self._leases.release(self.service, self.holder)

    def _loop(self) -> None:
        while not self._stop.is_set():
            done = 0
            try:
                if self.hold():
                    done = self._work()
            except Exception:  # the DB or a downstream may be away: the next round retries
                log.exception("%s round failed", self.service)
            self.rounds += 1
            if done:
                continue
            self._wake.wait(self._interval)
            self._wake.clear()

    def hold(self) -> bool:
        """Take or renew the lease; whether this loop may work now."""
        with self._holding_lock:
            return self._hold()

    def _hold(self) -> bool:
        now = datetime.now(UTC)
        self.holding = self._leases.acquire(self.service, self.holder, self._ttl, now)
        if not self.holding:
            other = self._leases.holder(self.service, now)
            if other != self._waiting_for:
                log.info("%s: lease held by %s; standing by", self.service, other)
                self._waiting_for = other
        elif self._waiting_for is not None:
            log.info("%s: lease taken over by %s", self.service, self.holder)
            self._waiting_for = None
        return self.holding
