"""The service host runs each service apart: one that cannot start (the Tracer without its
signing key) leaves the others working and is started once it can; a wake for a service the
host does not run is a no-op, while asking it for one is an error; the rounds of each are
counted under its own name."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray
from ray.exceptions import RayTaskError

from prip_ray.actors.factory import start_service_host
from prip_ray.actors.names import HISTORY_CLEANER, NOTIFIER, TRACER
from prip_ray.actors.service_handle import find_service
from prip_ray.config import Settings, TraceSettings
from tests.fixtures.components import BuildComponents
from tests.pki import write_key_and_cert
from tests.ray.test_metrics_export import scrape
from tests.waiting import wait_until


def test_a_service_that_cannot_start_leaves_the_others_running_until_it_can(
    ray_settings: Settings, tmp_path: Path, built_components: BuildComponents
) -> None:
    built_components(ray_settings).migrate()
    pki = tmp_path / "pki"
    settings = ray_settings.model_copy(
        update={
            "trace": TraceSettings(
                url="http://127.0.0.1:9/", token="t",
                signing_key=pki / "rsa-key.pem", signing_cert=pki / "rsa-cert.pem",
            )
        }
    )  # fmt: skip
    host = start_service_host(settings, [TRACER, HISTORY_CLEANER])
    namespace = settings.ray.namespace
    tracer, cleaner = find_service(TRACER, namespace), find_service(HISTORY_CLEANER, namespace)
    try:
        wait_until(lambda: ray.get(cleaner.stats.remote())["rounds"] > 0, 30, "cleaner rounds")
        assert ray.get(cleaner.stats.remote())["holding"]
        with pytest.raises(RayTaskError, match="being restarted"):
            ray.get(tracer.stats.remote())
        write_key_and_cert(pki)  # at the paths the settings name
        wait_until(lambda: _answers(tracer.stats.remote()), 30, "the Tracer started")
        wait_until(lambda: ray.get(tracer.stats.remote())["holding"], 30, "the Tracer's lease")
        # the rounds of each, counted under its own name
        wait_until(lambda: _counted(HISTORY_CLEANER) and _counted(TRACER), 60, "tagged rounds")
        assert ray.get(find_service(NOTIFIER, namespace).wake.remote()) is None  # not here
        with pytest.raises(RayTaskError, match="does not run"):
            ray.get(find_service(NOTIFIER, namespace).stats.remote())
    finally:
        ray.kill(host)


def _counted(service: str) -> bool:
    return any(
        line.startswith("ray_prip_singleton_rounds_total{") and f'service="{service}"' in line
        for line in scrape().splitlines()
    )


def _answers(ref: ray.ObjectRef) -> bool:
    try:
        ray.get(ref)
    except RayTaskError:
        return False
    return True
