"""The notifier delivers what ingestion publishes, and survives its service host being killed
mid-way, the host's other services with it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import ray

from prip_ray.actors.factory import start_service_host
from prip_ray.actors.names import CATALOGUE_EXPORT, HISTORY_CLEANER, NOTIFIER, ROLLER
from prip_ray.actors.service_handle import find_service
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
        host = start_service_host(
            ray_settings, [NOTIFIER, ROLLER, HISTORY_CLEANER, CATALOGUE_EXPORT]
        )
        notifier = find_service(NOTIFIER, ray_settings.ray.namespace)
        try:
            publish(components, [product(i) for i in range(300)])
            wait_until(lambda: endpoint.count() > 0, 30, what="the first notifications")
            ray.kill(host, no_restart=False)  # a crash in the middle of delivering
            time.sleep(0.5)
            publish(components, [product(i) for i in range(300, 400)])
            wait_until(
                lambda: len(endpoint.pairs()) == 400, 60, what="every product after the restart"
            )
            # the same named host answers again, its other services restarted too
            assert ray.get(notifier.stats.remote())["delivered"] >= 0
            for other in (ROLLER, HISTORY_CLEANER, CATALOGUE_EXPORT):
                service = find_service(other, ray_settings.ray.namespace)
                wait_until(lambda s=service: ray.get(s.stats.remote())["holding"], 30, other)
        finally:
            ray.kill(host)
    repeats = sum(n - 1 for n in endpoint.pairs().values())
    assert repeats <= 20  # at least once: only what was in flight at the crash may repeat
