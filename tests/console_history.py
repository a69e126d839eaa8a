"""A PRIP with a history the console can show, and the figures the tests expect from it.

The real Sentinel-2B samples and synthetic granules are ingested through the real
IngestService with known delays: a product's OriginDate is its inbox file's mtime (set with
``os.utime``) and its PublicationDate the service's clock (set per product). A corrupt tile
is quarantined, a subscription waits for events, and availability probes with one outage
are recorded. The sample granule has a PASSED OLQC report; no other product has one.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prip_ray.bootstrap import Components
from prip_ray.db.kpi import KpiRepository
from prip_ray.synthetic import make_product, write_olqc_report
from tests.cheap_passwords import cheap_hash
from tests.samples import DATASTRIP, GRANULE, TILE, drop, sample

# (stem, delay s, hours before now it was published)
SAMPLES = ((DATASTRIP, 300.0, 3), (GRANULE, 1234.0, 3), (TILE, 5400.0, 3))
# synthetic granules: (delay s, hours before now), one of them outside the last 24 h
SYNTHETIC = ((120.0, 50), (240.0, 20), (360.0, 14), (480.0, 8), (600.0, 5), (720.0, 1))
PROBE_EVERY = timedelta(minutes=10)
PROBE_SPAN = timedelta(hours=30)
OUTAGE = (timedelta(hours=6), 3)  # starts 6 h before now, 3 failed probes in a row
# what a console that expects OLQC reports of the Level-0 products is set to (immediately)
OLQC_EXPECTED = {"olqc_types": ["MSI_L0__GR", "MSI_L0__DS"], "olqc_grace_s": 0}
CORRUPT = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMX_N05.11.tar"
ADMIN = ("ops", "ops-pw")
DOWNLOADER = ("dana", "dana-pw")


@dataclass
class History:
    now: datetime
    published: dict[str, datetime] = field(default_factory=dict)  # product type: newest
    granule_delays_24h: list[float] = field(default_factory=list)
    unreported: list[str] = field(default_factory=list)  # Level-0 names without OLQC report
    published_24h: int = 0  # products published in the last 24 h
    probes: int = 0
    failed_probes: int = 0


def _ingest(components: Components, source: Path, delay: float, published: datetime) -> str:
    """The product's name, once published."""
    inbox = components.settings.inbox
    path = drop(source, inbox)
    origin = (published - timedelta(seconds=delay)).timestamp()
    os.utime(path, (origin, origin))
    service = components.ingest
    service.clock = lambda: published
    outcome = service.ingest(path)
    assert outcome.status == "published", outcome.reason
    return path.name


def build_history(components: Components, now: datetime, work: Path) -> History:
    history = History(now)
    components.users.add(ADMIN[0], cheap_hash(ADMIN[1]), "admin")
    components.users.add(DOWNLOADER[0], cheap_hash(DOWNLOADER[1]), "download")
    components.subscriptions.create(
        owner=ADMIN[0], event="created", filter_param="startswith(Name,'S2B')",
        endpoint="https://receiver.example/notify", username=None, sealed_password=None, now=now,
    )  # fmt: skip
    for stem, delay, hours in SAMPLES:
        name = _ingest(components, sample(stem), delay, now - timedelta(hours=hours))
        history.published_24h += hours < 24
        if stem == GRANULE:
            history.granule_delays_24h.append(delay)
        if stem == DATASTRIP:
            history.unreported.append(name)
    work.mkdir(parents=True, exist_ok=True)
    report = write_olqc_report(work, GRANULE, "PASSED")
    _ingest(components, report, 60.0, now - timedelta(hours=2))
    history.published_24h += 1
    start = datetime(2025, 8, 2, 7, 0, tzinfo=UTC)
    for index, (delay, hours) in enumerate(SYNTHETIC):
        product = make_product(work, "granule", index, 1024, start)
        name = _ingest(components, product.path, delay, now - timedelta(hours=hours))
        history.unreported.append(name)
        history.published_24h += hours < 24
        if hours < 24:
            history.granule_delays_24h.append(delay)
    components.ingest.clock = lambda: datetime.now(UTC)
    corrupt = work / CORRUPT
    corrupt.write_bytes(b"not a tar")
    assert components.ingest.ingest(drop(corrupt, components.settings.inbox)).status == "rejected"
    probes = KpiRepository(components.engine)
    outage_start = now - OUTAGE[0]
    at = now - PROBE_SPAN + PROBE_EVERY / 2  # clear of the window's edges
    while at < now:
        ok = not (outage_start <= at < outage_start + PROBE_EVERY * OUTAGE[1])
        probes.record_probe(at, ok, 0.02, None if ok else "connection refused")
        history.probes += at >= now - timedelta(hours=24)
        history.failed_probes += not ok
        at += PROBE_EVERY
    shutil.rmtree(work, ignore_errors=True)
    return history
