"""DownloadGatewayActor: runs the download gateway (an ASGI server) inside a Ray actor.

One per node is the intended shape on a cluster (each node's gateway reads from the shared
object store); `prip-ray up` starts one. uvicorn runs in a thread of the actor, bound to the
configured host and port; the actor only starts, reports and stops it.
"""

from __future__ import annotations

import threading
import time

import uvicorn

from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.metrics import RayMetrics
from prip_ray.serve.gateway import create_gateway_app


class DownloadGatewayActor:
    def __init__(self, settings: Settings, port: int):
        services = Components(settings).api_services()
        services.metrics = RayMetrics()
        app = create_gateway_app(services)
        config = uvicorn.Config(
            app, host=settings.api.host, port=port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="gateway", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.05)
        if not self._server.started:
            raise RuntimeError(f"download gateway did not start on {settings.api.host}:{port}")

    def ready(self) -> bool:
        return bool(self._server.started)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
