"""The shipped Serve config deployed as KubeRay deploys it: Serve builds the application in a
task of its own, and with ``start_actors`` that build starts the rest of the PRIP. The actors
must outlive the build task, and a second deployment must find them, not start a second set."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
import yaml
from ray import serve
from ray.serve._private.api import serve_start
from ray.serve.schema import ServeDeploySchema

from benchmarks.launched_up import free_port
from prip_ray.actors.factory import download_gateway_names, stop_download_gateways
from prip_ray.actors.names import SERVICE_HOST, shard_name
from prip_ray.config import Settings
from prip_ray.serve.app import basic_header
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.samples import SAMPLES_DIR, drop
from tests.waiting import wait_until

SERVE_CONFIG = Path(__file__).parents[2] / "cluster" / "serve-config.yaml"
SAMPLE = sorted(SAMPLES_DIR.glob("S2B_*.tar"))[0]
AUTH = basic_header("lta", "lta-password")


def _config_for(settings: Settings, config_file: Path) -> ServeDeploySchema:
    """cluster/serve-config.yaml as shipped, but on loopback and small enough for 2 CPUs."""
    document: dict[str, Any] = yaml.safe_load(SERVE_CONFIG.read_text())
    document["http_options"] = {"host": "127.0.0.1", "port": settings.api.port}
    (application,) = document["applications"]
    application["args"]["config_file"] = str(config_file)
    (deployment,) = application["deployments"]
    deployment["autoscaling_config"].update(min_replicas=1, max_replicas=1)
    deployment["ray_actor_options"]["num_cpus"] = 0.1
    return ServeDeploySchema.model_validate(document)


def _names(settings: Settings) -> list[str]:
    shards = [shard_name(i) for i in range(settings.ingest.shards)]
    gateways = download_gateway_names(settings.ray.namespace)
    return [*shards, SERVICE_HOST, *gateways]


def _actor_ids(settings: Settings) -> dict[str, str]:
    """The running PRIP actors by name (the check fails on one that is missing)."""
    namespace = settings.ray.namespace
    return {
        name: ray.get_actor(name, namespace=namespace)._actor_id.hex() for name in _names(settings)
    }


@pytest.fixture
def deployed(
    ray_settings: Settings, tmp_path: Path, built_components: BuildComponents
) -> Iterator[tuple[str, Settings]]:
    ray_settings.api.port = free_port()
    ray_settings.api.gateway_port = free_port()
    config_file = tmp_path / "prip.yaml"
    config_file.write_text(yaml.safe_dump(ray_settings.model_dump(mode="json")))
    components = built_components(ray_settings)
    components.migrate()
    components.users.add("lta", cheap_hash("lta-password"), "download")
    client = serve_start(http_options={"host": "127.0.0.1", "port": ray_settings.api.port})
    client.deploy_apps(_config_for(ray_settings, config_file))
    client._wait_for_application_running("prip", timeout_s=120)
    try:
        yield f"http://127.0.0.1:{ray_settings.api.port}/odata/v1/", ray_settings
        assert client.get_serve_status("prip").app_status.status == "RUNNING"
        ids = _actor_ids(ray_settings)
        client.deploy_apps(_config_for(ray_settings, config_file))  # as a RayService update
        client._wait_for_application_running("prip", timeout_s=120)
        assert _actor_ids(ray_settings) == ids, "a second deployment started a second PRIP"
    finally:
        serve.shutdown()
        for name in _names(ray_settings):  # detached: they outlive the test unless killed
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(name, namespace=ray_settings.ray.namespace))
        stop_download_gateways(ray_settings)  # any the supervisor restarted meanwhile


def test_serve_config_runs_the_whole_prip(deployed: tuple[str, Settings]) -> None:
    url, settings = deployed
    drop(SAMPLE, settings.inbox)  # the build task has ended: its actors must still ingest
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:

        def listed() -> list[dict[str, Any]]:
            response = client.get("Products", params={"$filter": f"Name eq '{SAMPLE.name}'"})
            return list(response.json()["value"]) if response.status_code == 200 else []

        wait_until(lambda: len(listed()) == 1, what="the sample to be published")
        (product,) = listed()
        assert len(download_gateway_names(settings.ray.namespace)) == 1  # one node, one
        redirect = client.get(f"Products({product['Id']})/$value")
        assert redirect.status_code == 307
        assert redirect.headers["location"].startswith(
            f"http://127.0.0.1:{settings.api.gateway_port}/"
        )
        download = client.get(f"Products({product['Id']})/$value", follow_redirects=True)
        assert download.status_code == 200 and download.content == SAMPLE.read_bytes()
