"""Ingest products: inspect each, store its bytes, publish rows in groups, clear the inbox.

The order is what makes publication atomic and crash-safe:

1. inspect (read, QC, checksums): a refusal moves the source to quarantine with its reason;
   so does any failure that is not an outage of the DB or the store (``Unavailable``): a
   product that breaks the code in a way nobody foresaw must not be retried forever;
2. journal "storing" with a fresh object key (``<Id>/<name>``, never reused);
3. put the bytes in the object store (complete or absent);
4. one transaction: journal "published" (only if still ours) + product row + attributes;
5. remove the inbox copy, then the journal row.

Steps 1-3 (:meth:`IngestService.prepare`) run on a QC worker, one product at a time, and
give a :class:`ReadyProduct`; steps 4-5 (:meth:`IngestService.publish`) take a group of
them, so products that finish QC together share one transaction (a product's round trips to
the PRIP DB, not its QC, are what small products cost). A crash between any two steps
leaves a journal row that :meth:`IngestService.recover` resolves: unpublished bytes are
deleted, published products get their inbox copy removed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.journal import JournalEntry
from prip_ray.domain.package import Package, PackageListing, ScanLimits
from prip_ray.domain.product_types import ProductTypeRegistry
from prip_ray.domain.products import Product, ProductMetadata
from prip_ray.domain.qc import QcPolicy
from prip_ray.domain.retention import eviction_date
from prip_ray.errors import (
    DuplicateProduct,
    IngestFailed,
    PripError,
    StorageError,
    Unavailable,
)
from prip_ray.ports import IngestJournal, ObjectStore, ProductPublisher, Quarantine
from prip_ray.ports.inbox import Delivery, ObjectInbox
from prip_ray.services.file_delivery import FileDelivery
from prip_ray.services.inspect import inspect_package

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOutcome:
    status: str  # "published" | "rejected" | "completed" (finished after a crash) | "retry"
    name: str
    product_id: str | None = None
    reason: str | None = None
    size: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadyProduct:
    """A product that passed QC and whose bytes are stored under its attempt's key: all its
    publication needs. A QC worker hands it to its shard, which publishes a group at once."""

    product: Product
    source: str  # the inbox entry or object (or the path given to ``prip-ray ingest``)
    remove: bool  # remove the source once published
    seconds: dict[str, float] = field(default_factory=dict)
    digests: ProductHashes | None = None  # what its traces certify, stored with it
    listing: PackageListing | None = None  # its package's members, stored for its Nodes

    def journal_row(self) -> tuple[str, str, str, str]:
        """(name, object_key, md5, source) of its attempt; a kept source is not the
        journal's to remove, so recovery is not told of it."""
        product = self.product
        source = self.source if self.remove else ""
        return product.name, product.object_key, product.checksum("MD5") or "", source


@dataclass
class IngestService:
    store: ObjectStore
    repository: ProductPublisher
    journal: IngestJournal
    quarantine: Quarantine
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
    # The S3 inbox, when products arrive as objects: its sources (s3://bucket/key) are
    # streamed through QC and copied to the store; any other source is a file on disk.
    objects: ObjectInbox | None = None

    def ingest(self, source: Path | str, *, remove: bool = True) -> IngestOutcome:
        """Ingest ``source`` (a PDI file or folder, or an object of the S3 inbox).
        ``remove=False`` keeps the source (``prip-ray ingest PATH``); inbox products are
        removed once published."""
        prepared = self.prepare(source, remove=remove)
        if isinstance(prepared, IngestOutcome):
            return prepared
        [outcome] = self.publish([prepared])
        return outcome

    def prepare(self, source: Path | str, *, remove: bool = True) -> ReadyProduct | IngestOutcome:
        """Steps 1-3: a ReadyProduct to publish, or the outcome when there is nothing to
        publish (rejected, to retry, or completed after a crash)."""
        [prepared] = self.prepare_all([source], remove=remove)
        return prepared

    def prepare_all(
        self, sources: Sequence[Path | str], *, remove: bool = True
    ) -> list[ReadyProduct | IngestOutcome]:
        """:meth:`prepare` for several products, in order: each is inspected, then one look-up
        of the PRIP DB and one journal write serve them all, then each one's bytes go up."""
        with ExitStack() as scratch:
            inspected = [self._inspect(self._delivery(s), scratch, remove) for s in sources]
            passed = [i for i in inspected if isinstance(i, _Inspected)]
            try:
                stored = iter(self._store_all(passed, remove))
            except Unavailable as e:  # the DB: the products wait in the inbox
                log.warning("ingest %s: %s, will retry", [i.source.source for i in passed], e)
                stored = iter([i.retry(e) for i in passed])
            return [next(stored) if isinstance(i, _Inspected) else i for i in inspected]

    def _delivery(self, source: Path | str) -> Delivery:
        if self.objects is not None and self._is_object(str(source)):
            return self.objects.delivery(str(source))
        return FileDelivery(Path(source), self.quarantine, self.work_dir, self.accept_hardlinks)

    def _inspect(
        self, source: Delivery, scratch: ExitStack, remove: bool
    ) -> _Inspected | IngestOutcome:
        timer = _Timer()
        name = source.published_name
        try:
            package = source.package(scratch)
            origin = source.modified()
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
            return _Inspected(
                source, package, inspection.metadata, inspection.digests, timer, inspection.listing
            )
        except Unavailable as e:
            log.warning("ingest %s: %s, will retry", source.source, e)
            return IngestOutcome("retry", name, reason=str(e), seconds=timer.laps)
        except PripError as e:
            return self._reject(source, name, e, remove, timer.laps)
        except Exception as e:  # a poison product: quarantined with what went wrong
            log.exception("ingest %s: unexpected failure", source.source)
            failed = IngestFailed(f"{name}: unexpected {type(e).__name__}: {e}")
            return self._reject(source, name, failed, remove, timer.laps)

    def quarantine_unread(self, source: Path | str, error: PripError) -> IngestOutcome:
        """Quarantine ``source`` with ``error`` without reading it: a product whose QC
        workers keep dying on it."""
        delivery = self._delivery(source)
        return self._reject(delivery, delivery.published_name, error, True, {})

    def publish(self, group: Sequence[ReadyProduct]) -> list[IngestOutcome]:
        """Steps 4-5 for a group, in one transaction. A product that fails that transaction
        (a taken name, a value no column holds) fails it for all: the group is then
        published one by one, so only that product is refused."""
        started = time.perf_counter()
        digests = {r.product.id: r.digests for r in group if r.digests is not None}
        listings = {r.product.id: r.listing for r in group if r.listing is not None}
        try:
            published = self.repository.publish_all(
                [r.product for r in group], digests, listings=listings
            )
        except Unavailable as e:  # nothing was published: each product waits in the inbox
            log.warning("publishing %d products: %s, will retry", len(group), e)
            return [self._retry(ready, e) for ready in group]
        except Exception as e:
            if len(group) == 1:
                return [self._refused(group[0], e)]
            return [self._publish_one(ready) for ready in group]
        keys = {product.object_key for product in published}
        done = [ready for ready in group if ready.product.object_key in keys]
        self._clear(done)
        seconds = time.perf_counter() - started
        return [
            self._published(ready, seconds)
            if ready.product.object_key in keys
            else self._retry(ready, StorageError(f"{ready.product.name}: attempt was cancelled"))
            for ready in group
        ]

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
                    self._delivery(entry.source).remove()
                self.journal.finish(entry.name)
                resolved += 1
            elif self._abandoned(entry, in_inbox, stale_after):
                resolved += self._cancel(entry)
        return resolved

    def _store_all(
        self, passed: list[_Inspected], remove: bool
    ) -> list[ReadyProduct | IngestOutcome]:
        """Steps 2-3 for products that passed QC, in order."""
        if not passed:
            return []
        names = [i.metadata.name for i in passed]
        existing = {p.name: p for p in self.repository.by_names(names, with_attributes=False)}
        journal = {entry.name: entry for entry in self.journal.get_all(names)}
        attempts = [self._attempt(item, existing, journal, remove) for item in passed]
        self.journal.begin_all([r.journal_row() for r in attempts if isinstance(r, ReadyProduct)])
        return [
            self._put(r, item) if isinstance(r, ReadyProduct) else r
            for item, r in zip(passed, attempts, strict=True)
        ]

    def _attempt(
        self,
        item: _Inspected,
        existing: dict[str, Product],
        journal: dict[str, JournalEntry],
        remove: bool,
    ) -> ReadyProduct | IngestOutcome:
        """A new attempt for ``item`` (its journal row not yet written), or its outcome."""
        md5 = _md5_of(item.metadata)
        found = existing.get(item.metadata.name)
        prior = journal.get(item.metadata.name)
        try:
            if found is not None and not found.online and self.release_withdrawn(found.name):
                found = None  # a corrected delivery of a withdrawn product: a new product
            if found is not None:
                return self._already_published(item.source, found, prior, md5, remove)
            if prior is not None and prior.state == "storing":
                self.store.delete(prior.object_key)  # bytes of an earlier, interrupted attempt
        except Unavailable as e:
            return item.retry(e)
        except PripError as e:
            return self._reject(item.source, item.metadata.name, e, remove, item.timer.laps)
        product = self._new_product(item.metadata)
        return ReadyProduct(
            product, item.source.source, remove, item.timer.laps, item.digests, item.listing
        )

    def _put(self, ready: ReadyProduct, item: _Inspected) -> ReadyProduct | IngestOutcome:
        try:
            item.source.store_into(self.store, ready.product.object_key, item.package)
        except Unavailable as e:
            return item.retry(e)
        item.timer.lap("store")
        return replace(ready, seconds=item.timer.laps)

    def _publish_one(self, ready: ReadyProduct) -> IngestOutcome:
        started = time.perf_counter()
        try:
            self.repository.publish(ready.product, ready.digests, listing=ready.listing)
        except Unavailable as e:
            return self._retry(ready, e)
        except Exception as e:
            return self._refused(ready, e)
        self._clear([ready])
        return self._published(ready, time.perf_counter() - started)

    def _refused(self, ready: ReadyProduct, error: Exception) -> IngestOutcome:
        """It cannot be published: another ingestor won the name (the loser deletes its own
        bytes), the catalogue refused a value, or a failure nobody foresaw. Its bytes and
        journal row go, the product to quarantine."""
        product = ready.product
        try:
            self.store.delete(product.object_key)
            self.journal.cancel(product.name, product.object_key)
        except Unavailable as e:
            return self._retry(ready, e)
        if not isinstance(error, PripError):
            log.error("publishing %s: unexpected failure", product.name, exc_info=error)
            error = IngestFailed(f"{product.name}: unexpected {type(error).__name__}: {error}")
        source = self._delivery(ready.source)
        return self._reject(source, product.name, error, ready.remove, ready.seconds)

    def _published(self, ready: ReadyProduct, publish_s: float) -> IngestOutcome:
        product = ready.product
        log.info("published %s as %s (%d bytes)", product.name, product.id, product.content_length)
        return IngestOutcome(
            "published",
            product.name,
            str(product.id),
            size=product.content_length,
            seconds={**ready.seconds, "publish": publish_s},
        )

    def _retry(self, ready: ReadyProduct, error: PripError) -> IngestOutcome:
        """Its bytes stay until the next attempt, or recovery, deletes them."""
        return IngestOutcome("retry", ready.product.name, reason=str(error), seconds=ready.seconds)

    def _already_published(
        self,
        source: Delivery,
        existing: Product,
        entry: JournalEntry | None,
        md5: str,
        remove: bool,
    ) -> IngestOutcome:
        if entry is not None and entry.state == "published" and entry.md5 == md5:
            if remove:  # we crashed after publishing it
                source.remove()
            self.journal.finish(existing.name)
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
        self,
        source: Delivery,
        name: str,
        error: PripError,
        remove: bool,
        seconds: dict[str, float],
    ) -> IngestOutcome:
        reason = str(error)
        source.quarantine(reason, error.code, move=remove)
        log.warning("quarantined %s: %s: %s", name, error.code, reason)
        return IngestOutcome("rejected", name, reason=f"{error.code}: {reason}", seconds=seconds)

    def _clear(self, group: Sequence[ReadyProduct]) -> None:
        """Step 5 for published products. Their journal rows go last, in one statement; if
        the DB is away for it, they stay "published" and recovery drops them."""
        cleared = [ready for ready in group if not ready.remove]
        objects = [r for r in group if r.remove and self._is_object(r.source)]
        try:  # one request for all, not one each: the shard waits for it
            if self.objects is not None and objects:
                self.objects.remove_all([ready.source for ready in objects])
            cleared += objects
        except Unavailable as e:  # their rows stay "published": the next attempt clears them
            log.warning("published, inbox objects left for the next attempt: %s", e)
        for ready in group:
            if ready.remove and not self._is_object(ready.source):
                self._delivery(ready.source).remove()
                cleared.append(ready)
        try:
            self.journal.finish_all([ready.product.name for ready in cleared])
        except Unavailable as e:
            log.warning("published, journal rows left to recovery: %s", e)

    def _is_object(self, source: str) -> bool:
        return self.objects is not None and self.objects.holds(source)

    def _abandoned(
        self, entry: JournalEntry, in_inbox: Callable[[str], bool], stale_after: timedelta
    ) -> bool:
        gone = entry.source and in_inbox(entry.source) and not self._delivery(entry.source).exists()
        if gone:
            return True  # the inbox copy is gone: nobody will retry this attempt
        return self.clock() - entry.updated_at > stale_after

    def _cancel(self, entry: JournalEntry) -> int:
        if not self.journal.cancel(entry.name, entry.object_key):
            return 0  # it got published meanwhile
        self.store.delete(entry.object_key)
        log.info("recovery: deleted unpublished bytes of %s", entry.name)
        return 1


def _md5_of(metadata: ProductMetadata) -> str:
    return next((c.value for c in metadata.checksums if c.algorithm.upper() == "MD5"), "")


@dataclass
class _Inspected:
    """A product that passed QC, and the package whose bytes will be stored."""

    source: Delivery
    package: Package
    metadata: ProductMetadata
    digests: ProductHashes | None  # what traces certify, when computed at inspection
    timer: _Timer
    listing: PackageListing | None = None  # the package's members, for its Nodes

    def retry(self, error: PripError) -> IngestOutcome:
        return IngestOutcome(
            "retry", self.metadata.name, reason=str(error), seconds=self.timer.laps
        )


class _Timer:
    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now
