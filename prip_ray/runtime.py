"""``prip-ray up``: start everything on Ray, print where things are, stop cleanly on signal."""

from __future__ import annotations

import signal
import socket
import threading
from types import FrameType

from rich.console import Console

from prip_ray.actors.cluster import connect, disconnect, start_actors, stop_actors
from prip_ray.actors.factory import (
    gateway_addresses,
    start_download_gateways,
    stop_download_gateways,
)
from prip_ray.config import Settings, masked_url
from prip_ray.ingress import LOOPBACK, IngressChoice
from prip_ray.serve.deployment import deploy, replica_targets, undeploy
from prip_ray.serve.haproxy import HaproxyIngress, follow
from prip_ray.start_times import StartTimes


def run_until_signal(
    settings: Settings, console: Console, ingress: IngressChoice, times: StartTimes
) -> None:
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        console.print(f"\nreceived {signal.Signals(signum).name}, stopping")
        stop.set()

    # The operator's trusted proxies, before `choose_ingress` added HAProxy's own address.
    trusted = [t for t in settings.api.trusted_proxies if t != LOOPBACK]
    with times.step("Ray"):
        connect(settings)
    # After ray.init: Ray installs its own fatal-signal handler for SIGTERM, ours must win.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    # The API first: the first answer needs only Ray and the replicas, while the actors'
    # worker processes would compete with the replicas' for the CPU as they start.
    front: HaproxyIngress | None = None
    with times.step("Serve"):
        if ingress.kind == "haproxy":  # Serve's proxy on a port of its own, on loopback
            url = deploy(settings, proxy=(LOOPBACK, _free_port()))
        else:
            url = deploy(settings)
    if ingress.kind == "haproxy":
        with times.step("HAProxy"):
            front = HaproxyIngress(settings.api.host, settings.api.port, trusted)
            front.start(replica_targets(LOOPBACK))
            follow(front, lambda: replica_targets(LOOPBACK), stop)
    console.print(f"API answering after {times.elapsed():.1f} s")
    with times.step("actors"):
        actors = start_actors(settings)  # the gateway supervisor's host among them
        gateways = start_download_gateways(settings)
    for line in where_things_are(settings, url, gateway_addresses(gateways), ingress):
        console.print(line)
    console.print(times.summary())
    console.print("PRIP is up; Ctrl-C stops it.")
    try:
        stop.wait()
    finally:
        if front is not None:
            front.stop()
        undeploy()
        stop_actors(actors)  # the gateway supervisor first: it restarts gateways
        stop_download_gateways(settings)
        disconnect()
        console.print("PRIP stopped.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def where_things_are(
    settings: Settings, url: str, gateways: list[str], ingress: IngressChoice
) -> list[str]:
    """What ``up`` prints, the DB password masked: the terminal may be shared or logged."""
    front = "HAProxy" if ingress.kind == "haproxy" else "Serve's proxy"
    return [
        f"inbox:      {_inbox(settings)}",
        f"store:      {_store(settings)}",
        f"quarantine: {_quarantine(settings)}",
        f"database:   {masked_url(settings.db_url)}",
        f"OData API:  {url} (ingress: {front}; {ingress.why})",
        f"downloads:  {', '.join(gateways)} (one per node; $value redirects to one)",
        f"tokens:     {url.removesuffix('/odata/v1/')}/oauth2/token",
    ]


def _inbox(settings: Settings) -> str:
    s3 = settings.inbox_s3
    if s3 is None:
        return str(settings.inbox)
    return f"s3://{s3.bucket}/{s3.prefix} at {s3.endpoint_url or 'AWS'}"


def _quarantine(settings: Settings) -> str:
    s3 = settings.inbox_s3
    if s3 is None:
        return str(settings.quarantine)
    return f"s3://{s3.bucket}/{settings.inbox_quarantine_prefix} ({settings.quarantine} for files)"


def _store(settings: Settings) -> str:
    if settings.store.kind == "s3":
        s3 = settings.store.s3
        return f"s3://{s3.bucket}/{s3.prefix} at {s3.endpoint_url or 'AWS'}"
    return str(settings.store_root)
