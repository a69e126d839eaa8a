"""DownloadGatewayActor: runs a download gateway (an ASGI server) inside a Ray actor.

One per node (actors/factory.py places and names them; actors/gateway_supervisor.py adds
one to a node that joins), each reading from the shared object store, so downloads have no
single point of failure and scale with the nodes. uvicorn runs in a thread of the actor,
bound to ``api.host`` and ``api.gateway_port``; the actor starts, reports and stops it. Its
``address`` is the URL a client on the network uses: the node's IP when it binds every
interface, the bound port when the port was left to the system (0).
"""

from __future__ import annotations

import threading
import time

import ray
import uvicorn

from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.metrics import RayMetrics
from prip_ray.serve.gateway import create_gateway_app
from prip_ray.serve.wiring import api_services

WILDCARDS = {"", "0.0.0.0", "::"}


def gateway_port(settings: Settings) -> int:
    port = settings.api.gateway_port
    return settings.api.port + 1 if port is None else port


class DownloadGatewayActor:
    def __init__(self, settings: Settings):
        services = api_services(Components(settings))
        services.metrics = RayMetrics()
        app = create_gateway_app(services)
        host, port = settings.api.host, gateway_port(settings)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="gateway", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.05)
        if not self._server.started:
            raise RuntimeError(f"download gateway did not start on {host}:{port}")
        bound = self._server.servers[0].sockets[0].getsockname()[1]
        public = ray.util.get_node_ip_address() if host in WILDCARDS else host
        self._address = f"http://{f'[{public}]' if ':' in public else public}:{bound}"

    def ready(self) -> bool:
        return bool(self._server.started)

    def address(self) -> str:
        """The gateway's base URL, e.g. ``http://10.1.2.3:8001``."""
        return self._address

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
