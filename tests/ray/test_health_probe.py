"""The availability prober, as an actor on Ray, against the API served over HTTP: it records
good probes, keeps probing through a PRIP DB outage and records those failed probes once the
DB is back (an outage it could not write down still counts), and exports the KPI gauges the
alert rules read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ray

from prip_ray.actors.factory import start_service_host
from prip_ray.actors.names import HEALTH_PROBE
from prip_ray.config import ApiSettings, KpiSettings, Settings
from prip_ray.db.kpi import KpiRepository
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from tests.fixtures.components import BuildComponents
from tests.fixtures.postgres import PrivatePostgres
from tests.http_server import serving
from tests.ray.test_metrics_export import scrape
from tests.samples import GRANULE, drop, sample
from tests.waiting import wait_until


def test_probes_record_a_db_outage_and_export_kpis(
    ray_settings: Settings, private_pg: PrivatePostgres, built_components: BuildComponents
) -> None:
    settings = ray_settings.model_copy(
        update={"db": ray_settings.db.model_copy(update={"url": private_pg.url})}
    )
    components = built_components(settings)
    components.migrate()
    assert components.ingest.ingest(drop(sample(GRANULE), settings.inbox)).status == "published"
    window = (datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(hours=1))
    probes = KpiRepository(components.engine)
    with serving(create_app(api_services(components))) as api:
        prober = start_service_host(
            settings.model_copy(
                update={
                    "api": ApiSettings(probe_url=api.url, probe_interval_s=0.3),
                    "kpi": KpiSettings(metrics_interval_s=0.5, availability_target=0.999),
                }
            ),
            [HEALTH_PROBE],
        )
        try:
            wait_until(lambda: sum(ok for _, ok in probes.probes(*window)) >= 3, 60, "good probes")
            before = len(probes.probes(*window))
            private_pg.stop()
            outage_started = datetime.now(UTC)
            try:
                ray.get(prober.stats.remote(HEALTH_PROBE))  # the host lives on without its DB
                wait_until(
                    lambda: (datetime.now(UTC) - outage_started).total_seconds() > 2, 10, "2 s"
                )
            finally:
                private_pg.start()

            def outage_recorded() -> bool:
                during = [ok for at, ok in probes.probes(*window) if at >= outage_started]
                return len(during) >= 3 and not all(during) and during[-1]

            wait_until(outage_recorded, 60, "the outage's probes written once the DB is back")
            assert len(probes.probes(*window)) > before

            def exported() -> bool:
                text = scrape()
                return (
                    "ray_prip_kpi_availability_ratio" in text
                    and "ray_prip_kpi_breach{" in text
                    and "ray_prip_kpi_timeliness_seconds" in text
                    and any(
                        line.startswith("ray_prip_kpi_breach{")
                        and 'kpi="availability"' in line
                        and line.rstrip().endswith(" 1.0")
                        for line in text.splitlines()
                    )
                )

            wait_until(exported, 60, "the KPI gauges on the Prometheus endpoint")
        finally:
            ray.kill(prober)
