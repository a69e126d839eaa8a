"""Ingest one product: inspect it, store its bytes, publish its row, clear the inbox.

The order is what makes publication atomic and crash-safe:

1. inspect (read, QC, checksums): a refusal moves the source to quarantine with its reason;
   so does any failure that is not an outage of the DB or the store (``Unavailable``): a
   product that breaks the code in a way nobody foresaw must not be retried forever;
2. journal "storing" with a fresh object key (``<Id>/<name>``, never reused);
3. put the bytes in the object store (complete or absent);
4. one transaction: journal "published" (only if still ours) + product row + attributes;
5. remove the inbox copy, then the journal row.

A crash between any two steps leaves a journal row that :meth:`IngestService.recover`
resolves: unpublished bytes are deleted, published products get their inbox copy removed.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prip_ray.db.journal import IngestionJournal, JournalEntry
from prip_ray.db.repository import ProductRepository
from prip_ray.domain.package import ScanLimits
from prip_ray.domain.product_types import ProductTypeRegistry
from prip_ray.domain.products import Product, ProductMetadata
from prip_ray.domain.qc import QcPolicy
from prip_ray.domain.retention import eviction_date
from prip_ray.errors import DuplicateProduct, IngestFailed, PripError, Unavailable
from prip_ray.pdi import write_folder_as_tar
from prip_ray.ports import ObjectStore
from prip_ray.services.inspect import Inspection, inspect_package
from prip_ray.storage.inbox import LocalQuarantine, published_name, refuse_links, remove_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOutcome:
    status: str  # "published" | "rejected" | "completed" (finished after a crash) | "retry"
    name: str
    product_id: str | None = None
    reason: str | None = None
    size: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class IngestService:
    store: ObjectStore
    repository: ProductRepository
    journal: IngestionJournal
    quarantine: LocalQuarantine
    registry: ProductTypeRegistry
    policy: QcPolicy
    retention: timedelta | None
    work_dir: Path
    retention_by_type: dict[str, timedelta | None] = field(default_factory=dict)
    accept_hardlinks: bool = False
    scan_limits: ScanLimits = field(default_factory=ScanLimits)
    trace_algorithm: str | None = None  # hash what traces certify while inspecting
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Frees the name of a withdrawn product for its new delivery (db/retention.py): False
    # when the name is not withdrawn, Unavailable while the withdrawal is being announced.
    release_withdrawn: Callable[[str], bool] = field(default=lambda name: False)

    def ingest(self, source: Path, *, remove: bool = True) -> IngestOutcome:
        """Ingest ``source`` (a PDI file or folder). ``remove=False`` keeps the source
        (``prip-ray ingest PATH``); inbox products are removed once published."""
        timer = _Timer()
        name = published_name(source)
        with tempfile.TemporaryDirectory(dir=self._scratch()) as scratch:
            try:
                refuse_links(source, accept_hardlinks=self.accept_hardlinks)
                package = self._package(source, Path(scratch), name)
                origin = datetime.fromtimestamp(source.stat().st_mtime, UTC)
                inspection = inspect_package(
                    package,
                    name,
                    registry=self.registry,
                    policy=self.policy,
                    origin_date=origin,
                    now=self.clock(),
                    limits=self.scan_limits,
                    trace_algorithm=self.trace_algorithm,
                )
                timer.lap("inspect")
                return self._publish(source, package, inspection, remove, timer)
            except Unavailable as e:  # the store or the DB: the product waits in the inbox
                log.warning("ingest %s: %s, will retry", source.name, e)
                return IngestOutcome("retry", name, reason=str(e), seconds=timer.laps)
            except PripError as e:
                return self._reject(source, name, e, remove, timer)
            except Exception as e:  # a poison product: quarantined with what went wrong
                log.exception("ingest %s: unexpected failure", source.name)
                failed = IngestFailed(f"{name}: unexpected {type(e).__name__}: {e}")
                return self._reject(source, name, failed, remove, timer)

    def quarantine_unread(self, source: Path, error: PripError) -> IngestOutcome:
        """Quarantine ``source`` with ``error`` without reading it: a product whose QC
        workers keep dying on it."""
        return self._reject(source, published_name(source), error, True, _Timer())

    def recover(
        self,
        owns: Callable[[str], bool],
        in_inbox: Callable[[str], bool],
        stale_after: timedelta,
    ) -> int:
        """Resolve journal rows (of products ``owns`` accepts) left by a crash."""
        resolved = 0
        for entry in self.journal.entries():
            if not owns(entry.name):
                continue
            if entry.state == "published":
                if entry.source and in_inbox(entry.source):
                    remove_source(Path(entry.source))
                self.journal.finish(entry.name)
                resolved += 1
            elif self._abandoned(entry, in_inbox, stale_after):
                resolved += self._cancel(entry)
        return resolved

    def _publish(
        self,
        source: Path,
        package: Path,
        inspection: Inspection,
        remove: bool,
        timer: _Timer,
    ) -> IngestOutcome:
        metadata = inspection.metadata
        existing = self.repository.by_name(metadata.name)
        md5 = _md5_of(metadata)
        if existing is not None and not existing.online and self.release_withdrawn(existing.name):
            existing = None  # a corrected delivery of a withdrawn product: a new product
        if existing is not None:
            return self._already_published(source, existing, md5, remove)
        product = self._new_product(metadata)
        prior = self.journal.get(product.name)
        if prior is not None and prior.state == "storing":
            self.store.delete(prior.object_key)  # bytes of an earlier, interrupted attempt
        self.journal.begin(product.name, product.object_key, md5, str(source) if remove else "")
        self.store.put_file(product.object_key, package)
        timer.lap("store")
        try:
            self.repository.publish(product, inspection.digests)
        except Unavailable:
            raise  # the journal row lets a retry (or recovery) deal with the stored bytes
        except Exception:  # another ingestor won the race, or the catalogue refused a value
            self.store.delete(product.object_key)
            self.journal.cancel(product.name, product.object_key)
            raise
        timer.lap("publish")
        self._clear(source, product.name, remove)
        log.info("published %s as %s (%d bytes)", product.name, product.id, product.content_length)
        return IngestOutcome(
            "published",
            product.name,
            str(product.id),
            size=product.content_length,
            seconds=timer.laps,
        )

    def _already_published(
        self, source: Path, existing: Product, md5: str, remove: bool
    ) -> IngestOutcome:
        entry = self.journal.get(existing.name)
        if entry is not None and entry.state == "published" and entry.md5 == md5:
            self._clear(source, existing.name, remove)  # we crashed after publishing it
            return IngestOutcome("completed", existing.name, str(existing.id))
        same = "identical content" if existing.checksum("MD5") == md5 else "different content"
        raise DuplicateProduct(
            f"{existing.name} is already published (Id {existing.id}, "
            f"{existing.publication_date.isoformat()}); this delivery has {same}"
        )

    def _new_product(self, metadata: ProductMetadata) -> Product:
        now = self.clock()
        product_id = uuid.uuid4()
        return Product(
            id=product_id,
            name=metadata.name,
            product_type=metadata.product_type,
            content_type=metadata.content_type,
            content_length=metadata.content_length,
            origin_date=metadata.origin_date,
            publication_date=now,
            eviction_date=eviction_date(
                now, self.retention_by_type.get(metadata.product_type, self.retention)
            ),
            modification_date=now,
            content_date=metadata.content_date,
            object_key=f"{product_id}/{metadata.name}",
            production_type=metadata.production_type,
            footprint=metadata.footprint,
            checksums=metadata.checksums,
            attributes=metadata.attributes,
        )

    def _reject(
        self, source: Path, name: str, error: PripError, remove: bool, timer: _Timer
    ) -> IngestOutcome:
        reason = str(error)
        self.quarantine.put(source, reason, error.code, move=remove)
        log.warning("quarantined %s: %s: %s", name, error.code, reason)
        return IngestOutcome("rejected", name, reason=f"{error.code}: {reason}", seconds=timer.laps)

    def _clear(self, source: Path, name: str, remove: bool) -> None:
        if remove:
            remove_source(source)
        self.journal.finish(name)

    def _abandoned(
        self, entry: JournalEntry, in_inbox: Callable[[str], bool], stale_after: timedelta
    ) -> bool:
        if entry.source and not Path(entry.source).exists() and in_inbox(entry.source):
            return True  # the inbox copy is gone: nobody will retry this attempt
        return self.clock() - entry.updated_at > stale_after

    def _cancel(self, entry: JournalEntry) -> int:
        if not self.journal.cancel(entry.name, entry.object_key):
            return 0  # it got published meanwhile
        self.store.delete(entry.object_key)
        log.info("recovery: deleted unpublished bytes of %s", entry.name)
        return 1

    def _package(self, source: Path, scratch: Path, published_name: str) -> Path:
        if not source.is_dir():
            return source
        return write_folder_as_tar(
            source, scratch / published_name, accept_hardlinks=self.accept_hardlinks
        )

    def _scratch(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir


def _md5_of(metadata: ProductMetadata) -> str:
    return next((c.value for c in metadata.checksums if c.algorithm.upper() == "MD5"), "")


class _Timer:
    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
