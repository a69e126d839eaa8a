"""``prip-ray up``: start everything on Ray, print where things are, stop cleanly on signal."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from rich.console import Console

from prip_ray.actors.cluster import connect, disconnect, start_actors, stop_actors
from prip_ray.actors.factory import (
    gateway_addresses,
    start_download_gateways,
    start_gateway_supervisor,
    stop_download_gateways,
)
from prip_ray.config import Settings, masked_url
from prip_ray.serve.deployment import deploy, undeploy


def run_until_signal(settings: Settings, console: Console) -> None:
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        console.print(f"\nreceived {signal.Signals(signum).name}, stopping")
        stop.set()

    connect(settings)
    # After ray.init: Ray installs its own fatal-signal handler for SIGTERM, ours must win.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    shards = start_actors(settings)
    gateways = start_download_gateways(settings)
    supervisor = start_gateway_supervisor(settings)
    url = deploy(settings)
    for line in where_things_are(settings, url, gateway_addresses(gateways)):
        console.print(line)
    console.print("PRIP is up; Ctrl-C stops it.")
    try:
        stop.wait()
    finally:
        undeploy()
        stop_actors([*shards, supervisor])  # the supervisor first: it restarts gateways
        stop_download_gateways(settings)
        disconnect()
        console.print("PRIP stopped.")


def where_things_are(settings: Settings, url: str, gateways: list[str]) -> list[str]:
    """What ``up`` prints, the DB password masked: the terminal may be shared or logged."""
    return [
        f"inbox:      {_inbox(settings)}",
        f"store:      {_store(settings)}",
        f"quarantine: {_quarantine(settings)}",
        f"database:   {masked_url(settings.db_url)}",
        f"OData API:  {url}",
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
