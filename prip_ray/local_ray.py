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
