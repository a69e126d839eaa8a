"""The quota service and the History Cleaner on in-memory fakes of the download history
(tests/unit/fakes.py); tests/integration/test_access.py runs them on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from prip_ray.config import QuotaSettings
from prip_ray.domain.users import QuotaOverrides, User
from prip_ray.errors import QuotaExceeded
from prip_ray.services.history import HistoryCleaner
from prip_ray.services.quotas import QuotaService
from tests.unit.fakes import (
    T0,
    FakeClock,
    FakeCounters,
    FakeDownloads,
    FakeQuotaWindows,
    a_product,
)

SETTINGS = QuotaSettings(max_parallel=2, volume_gb=1, window_days=7)
ALICE = User("alice", "download", False, T0, "scrypt$x")


def service(history: FakeDownloads, clock: FakeClock) -> QuotaService:
    return QuotaService(history, SETTINGS, now=clock.now)


def test_a_slot_is_held_while_bytes_flow_and_freed_when_the_client_goes() -> None:
    history, clock = FakeDownloads(), FakeClock()
    quotas = service(history, clock)
    product = a_product("p.tar", b"x" * 100)
    first = quotas.start(ALICE, product)
    quotas.start(ALICE, product)
    with pytest.raises(QuotaExceeded, match="at most 2 in parallel"):
        quotas.start(ALICE, product)
    stream = quotas.metered(first, iter([b"x" * 60, b"x" * 30, b"x" * 10]))
    assert next(stream) == b"x" * 60
    assert next(stream) == b"x" * 30  # asking for more says the first part went out
    stream.close()  # the client went away: the part it was handed last is not counted
    assert history.rows[first]["status"] == "aborted" and history.rows[first]["bytes"] == 60
    assert quotas.usage(ALICE).active_downloads == 1
    quotas.start(ALICE, product)  # the slot is free again


def test_a_finished_download_counts_its_bytes_against_the_volume_window() -> None:
    history, clock = FakeDownloads(), FakeClock()
    quotas = service(history, clock)
    big = a_product("big.tar", b"x" * 1000)
    done = quotas.start(ALICE, big)
    assert b"".join(quotas.metered(done, iter([b"x" * 1000]))) == b"x" * 1000
    assert history.rows[done]["status"] == "completed"
    assert quotas.usage(ALICE).window_bytes == 1000
    tiny_volume = replace(ALICE, quotas=QuotaOverrides(volume_bytes=1500))
    with pytest.raises(QuotaExceeded, match="volume quota"):
        quotas.start(tiny_volume, big)
    clock.at += timedelta(days=8)  # out of the 7-day window
    quotas.start(tiny_volume, big)


def test_a_redirect_holds_its_slot_until_the_url_expires_and_counts_the_whole_product() -> None:
    history, clock = FakeDownloads(), FakeClock()
    quotas = service(history, clock)
    product = a_product("p.tar", b"x" * 500)
    quotas.start(ALICE, product, redirected=True, hold_s=60)
    usage = quotas.usage(ALICE)
    assert usage.active_downloads == 1 and usage.window_bytes == 500
    clock.at += timedelta(seconds=61)
    assert quotas.usage(ALICE).active_downloads == 0


def test_the_history_cleaner_keeps_what_the_longest_window_can_see() -> None:
    history, clock = FakeDownloads(), FakeClock()
    quotas = service(history, clock)
    product = a_product("p.tar", b"x")
    old = quotas.start(ALICE, product)
    history.finish(old, 1, True, clock.now())
    stuck = quotas.start(ALICE, product)  # a stream nobody ended
    clock.at += timedelta(days=20)
    recent = quotas.start(ALICE, product)
    history.finish(recent, 1, True, clock.now())
    counters = FakeCounters([clock.now() - timedelta(hours=2), clock.now()])
    cleaner = HistoryCleaner(history, counters, FakeQuotaWindows(longest=30), 7, now=clock.now)
    run = cleaner.run_once()
    assert run.cutoff == clock.now() - timedelta(days=30)  # a user's 30 days beat the 7
    assert run.downloads_removed == 0 and run.counters_removed == 1
    assert history.rows[stuck]["status"] == "aborted"  # its slot freed
    cleaner = HistoryCleaner(history, counters, FakeQuotaWindows(), 7, now=clock.now)
    assert cleaner.run_once().downloads_removed == 2  # the first two, older than 7 days
    assert set(history.rows) == {recent}
