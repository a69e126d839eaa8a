"""The rows a stretch of the seed's day leaves in the PRIP DB, for benchmarks/table_sizes.py.

Products are made as benchmarks/day_mix.py drops them (granules, tiles, HKTM dumps, OLQC
reports in the seed's proportions) and read by ingestion's own inspection
(services/inspect.py), so attributes, checksums, footprints, trace digests and package
listings (``product_nodes``) are those ingestion writes. Around each product, what the
services add in its life: its ``created`` and ``deleted`` outbox events, the Tracer's two
signed traces (the HKTM forwarder's delivery for a dump), its DeletedProducts copy, its
downloads, and, for a report, its tally in ``olqc_outcomes``. Payloads are written tiny
(``byte_scale``): sizes only change numbers in the rows, and ``content_length`` keeps the
real size drawn.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from benchmarks import day_mix
from prip_ray.config import IngestSettings
from prip_ray.db.rows import attribute_rows, digests_row, listing_row, product_row
from prip_ray.domain.olqc import GLOBAL_STATUS, INSPECTED_PRODUCT
from prip_ray.domain.product_types import default_registry
from prip_ray.domain.products import RETENTION_EXPIRED, Product
from prip_ray.domain.qc import QcPolicy
from prip_ray.domain.retention import parse_duration
from prip_ray.domain.traces import build_trace, trace_product
from prip_ray.security.signing import TraceSigner
from prip_ray.services.inspect import inspect_package
from prip_ray.synthetic import granule_name

SEED_ITEMS_PER_DAY = day_mix.items_per_day()  # 650k: 150k products + 500k reports
BYTE_SCALE = 1e-6  # payloads written: a granule's 18 MB becomes 18 bytes
RETENTION = parse_duration(IngestSettings().retention) or timedelta(days=7)
DOWNLOADERS = ("lta", "das-1", "das-2", "das-3")  # who picks products up, in turn


@dataclass
class Assumptions:
    """What the seed does not say, stated with the figures."""

    downloads_per_item: float = 2.0  # LTA takes everything, one DAS a copy of each
    active_users: int = 50  # request counters: rows per (user, minute) with requests
    probe_interval_s: float = 30.0  # api.probe_interval_s
    quarantined_share: float = 0.001  # deliveries refused by QC
    delay_s: float = 600.0  # median sensing -> publication delay (KPI rollups)


@dataclass
class DayRows:
    """Rows per table, dicts keyed by column name, as the services write them."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, *rows: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).extend(rows)


def publication_time(position: int) -> datetime:
    """Item ``position`` of the day, published at the seed's steady rate."""
    return day_mix.DAY_START + timedelta(seconds=position * 86_400 / SEED_ITEMS_PER_DAY)


class DayOfRows:
    """Makes the rows of the day's items, ``batch`` items at a time."""

    def __init__(self, assumptions: Assumptions, seed: int = 16):
        self._assume = assumptions
        self._mix = day_mix.DayMix(seed)
        self._rng = random.Random(seed)
        self._signer = _signer()
        self._registry = default_registry()
        self._policy = QcPolicy()
        self._seq = 0
        self._delivery = 0
        self._downloads = 0.0  # downloads owed (the rate may be fractional)
        self._downloaded = 0
        self.tallies: dict[str, list[int]] = {}  # inspected -> [passed, failed, errors]
        self.member_bytes = 0  # JSON bytes of one tar member's entry in a trace's contents

    def rows(self, first: int, count: int) -> DayRows:
        out = DayRows()
        with tempfile.TemporaryDirectory(prefix="prip-sizing-") as scratch:
            for position in range(first, first + count):
                self._item(Path(scratch), position, out)
        return out

    def _item(self, scratch: Path, position: int, out: DayRows) -> None:
        kind, index, real_bytes = self._mix.next()
        scale = 1.0 if kind.label == "olqc" else BYTE_SCALE  # a report's checks are its size
        dropped = day_mix.drop(scratch, kind, index, real_bytes, scale)
        source = scratch / dropped.name
        published = publication_time(position)
        origin = published - timedelta(
            seconds=self._rng.lognormvariate(0, 0.5) * self._assume.delay_s
        )
        inspection = inspect_package(
            source, dropped.name, registry=self._registry, policy=self._policy,
            origin_date=origin, now=published, trace_algorithm="BLAKE3",
        )  # fmt: skip
        source.unlink()
        product = _product(inspection.metadata, published, real_bytes)
        out.add("products", product_row(product))
        out.add("attributes", *attribute_rows(product))
        evicted = product.eviction_date
        deleted = product_row(product) | {"online": False, "object_key": "",
                                          "modification_date": evicted}  # fmt: skip
        out.add("deleted_products", deleted | {"deletion_date": evicted,
                                               "deletion_cause": RETENTION_EXPIRED})  # fmt: skip
        out.add("deleted_attributes", *attribute_rows(product))
        body = None
        if inspection.digests is not None:
            out.add("trace_digests", digests_row(product.id, inspection.digests))
            body = trace_product(product.name, inspection.digests)
            if inspection.digests.contents:
                self.member_bytes = len(json.dumps(inspection.digests.contents[-1]))
        if inspection.listing is not None:
            out.add("product_nodes", listing_row(product.id, inspection.listing))
        for event, when in (("created", published), ("deleted", evicted)):
            self._events(product, event, when, body, out)
        self._download(product, published, out)
        if kind.label == "olqc":
            self._tally(product)

    def _events(
        self, product: Product, event: str, when: datetime, body: Any, out: DayRows
    ) -> None:
        self._seq += 1
        out.add("outbox", {"seq": self._seq, "product_id": product.id, "event": event,
                           "created_at": when})  # fmt: skip
        trace = build_trace(body, "CREATE" if event == "created" else "DELETE", "BLAKE3",
                            self._signer.sign) if body is not None else None  # fmt: skip
        self._deliver("trace", product, event, when, trace, out)
        if product.product_type == "PRD_HKTM__" and event == "created":
            fos = {"path": product.name, "found_at_fos": False}
            self._deliver("hktm", product, event, when, fos, out)

    def _deliver(
        self, channel: str, product: Product, event: str, when: datetime, detail: Any,
        out: DayRows,
    ) -> None:  # fmt: skip
        self._delivery += 1
        sent = when + timedelta(seconds=2)
        out.add("deliveries", {
            "id": self._delivery, "channel": channel, "outbox_seq": self._seq,
            "product_id": product.id, "product_name": product.name, "event": event,
            "state": "done", "attempts": 1, "next_attempt_at": when, "queued_at": when,
            "done_at": sent, "last_error": None, "detail": detail,
        })  # fmt: skip

    def _download(self, product: Product, published: datetime, out: DayRows) -> None:
        self._downloads += self._assume.downloads_per_item
        while self._downloads >= 1:
            self._downloads -= 1
            self._downloaded += 1
            user = DOWNLOADERS[self._downloaded % len(DOWNLOADERS)]
            started = published + timedelta(minutes=5)
            ended = started + timedelta(seconds=1 + product.content_length / 100e6)
            out.add("downloads", {
                "id": uuid.uuid4(), "user_name": user, "product_id": product.id,
                "product_name": product.name, "bytes_sent": product.content_length,
                "started_at": started, "ended_at": ended, "progress_at": ended,
                "status": "completed",
            })  # fmt: skip

    def _tally(self, report: Product) -> None:
        values = {a.name: a.value for a in report.attributes}
        inspected, status = values.get(INSPECTED_PRODUCT), values.get(GLOBAL_STATUS)
        if isinstance(inspected, str) and isinstance(status, str):
            held = self.tallies.setdefault(inspected, [0, 0, 0])
            held[("PASSED", "FAILED", "ERROR").index(status)] += 1


def outcomes(tallies: dict[str, list[int]], now: datetime) -> Iterator[dict[str, Any]]:
    for inspected, (passed, failed, errors) in tallies.items():
        yield {"inspected": inspected, "passed": passed, "failed": failed, "errors": errors,
               "updated_at": now}  # fmt: skip


def whole_day_rows(assumptions: Assumptions, items: int) -> DayRows:
    """What does not follow the products one by one, for a whole day: health probes every
    ``probe_interval_s``, request counters of the active users every minute, and the QC's
    refusals for the day's ``items``."""
    out = DayRows()
    start = day_mix.DAY_START
    for i in range(int(86_400 / assumptions.probe_interval_s)):
        out.add("health_probes", {"id": i + 1, "at": start + timedelta(
            seconds=i * assumptions.probe_interval_s), "ok": True, "seconds": 0.04,
            "detail": None})  # fmt: skip
    for minute in range(1440):
        at = start + timedelta(minutes=minute)
        for user in range(assumptions.active_users):
            out.add("request_counts", {"subject": f"user:user-{user:03d}", "minute": at,
                                       "count": 30 + user % 50})  # fmt: skip
    for i in range(round(items * assumptions.quarantined_share)):
        name = granule_name(10_000_000 + i, start) + ".tar"
        out.add("quarantine", {
            "name": name, "code": "InvalidMetadata",
            "reason": f"{name}: Inventory_Metadata Data_Size 18874368 is not the size of "
                      "IMG_DATA (18874112 bytes)",
            "first_seen": start, "last_seen": start, "times": 1, "size": 18_874_368,
            "location": f"/data/prip/quarantine/{start:%Y%m%d}/{name}",
        })  # fmt: skip
    return out


def _product(metadata: Any, published: datetime, real_bytes: int) -> Product:
    """As ingestion makes it (services/ingest.py), with the size drawn for the real product."""
    product_id = uuid.uuid4()
    return Product(
        id=product_id, name=metadata.name, product_type=metadata.product_type,
        content_type=metadata.content_type, content_length=real_bytes,
        origin_date=metadata.origin_date, publication_date=published,
        eviction_date=published + RETENTION, modification_date=published,
        content_date=metadata.content_date, object_key=f"{product_id}/{metadata.name}",
        production_type=metadata.production_type, footprint=metadata.footprint,
        checksums=metadata.checksums, attributes=metadata.attributes,
    )  # fmt: skip


def _signer() -> TraceSigner:
    """An EC key and a self-signed certificate, as a PRIP signs its traces with: the
    certificate travels in every trace."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "S2B PRIP trace signing")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return TraceSigner(key, certificate)
