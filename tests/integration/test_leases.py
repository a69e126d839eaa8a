"""Singleton leases on real databases: one holder at a time, renewal, expiry and take-over,
and two service loops (two clusters during an upgrade) never working at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.db.leases import LeaseRepository
from tests.waiting import wait_until

TTL = timedelta(seconds=30)


def test_one_holder_renews_others_wait_until_expiry(components: Components) -> None:
    leases = LeaseRepository(components.engine)
    now = datetime.now(UTC)
    assert leases.acquire("tracer", "blue", TTL, now)
    assert leases.acquire("tracer", "blue", TTL, now + timedelta(seconds=20))  # renewed
    assert not leases.acquire("tracer", "green", TTL, now + timedelta(seconds=40))
    assert leases.holder("tracer", now) == "blue"
    assert leases.acquire("tracer", "green", TTL, now + timedelta(seconds=51))  # blue died
    assert not leases.acquire("tracer", "blue", TTL, now + timedelta(seconds=52))
    assert leases.acquire("roller", "blue", TTL, now)  # leases are per service
    leases.release("tracer", "green")
    assert leases.acquire("tracer", "blue", TTL, now + timedelta(seconds=53))


def test_two_clusters_never_work_at_once(components: Components) -> None:
    leases = LeaseRepository(components.engine)
    working: list[str] = []
    overlap = threading.Event()
    busy = threading.Lock()

    def work(holder: str) -> int:
        if not busy.acquire(blocking=False):
            overlap.set()
            return 0
        try:
            working.append(holder)
            time.sleep(0.01)
        finally:
            busy.release()
        return 0

    # A TTL far longer than the test: blue never loses its lease by a slow machine's pause,
    # only by stopping.
    blue = ServiceLoop(
        "svc", leases, ttl_s=60, interval_s=0.05, work=lambda: work("blue"), holder="blue"
    )
    wait_until(lambda: "blue" in working, 10, "blue working")
    green = ServiceLoop(
        "svc", leases, ttl_s=60, interval_s=0.05, work=lambda: work("green"), holder="green"
    )
    wait_until(lambda: green.rounds >= 5, 10, "green trying for the lease")
    assert "green" not in working and not green.holding
    blue.stop()  # the old cluster goes away (its lease is released)
    wait_until(lambda: "green" in working, 10, "green taking over")
    green.stop()
    assert not overlap.is_set()
