"""Faults in the middle of load, on the whole PRIP (shards, QC workers, Serve over HTTP).

Each test drops products while OData clients query, breaks one part — a QC worker or a Serve
replica killed with SIGKILL, PostgreSQL stopped as in a crash, the S3 server gone — then
brings it back and checks what an operator would: every product published exactly once,
with the bytes and MD5 it was delivered with, no stray objects in the store, nothing in
quarantine, and no 5xx from the API except 503 while the DB was away and, for the requests
a killed replica was serving at that moment, the proxy's 500. (Killed shards and
singletons, and SFTP cut mid-transfer, are in tests/ray and tests/integration.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import ray

from prip_ray.actors.names import shard_name
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.errors import DatabaseUnavailable
from prip_ray.serve.app import basic_header
from prip_ray.synthetic import make_product
from tests.e2e.running import PASSWORD, USER, running_prip
from tests.fixtures.postgres import PrivatePostgres
from tests.fixtures.s3 import OwnS3
from tests.samples import drop
from tests.waiting import wait_until

AUTH = basic_header(USER, PASSWORD)
QUERY = {"$filter": "startswith(Name,'S2B_OPER_MSI_L0__GR')", "$top": "5", "$count": "true"}


def _make_products(directory: Path, first: int, count: int, payload: int) -> dict[Path, str]:
    """Synthetic granules built outside the inbox, with the MD5 each is delivered with."""
    directory.mkdir(parents=True, exist_ok=True)
    built = {}
    for index in range(first, first + count):
        path = make_product(directory, "granule", index, payload).path
        built[path] = hashlib.md5(path.read_bytes()).hexdigest()
    return built


def _drop_all(products: dict[Path, str], inbox: Path) -> None:
    for path in products:
        drop(path, inbox)


@dataclass
class ApiClients:
    """OData clients on a loop (bounded: at most ``limit`` requests), noting every status."""

    url: str
    limit: int = 3000
    statuses: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, clients: int = 2) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        return threads

    def stop(self, threads: list[threading.Thread]) -> None:
        self._stop.set()
        for thread in threads:
            thread.join(30)

    def _loop(self) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=30) as client:
            while not self._stop.is_set() and len(self.statuses) < self.limit:
                try:
                    status = client.get("Products", params=QUERY).status_code
                except httpx.TransportError:
                    status = 0  # no HTTP answer at all: counted as a failure below
                self.statuses.append((time.monotonic(), status))
                time.sleep(0.05)

    def failures(self, allowed: dict[int, tuple[float, float]] | None = None) -> list[int]:
        """Answers that are neither 200 nor an ``allowed`` status inside its time window."""
        allowed = allowed or {}
        bad = []
        for when, status in self.statuses:
            window = allowed.get(status)
            if status != 200 and not (window and window[0] <= when <= window[1]):
                bad.append(status)
        return bad


def _published(components: Components, expected: dict[Path, str]) -> int:
    """How many are published; -1 while the test's own connection finds the DB away (its
    pooled connection may be the one a restart cut)."""
    try:
        return len(components.products.by_names([p.name for p in expected]))
    except DatabaseUnavailable:
        return -1


def assert_published_once(components: Components, expected: dict[Path, str]) -> None:
    products = components.products.by_names([p.name for p in expected])
    assert sorted(p.name for p in products) == sorted(p.name for p in expected)
    md5 = {p.name: p.checksum("MD5") for p in products}
    assert md5 == {path.name: digest for path, digest in expected.items()}
    for product in products:  # the stored bytes are the delivered ones
        stored = hashlib.md5(b"".join(components.store.read(product.object_key))).hexdigest()
        assert stored == md5[product.name], product.name
    assert sorted(components.store.keys()) == sorted(p.object_key for p in products)
    settings = components.settings
    assert not list(settings.quarantine.glob("*")) if settings.quarantine.exists() else True
    assert components.ingest.journal.entries() == []


def _pids(title: str) -> set[int]:
    """Ray worker processes whose title starts ``ray::<title>``."""
    found = set()
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if cmdline.startswith(f"ray::{title}"):
            found.add(process.pid)
    return found


def _answers_since(clients: ApiClients, since: float, status: int = 200) -> int:
    return sum(1 for when, got in list(clients.statuses) if when > since and got == status)


def _retries(settings: Settings) -> int:
    """Products the shards sent back to wait because a downstream failed, since they started."""
    total = 0
    for shard in range(settings.ingest.shards):
        actor = ray.get_actor(shard_name(shard), namespace=settings.ray.namespace)
        total += ray.get(actor.stats.remote()).get("retry", 0)
    return total


def _kill_processes(title: str, limit: int = 1) -> int:
    """SIGKILL up to ``limit`` Ray worker processes whose title starts ``ray::<title>``, as
    the kernel's OOM killer or a node failure would."""
    killed = 0
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if cmdline.startswith(f"ray::{title}") and killed < limit:
            with contextlib.suppress(psutil.NoSuchProcess):
                os.kill(process.pid, signal.SIGKILL)
                killed += 1
    return killed


def test_qc_workers_killed_mid_load(ray_settings: Settings, tmp_path: Path) -> None:
    products = _make_products(tmp_path / "made", 0, 24, payload=4 << 20)
    with running_prip(ray_settings) as (url, components):
        clients = ApiClients(url)
        threads = clients.run()
        _drop_all(products, ray_settings.inbox)
        kills = 0
        deadline = time.monotonic() + 60
        while kills < 3 and time.monotonic() < deadline:
            before = _pids("QcWorker")
            kills += _kill_processes("QcWorker")
            # The next kill waits for a worker Ray started after this one (a restart).
            wait_until(lambda b=before: bool(_pids("QcWorker") - b), 30, "a new QC worker")
        wait_until(lambda: _published(components, products) == len(products), 180, "ingestion")
        wait_until(lambda: components.ingest.journal.entries() == [], 30, "journal to clear")
        clients.stop(threads)
        assert kills >= 1, "no QC worker was ever seen to kill"
        assert_published_once(components, products)
        assert clients.statuses and clients.failures() == []


def test_serve_replica_killed_under_query_load(ray_settings: Settings, tmp_path: Path) -> None:
    ray_settings.api.min_replicas = ray_settings.api.max_replicas = 2
    ray_settings.api.replica_cpus = 0.1
    products = _make_products(tmp_path / "made", 100, 6, payload=64 << 10)
    with running_prip(ray_settings) as (url, components):
        _drop_all(products, ray_settings.inbox)
        wait_until(lambda: _published(components, products) == len(products), 90, "ingestion")
        clients = ApiClients(url)
        threads = clients.run(clients=4)
        wait_until(lambda: _answers_since(clients, 0) >= 20, 30, "searches answered")
        killed = time.monotonic()
        assert _kill_processes("ServeReplica:prip:odata") == 1
        # Serve notices, routes around it and starts a new replica: the last 20 answers all
        # come after the kill and are all 200.
        wait_until(
            lambda: (
                clients.statuses[-20:][0][0] > killed + 2
                and {s for _, s in clients.statuses[-20:]} == {200}
            ),
            60,
            "the API answering again after the kill",
        )
        clients.stop(threads)
        after_kill = [s for _, s in clients.statuses[-20:]]
        assert after_kill and set(after_kill) == {200}, "the API did not recover"
        # The requests the replica was working on when it died fail (Serve's proxy answers
        # 500: a request already sent cannot be retried safely); nothing else does.
        failed = clients.failures(allowed={500: (killed, killed + 2)})
        assert failed == []
        in_flight = [s for when, s in clients.statuses if s == 500]
        assert len(in_flight) <= 4  # at most one per client
        assert_published_once(components, products)


def test_database_outage_under_load(
    ray_settings: Settings, private_pg: PrivatePostgres, tmp_path: Path
) -> None:
    ray_settings.db.url = private_pg.url
    ray_settings.ingest.retry_base_s = 0.5
    before = _make_products(tmp_path / "made", 200, 8, payload=256 << 10)
    during = _make_products(tmp_path / "made", 300, 8, payload=256 << 10)
    with running_prip(ray_settings) as (url, components):
        clients = ApiClients(url)
        threads = clients.run()
        _drop_all(before, ray_settings.inbox)
        wait_until(lambda: _published(components, before) >= 2, 90, "first publications")
        down = time.monotonic()
        private_pg.stop()
        _drop_all(during, ray_settings.inbox)
        wait_until(lambda: _answers_since(clients, down, 503), 30, "503 while the DB is away")
        private_pg.start()
        up = time.monotonic()
        # The test's own pooled connections died with the server: start afresh, so the
        # waits below ask the DB, not a dead socket (the PRIP's own processes reconnect).
        components.engine.dispose()
        everything = {**before, **during}
        wait_until(lambda: _published(components, everything) == len(everything), 180, "ingest")
        wait_until(lambda: components.ingest.journal.entries() == [], 60, "journal to clear")
        wait_until(lambda: _answers_since(clients, up + 5) >= 5, 30, "searches after the outage")
        clients.stop(threads)
        assert clients.failures(allowed={503: (down, up + 5)}) == []
        assert_published_once(components, everything)


def test_object_store_outage_under_load(
    ray_settings: Settings, own_s3: OwnS3, tmp_path: Path
) -> None:
    ray_settings.store.kind = "s3"
    ray_settings.store.s3 = own_s3.server.settings("prip-outage", max_attempts=1)
    ray_settings.ingest.retry_base_s = 0.5
    before = _make_products(tmp_path / "made", 400, 6, payload=256 << 10)
    during = _make_products(tmp_path / "made", 500, 6, payload=256 << 10)
    with running_prip(ray_settings) as (url, components):
        components.store.ensure_bucket()  # type: ignore[attr-defined]
        clients = ApiClients(url)
        threads = clients.run()
        _drop_all(before, ray_settings.inbox)
        wait_until(lambda: _published(components, before) == len(before), 90, "publications")
        own_s3.stop()
        retried = _retries(ray_settings)
        _drop_all(during, ray_settings.inbox)
        # Every product dropped meanwhile is tried and sent back to wait, none lost or moved.
        wait_until(lambda: _retries(ray_settings) - retried >= len(during), 60, "attempts to store")
        waiting = sorted(p.name for p in ray_settings.inbox.glob("S2B_*"))
        assert waiting == sorted(p.name for p in during), "the store was away: they must wait"
        own_s3.start()
        everything = {**before, **during}
        wait_until(lambda: _published(components, everything) == len(everything), 180, "ingest")
        wait_until(lambda: components.ingest.journal.entries() == [], 60, "journal to clear")
        clients.stop(threads)
        assert clients.failures() == []  # searching needs the DB only
        assert_published_once(components, everything)
