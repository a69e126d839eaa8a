"""HealthProbeActor: probes the API's /health every ``api.probe_interval_s`` and records
each probe in the PRIP DB, where the availability KPI is computed from. A singleton under a
DB lease (one prober per PRIP, whichever cluster holds it)."""

from __future__ import annotations

import logging
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from ray.util.metrics import Gauge

from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.leases import LeaseRepository

log = logging.getLogger(__name__)
HEALTH_PROBE = "prip-health-probe"
KEEP = timedelta(days=400)  # a year of availability, and a bit


def probe_url(settings: Settings) -> str:
    api = settings.api
    host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    return api.probe_url or f"http://{host}:{api.port}/health"


class HealthProbeActor:
    def __init__(self, settings: Settings):
        components = Components(settings)
        self._kpi = KpiRepository(components.engine)
        self._url = probe_url(settings)
        self._timeout = min(10.0, settings.api.probe_interval_s)
        self._up = Gauge("prip_api_up", "1 if the last health probe of the API succeeded")
        self._purged_at = 0.0
        self._loop = ServiceLoop(
            HEALTH_PROBE,
            LeaseRepository(components.engine),
            ttl_s=max(settings.lease.ttl_s, 3 * settings.api.probe_interval_s),
            interval_s=settings.api.probe_interval_s,
            work=self._probe,
        )

    def stop(self) -> None:
        self._loop.stop()

    def _probe(self) -> int:
        started = time.monotonic()
        ok, detail = True, None
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as response:
                response.read(1024)
        except Exception as e:  # any failure is the API being unavailable to its users
            ok, detail = False, str(e)[:500]
        now = datetime.now(UTC)
        self._kpi.record_probe(now, ok, time.monotonic() - started, detail)
        self._up.set(1 if ok else 0)
        if not ok:
            log.warning("health probe of %s failed: %s", self._url, detail)
        if started - self._purged_at > 86400:
            self._purged_at = started
            self._kpi.purge_probes(now - KEEP)
        return 0  # wait the interval before the next probe
