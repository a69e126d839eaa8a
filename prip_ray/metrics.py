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


class KpiGauges:
    """The KPIs of the last window against their targets, as gauges the alert rules read
    (grafana/prip-ray-alerts.yaml). Set by the availability prober, one per PRIP; built
    inside it, never shipped."""

    def __init__(self, gauge: Any = None) -> None:
        """``gauge``: the Gauge class (Ray's unless a test hands another)."""
        if gauge is None:
            from ray.util.metrics import Gauge as gauge

        Gauge = gauge  # named as Ray names it: the dashboard test finds Gauge("prip_...")
        by_type = ("product_type",)
        self._p95 = Gauge(
            "prip_kpi_timeliness_seconds", "p95 publication delay of the window", tag_keys=by_type
        )
        self._p95_target = Gauge(
            "prip_kpi_timeliness_target_seconds", "p95 delay allowed", tag_keys=by_type
        )
        self._completeness = Gauge(
            "prip_kpi_completeness_ratio", "share of received products published"
        )
        self._completeness_target = Gauge("prip_kpi_completeness_target", "its target")
        self._availability = Gauge(
            "prip_kpi_availability_ratio", "share of user-journey probes that succeeded"
        )
        self._availability_target = Gauge("prip_kpi_availability_target", "its target")
        self._breach = Gauge(
            "prip_kpi_breach", "1 while a KPI misses its target", tag_keys=("kpi", "subject")
        )
        self._breached: set[tuple[str, str]] = set()

    def timeliness(self, product_type: str, p95_s: float, target_s: float) -> None:
        tags = {"product_type": product_type}
        self._p95.set(p95_s, tags=tags)
        self._p95_target.set(target_s, tags=tags)

    def ratios(
        self,
        completeness: tuple[float | None, float],
        availability: tuple[float | None, float],
    ) -> None:
        """(measured, target) of each; nothing measured leaves the last value alone."""
        if completeness[0] is not None:
            self._completeness.set(completeness[0])
        self._completeness_target.set(completeness[1])
        if availability[0] is not None:
            self._availability.set(availability[0])
        self._availability_target.set(availability[1])

    def breaches(self, breached: set[tuple[str, str]]) -> None:
        """(kpi, subject) of the KPIs missing their target now; the others back to 0."""
        for kpi in ("completeness", "availability"):
            breached_now = (kpi, "all") in breached
            self._breach.set(1 if breached_now else 0, tags={"kpi": kpi, "subject": "all"})
        for kpi, subject in breached | self._breached:
            if kpi == "timeliness":
                value = 1 if (kpi, subject) in breached else 0
                self._breach.set(value, tags={"kpi": kpi, "subject": subject})
        self._breached = set(breached)
