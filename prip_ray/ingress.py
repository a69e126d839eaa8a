"""Which ingress ``prip-ray up`` puts on the API address, decided before Ray starts.

``api.ingress: haproxy`` (the default) runs HAProxy in front of the replicas' own ports
(``prip_ray/serve/haproxy.py``); it needs each replica to serve HTTP itself, which Serve
reads from the environment when its processes start, so only a Ray this process starts can
have it. Otherwise, or when HAProxy cannot run here, Serve's Python proxy takes the address,
and ``up`` says why. This module imports no Ray.
"""

from __future__ import annotations

import os
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Literal

from prip_ray.config import Settings
from prip_ray.local_ray import enable_direct_ingress, starts_local_ray
from prip_ray.serve.haproxy import HaproxyIngress, HaproxyUnavailable

LOOPBACK = "127.0.0.1"  # HAProxy's address as the replicas see it


@dataclass(frozen=True)
class IngressChoice:
    kind: Literal["haproxy", "serve"]
    why: str


def choose_ingress(
    settings: Settings, environ: MutableMapping[str, str] = os.environ
) -> IngressChoice:
    """Decide, and prepare the environment and settings for it."""
    if settings.api.ingress == "serve":
        return IngressChoice("serve", "api.ingress = serve")
    if not starts_local_ray(settings, environ):
        return IngressChoice(
            "serve",
            "HAProxy runs only in front of a Ray `up` starts itself; a cluster sets "
            "RAY_SERVE_ENABLE_HA_PROXY (kuberay/ray-service.yaml)",
        )
    try:
        probe = HaproxyIngress(settings.api.host, settings.api.port)
        try:
            probe.check()
        finally:
            probe.stop()
    except HaproxyUnavailable as e:
        return IngressChoice("serve", f"HAProxy cannot start here ({e})")
    enable_direct_ingress(settings, environ)
    # The replicas' peer is HAProxy, which writes the client's address into
    # X-Forwarded-For: believed, so the failed-login throttle counts real clients.
    if LOOPBACK not in settings.api.trusted_proxies:
        settings.api.trusted_proxies = [*settings.api.trusted_proxies, LOOPBACK]
    return IngressChoice("haproxy", "api.ingress = haproxy")


def taken_ports(settings: Settings) -> list[int]:
    """The API and gateway ports something else listens on already (another PRIP, say):
    ``up`` refuses to start rather than share or fail halfway."""
    api = settings.api
    gateway = api.port + 1 if api.gateway_port is None else api.gateway_port
    return [port for port in (api.port, gateway) if port and not _free(api.host, port)]


def _free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
