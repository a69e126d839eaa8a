"""The ingresses the benchmarks compare, from the product's own code.

``haproxy``: what ``prip-ray up`` runs by default, prip_ray/serve/haproxy.py's HAProxy on
loopback in front of Serve's direct-ingress replicas (``RAY_SERVE_ENABLE_DIRECT_INGRESS=1``,
set before Ray starts). ``ray-haproxy``: Serve's own HAProxy mode
(``RAY_SERVE_ENABLE_HA_PROXY=1``, what kuberay/ray-service.yaml sets), whose stats and
metrics ports bind every interface, so it runs in a network namespace of its own.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from prip_ray.local_ray import DIRECT_INGRESS
from prip_ray.serve.haproxy import HaproxyIngress

DIRECT_INGRESS_ENV = DIRECT_INGRESS
RAY_HAPROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1"}  # what kuberay/ray-service.yaml sets


def require_own_network_namespace() -> None:
    """Serve's HAProxy mode binds its stats and metrics ports to every interface: allowed
    here only where loopback is the only interface (``unshare -n``)."""
    interfaces = {name for _, name in socket.if_nameindex()}
    if interfaces != {"lo"}:
        raise SystemExit(
            "--ingress ray-haproxy binds ports on every interface: run it in a network "
            "namespace of its own (see the docstring of benchmarks/odata.py); "
            f"interfaces here: {sorted(interfaces)}"
        )


@contextmanager
def loopback_haproxy(host: str) -> Iterator[str]:
    """The product's HAProxy on a free port of ``host`` over the running replicas of the
    ``prip`` app, following them; yields its base URL."""
    from prip_ray.serve.deployment import replica_targets
    from prip_ray.serve.haproxy import follow

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    ingress = HaproxyIngress(host, port)
    stop = threading.Event()
    try:
        ingress.start(replica_targets(host))
        follow(ingress, lambda: replica_targets(host), stop)
        yield ingress.url
    finally:
        stop.set()
        ingress.stop()
