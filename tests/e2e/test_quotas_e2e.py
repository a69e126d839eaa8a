"""Parallel-download slots hold across two Serve replicas (they live in PostgreSQL), and a
download the client abandons gives its slot back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.launched_up import free_port
from prip_ray.actors.factory import start_download_gateways, stop_download_gateways
from prip_ray.config import Settings
from prip_ray.domain.users import QuotaOverrides
from prip_ray.serve.deployment import deploy, undeploy
from prip_ray.synthetic import make_product
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.waiting import wait_until

AUTH = ("lta", "lta-pw")


@contextlib.contextmanager
def holding(url: str) -> Iterator[httpx.Response]:
    """A download that has started (first chunk read) and then waits, unread."""
    with (
        httpx.Client(auth=AUTH, timeout=30, follow_redirects=True) as client,
        client.stream("GET", url) as response,
    ):
        chunks = response.iter_raw(65536)  # kept: dropping it would end the download
        if response.status_code == 200:
            next(chunks)
        yield response


def test_parallel_limit_across_replicas_and_abandoned_slots(
    ray_settings: Settings, tmp_path: Path, built_components: BuildComponents
) -> None:
    api = ray_settings.api
    api.port, api.min_replicas, api.max_replicas, api.replica_cpus = free_port(), 2, 2, 0.1
    api.gateway_port = free_port()
    components = built_components(ray_settings)
    components.migrate()
    components.users.add("lta", cheap_hash("lta-pw"), "download")
    components.users.set_quotas("lta", QuotaOverrides(max_parallel=2))
    product = make_product(tmp_path, "granule", 0, 64 * 1024 * 1024)  # larger than socket buffers
    outcome = components.ingest.ingest(product.path, remove=False)
    assert outcome.status == "published", outcome.reason
    start_download_gateways(ray_settings)  # $value finds it through Ray
    base = deploy(ray_settings)
    url = f"{base}Products({outcome.product_id})/$value"
    for _ in range(6):  # warm both replicas up: a cold first request must not outlast the slot
        httpx.get(f"{base}Products", auth=AUTH, timeout=60).raise_for_status()
    try:
        redirect = httpx.get(url, auth=AUTH, timeout=30)  # to the node's gateway, found by Ray
        assert redirect.status_code == 307, redirect.text
        assert redirect.headers["location"].startswith(f"http://127.0.0.1:{api.gateway_port}/")
        with holding(url) as first, holding(url) as second:
            assert (first.status_code, second.status_code) == (200, 200)
            third = httpx.get(url, auth=AUTH, timeout=30, follow_redirects=True)
            records = components.downloads.recent("lta")
            assert third.status_code == 429, [(r.status, r.bytes_sent) for r in records]
            assert (
                "in parallel" in third.json()["error"]["message"] and third.headers["Retry-After"]
            )
        # both clients went away mid-download: their slots come back at once, not only when
        # the records go stale (download_stale_s, 120 s)
        wait_until(
            lambda: components.quotas.usage(components.users.get("lta")).active_downloads == 0,  # type: ignore[arg-type]
            10,
            what="abandoned downloads to free their slots",
        )
        assert components.downloads.expire_stale(datetime.now(UTC)) == 0  # none left to expire
        assert [r.status for r in components.downloads.recent("lta")] == ["aborted", "aborted"]
        whole = httpx.get(url, auth=AUTH, timeout=60, follow_redirects=True)
        assert whole.status_code == 200 and len(whole.content) == product.size
    finally:
        undeploy()
        stop_download_gateways(ray_settings)
