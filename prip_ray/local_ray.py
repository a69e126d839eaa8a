"""Keep the embedded default's own Ray on loopback.

A local Ray binds its GCS, raylet (node and object manager), dashboard agent, runtime-env
agent, metrics exporters and workers to the node's routable address or to every interface,
and whoever reaches those ports can run code in the PRIP. ``ray.init(_node_ip_address=
"127.0.0.1")`` does not help: Ray turns a loopback address into the host's routable one
(``services.resolve_ip_for_localhost``) unless multi-node clusters are switched off, which
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` does (the name comes from the platforms where that is
the default). Then the node address is 127.0.0.1 and every component binds there, the
Prometheus exporters of the dashboard and the autoscaler included.

Ray reads the variable when it is imported, so it is set before anything imports Ray, and
only when this process starts Ray itself: a driver that joins a cluster (``ray.address``,
``RAY_ADDRESS``) must keep the address the cluster knows it by. This module imports no Ray.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

from prip_ray.config import Settings
from prip_ray.errors import ConfigurationError

LOOPBACK_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# Each API replica serves HTTP on a port of its own, for the HAProxy in front of them
# (prip_ray/serve/haproxy.py); a replica that stops drains 2 s, not 30: HAProxy follows
# the replicas every 0.5 s and retries what a closing one drops.
DIRECT_INGRESS = {
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
}


def starts_local_ray(settings: Settings, environ: MutableMapping[str, str]) -> bool:
    return not settings.ray.address and not environ.get("RAY_ADDRESS")


def keep_local_ray_on_loopback(
    settings: Settings, environ: MutableMapping[str, str] = os.environ
) -> bool:
    """Set the environment that keeps a Ray started by this process on loopback; returns
    whether it applies. An operator's own value of the variable wins (``=1``: bind the
    node's address, e.g. to let other machines join)."""
    if not starts_local_ray(settings, environ):
        return False
    missing = {name: value for name, value in LOOPBACK_ONLY.items() if name not in environ}
    if missing and environ is os.environ and "ray" in sys.modules:
        raise ConfigurationError("Ray was imported before its loopback settings could be set")
    environ.update(missing)
    return True


def enable_direct_ingress(
    settings: Settings, environ: MutableMapping[str, str] = os.environ
) -> None:
    """Replicas of a Ray this process starts listen on ports of their own (read by Serve's
    controller and replicas when they start, so set before Ray starts)."""
    if not starts_local_ray(settings, environ):
        raise ConfigurationError("direct ingress is set only for a Ray this process starts")
    if environ is os.environ and "ray" in sys.modules:
        raise ConfigurationError("Ray was imported before its ingress settings could be set")
    environ.update({k: v for k, v in DIRECT_INGRESS.items() if k not in environ})
