"""The OData API as a Ray Serve application: ``app_builder(args) -> Application``.

Works with ``serve run prip_ray.serve.deployment:app_builder`` and with a Serve config file
(``import_path: prip_ray.serve.deployment:app_builder``, ``args: {config_file: ...}``). Each
replica builds its own engine and store client from settings, in its own process.

With ``args: {start_actors: true}`` (the RayService of kuberay/) the builder also starts the
rest of the PRIP on the cluster: ingestion shards, singletons and a download gateway on every
node, as detached named actors found again, not doubled, when the application is deployed
once more. Each replica finds the gateways through Ray (actors/gateway_directory.py).
"""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path
from typing import Any

import ray
from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from prip_ray.actors.cluster import start_actors
from prip_ray.actors.factory import start_download_gateways
from prip_ray.actors.gateway_directory import GatewayDirectory
from prip_ray.bootstrap import Components
from prip_ray.config import Settings, load_settings
from prip_ray.metrics import RayMetrics
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from prip_ray.services.kpi import KpiService

log = logging.getLogger(__name__)
APP_NAME = "prip"


class ODataReplica:
    """One replica of the API; the FastAPI app is built here, on the replica."""

    def __init__(self, settings: Settings):
        self._components = Components.for_api(settings)

    def __serve_build_asgi_app__(self) -> FastAPI:
        services = api_services(self._components)
        services.metrics = RayMetrics()
        services.gateways = GatewayDirectory(self._components.settings.ray.namespace)
        app = create_app(services)
        # Everything built so far lives as long as the replica: frozen, the cyclic garbage
        # collector stops walking it, which took ~100 ms per full collection here.
        gc.collect()
        gc.freeze()
        if services.kpi is not None:
            warm = threading.Thread(target=_warm, args=(services.kpi,), name="kpi-warm")
            warm.daemon = True
            warm.start()
        return app


def _warm(kpi: KpiService) -> None:
    """The console's month read before an operator asks for it; a DB away only means the
    first request reads it instead."""
    try:
        kpi.warm()
    except Exception:
        log.warning(
            "KPI warm-up failed; the first console request will read the month", exc_info=True
        )


def autoscaling_config(settings: Settings) -> dict[str, Any]:
    """Serve autoscaling from settings; a Serve config file may override it per deployment."""
    api = settings.api
    return {
        "min_replicas": api.min_replicas,
        "max_replicas": api.max_replicas,
        "target_ongoing_requests": api.target_ongoing_requests,
        "upscale_delay_s": api.upscale_delay_s,
        "downscale_delay_s": api.downscale_delay_s,
    }


def odata_application(settings: Settings) -> Application:
    api = settings.api
    deployment = serve.deployment(
        name="odata",
        autoscaling_config=autoscaling_config(settings),
        ray_actor_options={"num_cpus": api.replica_cpus},
        max_ongoing_requests=32,
    )(serve.ingress()(ODataReplica))
    return deployment.bind(settings)


def app_builder(args: dict[str, Any]) -> Application:
    config_file = args.get("config_file")
    settings = load_settings(Path(config_file) if config_file else None)
    if args.get("start_actors"):
        start_prip_actors(settings)
    return odata_application(settings)


def start_prip_actors(settings: Settings) -> None:
    """Everything but the API, from inside Serve's build task: the actors must outlive that
    task, hence detached whatever the settings say."""
    settings.ray.detached = True
    start_actors(settings)
    start_download_gateways(settings)


def deploy(settings: Settings, proxy: tuple[str, int] | None = None) -> str:
    """Run the API on the connected Ray cluster; returns its base URL. ``proxy`` puts
    Serve's proxy (and the replicas' direct ingress) elsewhere than the API address, which
    an ingress in front of the replicas then takes."""
    api = settings.api
    host, port = proxy or (api.host, api.port)
    serve.start(http_options={"host": host, "port": port})
    serve.run(odata_application(settings), name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{api.host}:{api.port}/odata/v1/"


def replica_targets(host: str) -> list[tuple[str, int]]:
    """The (``host``, port) of every running replica's own HTTP server (Serve's direct
    ingress); Serve's proxy instead while no replica runs or direct ingress is off. Serve
    names the node's address, but the servers bind where Serve's HTTP options say
    (``deploy(proxy=...)``): ``host``, loopback on the embedded default."""
    from ray.serve.context import _get_global_client

    client = _get_global_client()
    if client is None:
        raise RuntimeError("Serve is not running")
    groups = ray.get(client._controller.get_target_groups.remote(APP_NAME), timeout=10)
    return sorted({(host, t.port) for g in groups if g.protocol == "HTTP" for t in g.targets})


def undeploy() -> None:
    serve.shutdown()
