"""The ingestion and API metrics, exported through Ray (``ray.util.metrics``) to the
dashboard's Prometheus endpoint as ``ray_<name>``.

The HTTP app and the services take a metrics object, so they run without Ray (tests, CLI)
with ``NoMetrics``; the actors and Serve replicas hand them ``RayMetrics``. The singletons
(Tracer, HKTM forwarder, Roller, notifier, export, history cleaner) define their own few
metrics beside their loops; ``grafana/prip-ray.json`` shows them all.
"""

from __future__ import annotations

from typing import Any, Protocol

LATENCY_BOUNDARIES = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600]
REQUEST_BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]


def add(counter: Any, value: float, tags: dict[str, str] | None = None) -> None:
    """Add ``value`` to a Ray counter; Ray raises on an increment of 0, which an idle round
    of a singleton (nothing delivered, nothing failed) reports all the time."""
    if value > 0:
        counter.inc(value, tags=tags)


class Metrics(Protocol):
    def ingested(self, status: str, product_type: str, size: int, seconds: float) -> None: ...

    def qc_queue(self, shard: int, in_flight: int, waiting: int) -> None: ...

    def request(self, route: str, status: int, seconds: float) -> None: ...

    def downloaded(self, size: int) -> None: ...

    def quota_refused(self, route: str) -> None: ...


class NoMetrics:
    def ingested(self, status: str, product_type: str, size: int, seconds: float) -> None:
        pass

    def qc_queue(self, shard: int, in_flight: int, waiting: int) -> None:
        pass

    def request(self, route: str, status: int, seconds: float) -> None:
        pass

    def downloaded(self, size: int) -> None:
        pass

    def quota_refused(self, route: str) -> None:
        pass


class RayMetrics:
    """Built inside the process that records (an actor, a replica), never shipped."""

    def __init__(self) -> None:
        from ray.util.metrics import Counter, Gauge, Histogram

        self._products = Counter(
            "prip_ingest_products",
            "products through ingestion, by outcome and product type",
            tag_keys=("status", "product_type"),
        )
        self._bytes = Counter(
            "prip_ingest_bytes", "bytes published, by product type", tag_keys=("product_type",)
        )
        self._latency = Histogram(
            "prip_ingest_latency_seconds",
            "pick-up to publication (QC queue included), by product type",
            boundaries=LATENCY_BOUNDARIES,
            tag_keys=("product_type",),
        )
        self._in_flight = Gauge(
            "prip_qc_in_flight", "products in QC now, per shard", tag_keys=("shard",)
        )
        self._waiting = Gauge(
            "prip_qc_waiting", "ready inbox products not yet in QC, per shard", tag_keys=("shard",)
        )
        self._requests = Counter(
            "prip_api_requests", "API requests by route and status", tag_keys=("route", "status")
        )
        self._request_seconds = Histogram(
            "prip_api_request_seconds",
            "API request duration by route (to the first byte of streamed bodies)",
            boundaries=REQUEST_BOUNDARIES,
            tag_keys=("route",),
        )
        self._download_bytes = Counter("prip_download_bytes", "product bytes sent to users")
        self._refusals = Counter(
            "prip_quota_refusals", "requests refused by a quota (429)", tag_keys=("route",)
        )

    def ingested(self, status: str, product_type: str, size: int, seconds: float) -> None:
        tags = {"product_type": product_type}
        self._products.inc(tags={"status": status, **tags})
        if status == "published":
            add(self._bytes, size, tags)
            self._latency.observe(seconds, tags=tags)

    def qc_queue(self, shard: int, in_flight: int, waiting: int) -> None:
        self._in_flight.set(in_flight, tags={"shard": str(shard)})
        self._waiting.set(waiting, tags={"shard": str(shard)})

    def request(self, route: str, status: int, seconds: float) -> None:
        self._requests.inc(tags={"route": route, "status": str(status)})
        self._request_seconds.observe(seconds, tags={"route": route})

    def downloaded(self, size: int) -> None:
        add(self._download_bytes, size)

    def quota_refused(self, route: str) -> None:
        self._refusals.inc(tags={"route": route})
