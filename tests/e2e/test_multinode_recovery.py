"""A whole worker node lost while products are ingested and downloaded, on a multi-node Ray
cluster (tests/e2e/multinode_host.py, in a process of its own) sharing one PostgreSQL.

The ingest shards and the service host (the Tracer, HKTM forwarder and Roller singletons, the
gateway supervisor) need a resource only the two workers offer and are spread over them, so
the node that goes takes a shard and the host.
Afterwards every product is published once (DB, outbox, store: bytes and MD5 of the inbox
original), traced once and, for HKTM, at FOS once; the download that was cut completes on
the client's retry; and the shards and the host are alive again on the surviving worker
and do their work: products dropped after the loss, on every shard, are published, traced
and forwarded."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from benchmarks.launched_up import free_port
from prip_ray.actors.names import (
    HKTM_FORWARDER,
    INGEST_SHARD,
    ROLLER,
    SERVICE_HOST,
    TRACER,
    shard_name,
)
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.sharding import shard_of
from prip_ray.domain.users import QuotaOverrides
from prip_ray.synthetic import granule_name, make_product
from tests.cheap_passwords import cheap_hash
from tests.e2e.multinode import Host, node_of, on_gateway, retry_download
from tests.e2e.test_faults import assert_published_once
from tests.fixtures.components import BuildComponents
from tests.integration.test_hktm_forwarder import hktm_name
from tests.pki import write_key_and_cert
from tests.samples import drop
from tests.sftp_server import PASSWORD, FosServer, fos_server
from tests.traceability import TOKEN, TraceService, trace_service
from tests.waiting import wait_until

AUTH = ("lta", "lta-pw")
SIZE = 48 * 1024 * 1024  # a download that is still in flight when the node goes
SHARDS = 2
SINGLETONS = (TRACER, HKTM_FORWARDER, ROLLER)
SERVICES = (*(shard_name(k) for k in range(SHARDS)), SERVICE_HOST)
START = datetime(2025, 8, 1, 7, 0, tzinfo=UTC)  # sensing start of the synthetic granules
GRANULES, HKTM = 30, 6  # dropped while the node goes; then more, on every shard
FIRST = 12  # of them dropped before the node goes, the others while it goes


@dataclass
class Prip:
    host: Host
    components: Components
    trace: TraceService
    fos: FosServer
    download: str  # the big product's $value path
    download_md5: str
    expected: dict[Path, str]  # every product the PRIP must hold -> MD5 of its original


@pytest.fixture
def prip(clean_pg: Engine, tmp_path: Path, built_components: BuildComponents) -> Iterator[Prip]:
    key, cert = write_key_and_cert(tmp_path / "pki")
    with trace_service() as trace, fos_server(tmp_path / "fos") as fos:
        settings = load_settings(
            data_dir=tmp_path / "prip",
            db={"url": clean_pg.url.render_as_string(hide_password=False), "pool_size": 2},
            api={"port": free_port(), "gateway_port": 0, "min_replicas": 1, "max_replicas": 1,
                 "replica_cpus": 0.5},
            ray={"namespace": "prip-multinode", "service_resources": {"prip-services": 1},
                 "spread_services": True},
            ingest={"shards": SHARDS, "qc_worker_cpus": 0.2, "qc_workers_max": 1,
                    "settle_s": 0.2, "poll_interval_s": 0.2, "retry_base_s": 0.5},
            trace={"url": trace.url, "token": TOKEN, "signing_key": key, "signing_cert": cert,
                   "retry_base_s": 0.2, "retry_max_s": 1.0, "poll_interval_s": 0.2},
            fos={"sftp_url": fos.url(), "password": PASSWORD,
                 "known_hosts": fos.write_known_hosts(tmp_path / "known_hosts"),
                 "retry_base_s": 0.2, "retry_max_s": 1.0, "poll_interval_s": 0.2},
            roller={"interval": "1s"},
        )  # fmt: skip
        components = built_components(settings)
        components.migrate()
        components.users.add("lta", cheap_hash(AUTH[1]), "download")
        # The cut download keeps its slot until it goes stale: the retry needs a second.
        components.users.set_quotas("lta", QuotaOverrides(max_parallel=2))
        big = make_product(tmp_path, "granule", 999, SIZE).path
        outcome = components.ingest.ingest(big, remove=False)
        assert outcome.status == "published", outcome.reason
        secrets = {"PRIP_TRACE__TOKEN": TOKEN, "PRIP_FOS__PASSWORD": PASSWORD}
        host = Host(settings, tmp_path, secrets)
        try:
            md5 = _md5(big)
            value = f"Products({outcome.product_id})/$value"
            yield Prip(host, components, trace, fos, value, md5, {big: md5})
        finally:
            host.close()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _granules(directory: Path, indices: range | list[int]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [make_product(directory, "granule", i, 150_000, START).path for i in indices]


def _hktm(directory: Path, indices: range) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / hktm_name(i) for i in indices]
    for index, path in zip(indices, paths, strict=True):
        path.write_bytes(index.to_bytes(4, "big") * 10_000)
    return paths


def _one_on_every_shard(directory: Path, first: int) -> list[Path]:
    """Granules from index ``first`` on, until every shard owns one of them."""
    chosen: dict[int, int] = {}
    index = first
    while len(chosen) < SHARDS:
        chosen.setdefault(shard_of(f"{granule_name(index, START)}.tar", SHARDS), index)
        index += 1
    return _granules(directory, sorted(chosen.values()))


def _dropping(paths: list[Path], inbox: Path, every_s: float) -> threading.Thread:
    """A production chain delivering ``paths`` one by one, in the background."""

    def deliver() -> None:
        for path in paths:
            drop(path, inbox)
            time.sleep(every_s)

    thread = threading.Thread(target=deliver, name="production-chain", daemon=True)
    thread.start()
    return thread


def _inbox(components: Components) -> list[Path]:
    return [p for p in components.settings.inbox.iterdir() if not p.name.startswith(".")]


def _published(components: Components, paths: list[Path]) -> int:
    return len(components.products.by_names([p.name for p in paths]))


def _moved_away(host: Host, victim: str) -> dict[str, str] | None:
    """The placement once every shard and the service host are alive off the lost node."""
    placement: dict[str, str] = host.ask(cmd="placement")["placement"]
    alive = {name: node for name, node in placement.items() if name in SERVICES}
    return alive if len(alive) == len(SERVICES) and victim not in alive.values() else None


def test_a_lost_node_loses_no_product_and_its_services_come_back(
    prip: Prip, tmp_path: Path
) -> None:
    host, components = prip.host, prip.components
    began = time.monotonic()
    cluster = host.read(timeout=120)
    cluster_up = time.monotonic() - began
    gateways, workers = cluster["gateways"], cluster["workers"]
    before: dict[str, str] = host.ask(cmd="start_services", timeout=180)["placement"]
    # None on the head, which offers no service resource; some of each on the node to go.
    assert all(before.get(name) in workers for name in SERVICES), before
    services_up = time.monotonic() - began - cluster_up
    victim = before[SERVICE_HOST]
    lost = [name for name in SERVICES if before[name] == victim]
    assert any(name.startswith(INGEST_SHARD) for name in lost), before
    assert SERVICE_HOST in lost, before

    inbox = components.settings.inbox
    dropped = [
        *_granules(tmp_path / "granules", range(GRANULES)),
        *_hktm(tmp_path / "hktm", range(HKTM)),
    ]
    prip.expected.update({path: _md5(path) for path in dropped})
    for path in dropped[:FIRST]:
        drop(path, inbox)

    with httpx.Client(base_url=cluster["api"], auth=AUTH, timeout=30) as api:
        # A download in flight from the gateway of the node about to go.
        ticket = on_gateway(gateways, victim, api.get(prip.download).headers["location"])
        with httpx.Client(timeout=30) as client, client.stream("GET", ticket) as held:
            assert held.status_code == 200
            chunks = held.iter_raw(1 << 20)
            received = len(next(chunks))
            wait_until(lambda: _published(components, dropped) >= 3, 60, "ingestion under way")
            # The production chain goes on delivering while the node goes.
            chain = _dropping(dropped[FIRST:], inbox, every_s=0.25)
            in_inbox = len(_inbox(components))
            qc_lost = host.ask(cmd="placement")["qc_workers"].count(victim)
            removed = host.ask(cmd="remove", node=victim)
            assert chain.is_alive(), "the products were all delivered before the node went"
            with contextlib.suppress(httpx.HTTPError):
                for chunk in chunks:
                    received += len(chunk)
            assert received < SIZE, "the download finished before its node went"

        # The client's retry of $value: a live replica sends it to a live gateway.
        location, digest, took = retry_download(api, prip.download, 60)
        assert node_of(gateways, location) != victim and digest == prip.download_md5

    # Every shard and the service host come back, on the surviving worker.
    started = time.monotonic()
    wait_until(lambda: _moved_away(host, victim) is not None, 60, "the services restarted")
    back_in = time.monotonic() - started
    after = _moved_away(host, victim)
    assert after is not None and set(after.values()) == set(workers) - {victim}, after

    # ... and works: new products on every shard, and HKTM, are published, traced, forwarded.
    chain.join(30)
    late = [
        *_one_on_every_shard(tmp_path / "late", GRANULES),
        *_hktm(tmp_path / "late-hktm", range(HKTM, HKTM + 1)),
    ]
    prip.expected.update({path: _md5(path) for path in late})
    for path in late:
        drop(path, inbox)
    every = list(prip.expected)
    wait_until(lambda: _published(components, every) == len(every), 90, "every product")
    all_published = time.monotonic() - started - back_in
    names = {path.name for path in every}
    wait_until(lambda: _traced(prip.trace) >= names, 60, "every product traced")
    hktm = {f"/hktm/{path.name}" for path in every if "HKTM" in path.name}
    wait_until(lambda: set(prip.fos.renames) >= hktm, 60, "every HKTM product at FOS")
    time.sleep(1.0)  # anything sent twice would arrive now

    assert_published_once(components, prip.expected)
    created = Counter(
        e.product_id for e in components.subscriptions.events_after(0, 10_000)
        if e.event == "created"
    )  # fmt: skip
    assert sorted(created.values()) == [1] * len(every)
    assert prip.trace.events() == {(name, "CREATE"): 1 for name in names}
    assert prip.trace.bad_signatures == 0
    assert sorted(prip.fos.renames) == sorted(hktm)  # each once
    for name in SINGLETONS:
        stats = _stats(host, name)
        assert stats["holding"] and stats["rounds"] > 0, (name, stats)
    shards = [_stats(host, shard_name(k)) for k in range(SHARDS)]
    print(
        f"cluster up in {cluster_up:.1f} s, services in {services_up:.1f} s; {lost} and "
        f"{qc_lost} QC workers on the node, removed in {removed['took_s']:.1f} s with "
        f"{in_inbox} products in the inbox; download retried in {took:.1f} s; services back "
        f"in {back_in:.1f} s; all published {all_published:.1f} s later; shards since: "
        + "; ".join(f"{s.get('published', 0)} published, {s.get('worker_failed', 0)} lost "
                    f"in QC, {s.get('recovered', 0)} recovered" for s in shards)
    )  # fmt: skip


def _traced(service: TraceService) -> set[str]:
    return {name for name, event in service.events() if event == "CREATE"}


def _stats(host: Host, name: str) -> dict[str, Any]:
    answer = host.ask(cmd="stats", name=name)
    assert answer["stats"] is not None, (name, answer["why"])
    stats: dict[str, Any] = answer["stats"]
    return stats
