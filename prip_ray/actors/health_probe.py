"""HealthProbe: every ``api.probe_interval_s``, does what a user does (an authenticated
search through the ingress, a read of a product's first bytes from the store; see
services/probe.py) and records the probe in the PRIP DB, where the availability KPI is
computed from. It also sets the ``prip_kpi_*`` gauges of the last window. A singleton
under a DB lease (one prober per PRIP, whichever cluster holds it), run by the service host
(``actors/service_host.py``) beside the other singletons.

A probe runs whether or not the DB answers: the DB being away is an outage to record. So
the probes are made by a prober thread of their own, beside the service loop that writes
them down; they wait in memory until the DB takes them again; only the lease holder keeps them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from ray.util.metrics import Gauge

from prip_ray.actors.names import HEALTH_PROBE
from prip_ray.actors.service_loop import ServiceLoop
from prip_ray.bootstrap import Components
from prip_ray.config import Settings
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.leases import LeaseRepository
from prip_ray.domain.passwords import hash_password
from prip_ray.domain.users import User
from prip_ray.errors import ProductNotFound
from prip_ray.metrics import KpiGauges
from prip_ray.services.probe import ProbeResult, UserJourneyProbe

log = logging.getLogger(__name__)
KEEP = timedelta(days=400)  # a year of availability, and a bit
ROLLED_UP = timedelta(days=31)
PENDING = 10_000  # probes kept while the DB is away: three and a half days at 30 s


def probe_url(settings: Settings) -> str:
    api = settings.api
    host = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    return api.probe_url or f"http://{host}:{api.port}"


class HealthProbe:
    def __init__(self, settings: Settings, components: Components):
        self._settings = settings
        self._components = components
        self._kpi = KpiRepository(components.engine)
        self._figures = components.kpi()  # one service: it keeps the past hours it read
        self._user: User | None = None
        self._probe = UserJourneyProbe(
            probe_url(settings),
            self._token,
            self._locate,
            components.store,
            timeout_s=min(10.0, settings.api.probe_interval_s),
        )
        self._pending: deque[tuple[datetime, ProbeResult]] = deque(maxlen=PENDING)
        self._up = Gauge("prip_api_up", "1 if the last probe of the user journey succeeded")
        self._gauges = KpiGauges()
        self._purged_at = self._gauges_at = 0.0
        self._stop = threading.Event()
        self._loop = ServiceLoop(
            HEALTH_PROBE,
            LeaseRepository(components.engine),
            ttl_s=max(settings.lease.ttl_s, 3 * settings.api.probe_interval_s),
            interval_s=settings.api.probe_interval_s,
            work=self._record,
        )
        self._prober = threading.Thread(target=self._probing, name="probe", daemon=True)
        self._prober.start()

    def wake(self) -> None:
        self._loop.wake()

    def run_now(self) -> Any:
        """One probe at once, kept like the prober's; whether it succeeded (None while
        another cluster holds the lease)."""
        if not self._loop.hold():
            return None
        return self._keep(self._probe.probe())

    def stats(self) -> dict[str, Any]:
        return {
            "holding": self._loop.holding,
            "rounds": self._loop.rounds,
            "pending": len(self._pending),
        }

    def alive(self) -> bool:
        return self._loop.alive() and self._prober.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._prober.join(30)
        self._loop.stop()

    def _probing(self) -> None:
        while not self._stop.wait(self._settings.api.probe_interval_s):
            if not self._loop.holding:  # the last the lease said; kept while the DB is away
                continue
            self._keep(self._probe.probe())

    def _keep(self, result: ProbeResult) -> bool:
        self._pending.append((datetime.now(UTC), result))
        self._up.set(1 if result.ok else 0)
        if not result.ok:
            log.warning("availability probe failed: %s", result.detail)
        self._loop.wake()
        return result.ok

    def _record(self) -> int:
        """The lease holder's round: the probes kept so far go to the DB."""
        batch = list(self._pending)
        rows = [(at, r.ok, r.seconds, r.detail) for at, r in batch]
        self._kpi.record_probes(rows)
        for _ in batch:
            self._pending.popleft()
        now = time.monotonic()
        if now - self._purged_at > 86400:
            self._purged_at = now
            self._kpi.purge_probes(datetime.now(UTC) - KEEP)
        if now - self._gauges_at > self._settings.kpi.metrics_interval_s:
            self._gauges_at = now
            self._set_gauges()
        return 0  # wait the interval (or the next probe) before the next round

    def _set_gauges(self) -> None:
        until = datetime.now(UTC)
        # the console's longest period rolled up ahead of it (once; then only the new hours)
        self._figures.roll_up(until - ROLLED_UP, until)
        since = until - timedelta(hours=self._settings.kpi.metrics_window_h)
        figures = self._figures.figures(since, until)
        targets = figures.targets
        for t in figures.timeliness:
            self._gauges.timeliness(t.product_type, t.p95_s, targets.timeliness_of(t.product_type))
        self._gauges.ratios(
            (figures.completeness_ratio, targets.completeness),
            (figures.availability.ratio, targets.availability),
        )
        self._gauges.breaches({(b.kpi, b.subject) for b in figures.breaches})

    def _token(self) -> str:
        return self._components.tokens.issue(self._probe_user()).access_token

    def _probe_user(self) -> User:
        """The probe's own catalogue user, created with a password nobody knows: it signs
        in with tokens only."""
        if self._user is None:
            users, name = self._components.users, self._settings.api.probe_user
            self._user = users.get(name) or users.add(
                name,
                hash_password(secrets.token_urlsafe(32), n=self._settings.auth.scrypt_n),
                "catalogue",
            )
        return self._user

    def _locate(self, product_id: UUID) -> str | None:
        try:
            return self._components.products.get(product_id).object_key
        except ProductNotFound:
            return None
