"""GatewaySupervisor: gives every node its download gateway, nodes that join included.

`prip-ray up` and the Serve app builder start the gateways of the nodes there are; nodes
come and go afterwards (KubeRay's autoscaler, a replaced pod). Every ``RECONCILE_EVERY_S``
this service starts a gateway on each alive node that has none; a node's gateway that
crashed is restarted by Ray itself, and a dead node's gateway is gone with it. It runs in the
service host (``actors/service_host.py``, one per cluster) but holds no lease, unlike the
other services there: starting an actor that already runs only finds it, and each cluster
of an upgrade must give its own nodes their gateways, which a lease shared through the PRIP
DB would stop.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from prip_ray.actors.factory import start_download_gateways
from prip_ray.config import Settings

log = logging.getLogger(__name__)

RECONCILE_EVERY_S = 5.0


class GatewaySupervisor:
    def __init__(self, settings: Settings, interval_s: float = RECONCILE_EVERY_S):
        self._settings = settings
        self._interval = interval_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.rounds = 0
        self._thread = threading.Thread(target=self._loop, name="gateway-supervisor", daemon=True)
        self._thread.start()

    def reconcile(self) -> int:
        """Start the gateways that are missing; returns how many nodes have one."""
        return len(start_download_gateways(self._settings, wait=False))

    def wake(self) -> None:
        self._wake.set()

    def run_now(self) -> Any:
        return self.reconcile()

    def stats(self) -> dict[str, Any]:
        return {"rounds": self.rounds}

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except Exception:  # Ray may be busy losing a node: the next round tries again
                log.exception("download gateway reconciliation failed")
            self.rounds += 1
            self._wake.wait(self._interval)
            self._wake.clear()
