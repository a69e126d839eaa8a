"""prip-ray's metrics reach Ray's Prometheus endpoint (what the dashboard and Grafana read):
ingestion by outcome and product type, and the latency histogram."""

from __future__ import annotations

import urllib.request

import ray

from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from tests.samples import SAMPLES_DIR, drop
from tests.waiting import wait_until


def scrape() -> str:
    node = ray._private.worker.global_worker.node
    url = f"http://{node.node_ip_address}:{node.metrics_export_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_ingestion_metrics_are_exported(ray_settings: Settings) -> None:
    components = Components(ray_settings)
    components.migrate()
    shards = start_ingestion(ray_settings)
    try:
        for sample in sorted(SAMPLES_DIR.glob("S2B_*.tar")):
            drop(sample, ray_settings.inbox)
        wait_until(lambda: not any(ray_settings.inbox.iterdir()), 60, "the inbox to empty")

        def exported() -> bool:
            text = scrape()
            return (
                "ray_prip_ingest_products_total{" in text
                and 'product_type="MSI_L2A_TL"' in text
                and "ray_prip_ingest_latency_seconds_bucket" in text
                and "ray_prip_qc_in_flight" in text
            )

        wait_until(exported, 60, "the metrics on the Prometheus endpoint")
    finally:
        for shard in shards:
            ray.kill(shard)
        components.close()
