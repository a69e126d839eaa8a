"""The notifier actor delivers what ingestion publishes, and survives being killed mid-way."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import ray

from prip_ray.actors.factory import start_notifier
from prip_ray.config import Settings
from tests.fixtures.components import BuildComponents
from tests.integration.test_notifications import product, publish
from tests.receiver import LOOPBACK, receiver
from tests.waiting import wait_until


def test_killed_notifier_restarts_and_delivers_everything(
    ray_settings: Settings, built_components: BuildComponents
) -> None:
    ray_settings.subscriptions.allowed_networks = LOOPBACK  # the receiver's address
    components = built_components(ray_settings)
    components.migrate()
    with receiver() as endpoint:
        components.subscriptions.create(
            owner="sub", event="created", filter_param="contains(Name,'MSI')",
            endpoint=endpoint.url, username=None, sealed_password=None, now=datetime.now(UTC),
        )  # fmt: skip
        notifier = start_notifier(ray_settings)
        try:
            publish(components, [product(i) for i in range(300)])
            wait_until(lambda: endpoint.count() > 0, 30, what="the first notifications")
            ray.kill(notifier, no_restart=False)  # a crash in the middle of delivering
            time.sleep(0.5)
            publish(components, [product(i) for i in range(300, 400)])
            wait_until(
                lambda: len(endpoint.pairs()) == 400, 60, what="every product after the restart"
            )
            assert (
                ray.get(notifier.stats.remote())["delivered"] >= 0
            )  # the same named actor answers again
        finally:
            ray.kill(notifier)
    repeats = sum(n - 1 for n in endpoint.pairs().values())
    assert repeats <= 20  # at least once: only what was in flight at the crash may repeat
