"""Serve adds OData replicas when requests pile up (bounded load, loopback only)."""

from __future__ import annotations

import threading
import time

import httpx
from ray import serve

from benchmarks.launched_up import free_port
from prip_ray.config import Settings
from prip_ray.serve.deployment import deploy, undeploy
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.waiting import wait_until

CLIENTS = 8
MAX_SECONDS = 90


def _running_replicas() -> int:
    status = serve.status().applications["prip"].deployments["odata"]
    return int(status.replica_states.get("RUNNING", 0))


def test_replicas_scale_up_under_load(
    ray_settings: Settings, built_components: BuildComponents
) -> None:
    api = ray_settings.api
    api.port, api.min_replicas, api.max_replicas = free_port(), 1, 2
    api.target_ongoing_requests, api.upscale_delay_s, api.replica_cpus = 1, 0, 0.1
    components = built_components(ray_settings)
    components.migrate()
    components.users.add("load", cheap_hash("load-pw"), "download")
    url = deploy(ray_settings)
    stop = threading.Event()
    sent: list[int] = []

    def load() -> None:
        count = 0
        with httpx.Client(auth=("load", "load-pw"), timeout=30) as client:
            while not stop.is_set():
                client.get(
                    url + "Products", params={"$filter": "contains(Name,'x')", "$count": "true"}
                )
                count += 1
        sent.append(count)

    threads = [threading.Thread(target=load) for _ in range(CLIENTS)]
    try:
        assert _running_replicas() == 1
        started = time.monotonic()
        for thread in threads:
            thread.start()
        wait_until(lambda: _running_replicas() >= 2, MAX_SECONDS, what="a second replica")
        print(f"scaled to 2 replicas after {time.monotonic() - started:.1f} s")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        undeploy()
    assert sum(sent) > 0
