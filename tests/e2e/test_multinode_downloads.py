"""Downloads on a multi-node Ray cluster (tests/e2e/multinode_host.py, in a process of its
own): every node runs a download gateway; ``$value`` sends the client to the gateway of the
node whose replica answered; a ticket is good on every gateway and the parallel-download
quota holds across them; when a whole node dies mid-download, or only its gateway, the
client's retry of ``$value`` gets the right bytes through another node."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from benchmarks.launched_up import free_port
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.users import QuotaOverrides
from prip_ray.synthetic import make_product
from tests.cheap_passwords import cheap_hash
from tests.e2e.multinode import Host, node_of, on_gateway, retry_download
from tests.fixtures.components import BuildComponents

AUTH = ("lta", "lta-pw")
SIZE = 48 * 1024 * 1024  # well beyond the socket buffers: a download is in flight for a while


@pytest.fixture
def prip(
    clean_pg: Engine, tmp_path: Path, built_components: BuildComponents
) -> Iterator[tuple[Host, Components, str, str]]:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        db={"url": clean_pg.url.render_as_string(hide_password=False), "pool_size": 2},
        api={
            "port": free_port(),
            "gateway_port": 0,  # three nodes on one host: each gateway takes a free port
            "min_replicas": 1,
            "max_replicas": 1,
            "replica_cpus": 0.5,  # the head has no CPU: the replica runs on a worker
        },
        ray={"namespace": "prip-multinode"},
    )
    components = built_components(settings)
    components.migrate()
    components.users.add("lta", cheap_hash(AUTH[1]), "download")
    components.users.set_quotas("lta", QuotaOverrides(max_parallel=1))
    product = make_product(tmp_path, "granule", 0, SIZE)
    outcome = components.ingest.ingest(product.path, remove=False)
    assert outcome.status == "published", outcome.reason
    md5 = hashlib.md5(product.path.read_bytes()).hexdigest()
    host = Host(settings, tmp_path)
    try:
        yield host, components, f"Products({outcome.product_id})/$value", md5
    finally:
        host.close()


def test_downloads_survive_the_loss_of_a_node_and_of_a_gateway(
    prip: tuple[Host, Components, str, str],
) -> None:
    host, components, path, md5 = prip
    cluster = host.read(timeout=120)
    gateways = cluster["gateways"]
    assert set(gateways) == {cluster["head"], *cluster["workers"]}  # one on every node
    (replica_node,) = cluster["replica_nodes"]
    with httpx.Client(base_url=cluster["api"], auth=AUTH, timeout=30) as api:
        # $value sends the client to the gateway of the replica's own node.
        location, digest, _ = retry_download(api, path, 30)
        assert node_of(gateways, location) == replica_node and digest == md5

        # A download in flight on that node; its slot counts on every gateway, and every
        # gateway accepts a ticket another node's replica issued.
        ticket = api.get(path).headers["location"]
        with httpx.Client(timeout=30) as client, client.stream("GET", ticket) as held:
            assert held.status_code == 200
            chunks = held.iter_raw(1 << 20)
            received = len(next(chunks))
            again = api.get(path).headers["location"]
            elsewhere = client.get(on_gateway(gateways, cluster["head"], again))
            assert elsewhere.status_code == 429, elsewhere.text  # ticket good, slot taken
            # The download about to be cut keeps its slot until it goes stale: not the point
            # here, so the retry below gets a second slot.
            components.users.set_quotas("lta", QuotaOverrides(max_parallel=2))

            # The whole node dies mid-download: the stream breaks.
            removed = host.ask(cmd="remove", node=replica_node)
            with contextlib.suppress(httpx.HTTPError):
                for chunk in chunks:
                    received += len(chunk)
            assert received < SIZE, "the download finished before its node went"

        # The client retries $value: a replica on a surviving node sends it to a live gateway.
        location, digest, took = retry_download(api, path, 60)
        survivor = node_of(gateways, location)
        assert survivor != replica_node and digest == md5
        print(f"node removed in {removed['took_s']:.1f} s; retry succeeded after {took:.1f} s")

        # A ticket from one gateway's redirect, on another gateway: accepted.
        ticket = api.get(path).headers["location"]
        other = next(n for n in gateways if n not in (replica_node, survivor))
        ranged = httpx.get(on_gateway(gateways, other, ticket), headers={"Range": "bytes=0-1023"})
        assert ranged.status_code == 206 and len(ranged.content) == 1024

        # Only the gateway of the replica's node dies: $value goes to another node's.
        host.ask(cmd="kill_gateway", node=survivor)
        location, digest, _ = retry_download(api, path, 30)
        assert gateways[survivor] not in location and digest == md5

    # The supervisor gives that node a gateway again (on a new port); the dead node has none.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = host.ask(cmd="state")["gateways"]
        if survivor in now and now[survivor] != gateways[survivor]:
            break
        time.sleep(1)
    assert survivor in now and replica_node not in now, now
    # One history for all gateways: four downloads completed, the cut one did not (its
    # gateway died with the node, so it ends when it goes stale).
    statuses = [r.status for r in components.downloads.recent("lta")]
    assert sorted(statuses)[1:] == ["completed"] * 4 and len(statuses) == 5, statuses
