"""In-memory stand-ins for the ports the services use (``prip_ray.ports``), after
cosmicpython's ``FakeRepository``: the services run on them with no database, no S3, no
network. The integration tests run the same services on PostgreSQL, S3 and loopback peers."""

from __future__ import annotations

import builtins  # FakeSubscriptions.list hides the type inside the class
import hashlib
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prip_ray.domain.deliveries import DONE, PENDING, REFUSED, SENDING, Delivery, QueuedEvent
from prip_ray.domain.events import OutboxEvent
from prip_ray.domain.eviction import Candidate
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.journal import JournalEntry
from prip_ray.domain.package import PackageListing
from prip_ray.domain.products import NEVER, Checksum, DeletedProduct, Product, TimeRange
from prip_ray.domain.subscriptions import Limits, Subscription
from prip_ray.domain.withdrawals import Withdrawn, is_withdrawal
from prip_ray.errors import (
    DatabaseUnavailable,
    DeliveryFailed,
    DuplicateProduct,
    ProductNotFound,
    RemoteConflict,
    StorageError,
    TraceRefused,
)

T0 = datetime(2025, 8, 1, tzinfo=UTC)


def a_product(
    name: str, data: bytes = b"", product_type: str = "MSI_L1C_TL", **changes: Any
) -> Product:
    """A published product whose bytes are ``data`` under the key ``name``."""
    product = Product(
        id=uuid.uuid4(),
        name=name,
        product_type=product_type,
        content_type="application/octet-stream",
        content_length=len(data),
        origin_date=T0,
        publication_date=T0,
        eviction_date=NEVER,
        modification_date=T0,
        content_date=TimeRange(T0, T0 + timedelta(minutes=1)),
        object_key=name,
        checksums=(Checksum("MD5", hashlib.md5(data).hexdigest(), T0),),
    )
    return replace(product, **changes)


class FakeClock:
    """``now`` and ``clock`` for a service, moved on by the test."""

    def __init__(self) -> None:
        self.at = T0
        self.seconds = 0.0

    def now(self) -> datetime:
        return self.at

    def clock(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.seconds += seconds


class FakeCatalogue:
    def __init__(self, *products: Product) -> None:
        self.products = {p.id: p for p in products}
        self.digests: dict[tuple[uuid.UUID, str], ProductHashes] = {}

    def add(self, product: Product) -> Product:
        self.products[product.id] = product
        return product

    def get(self, product_id: uuid.UUID) -> Product:
        if product_id not in self.products:
            raise ProductNotFound(f"no product with Id {product_id}")
        return self.products[product_id]

    def by_name(self, name: str, with_attributes: bool = True) -> Product | None:
        return next((p for p in self.products.values() if p.name == name), None)

    def by_ids(self, ids: Sequence[uuid.UUID], with_attributes: bool = True) -> list[Product]:
        return [self.products[i] for i in ids if i in self.products]

    def trace_digests(self, product_id: uuid.UUID, algorithm: str) -> ProductHashes | None:
        return self.digests.get((product_id, algorithm))


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.broken = False  # every call raises StorageError

    def _check(self) -> None:
        if self.broken:
            raise StorageError("the fake store is down")

    def put_file(self, key: str, path: Path) -> None:
        self._check()
        self.objects[key] = path.read_bytes()

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        self._check()
        data = self.objects[key]
        yield data[start : None if end is None else end + 1]

    def size(self, key: str) -> int | None:
        self._check()
        return len(self.objects[key]) if key in self.objects else None

    def delete(self, key: str) -> None:
        self._check()
        self.objects.pop(key, None)

    def keys(self, prefix: str = "") -> Iterator[str]:
        self._check()
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))


class FakeDeliveryQueue:
    """One channel's queue over an in-memory outbox, with the states of the real one."""

    def __init__(self) -> None:
        self.outbox: list[tuple[str, Product]] = []
        self.cursor = 0
        self.rows: dict[int, Delivery] = {}
        self.errors: dict[int, str] = {}

    def publish(self, event: str, product: Product) -> None:
        """What ingestion (``created``) or eviction (``deleted``) writes to the outbox."""
        self.outbox.append((event, product))

    def feed(self, wanted: Callable[[QueuedEvent], bool], now: datetime, limit: int) -> int:
        batch = self.outbox[self.cursor : self.cursor + limit]
        queued = 0
        for seq, (event, product) in enumerate(batch, start=self.cursor + 1):
            if wanted(QueuedEvent(event, product.product_type, product.name)):
                delivery_id = len(self.rows) + 1
                self.rows[delivery_id] = Delivery(
                    delivery_id, "fake", seq, product.id, product.name, event,
                    PENDING, 0, now, now, None,
                )  # fmt: skip
                queued += 1
        self.cursor += len(batch)
        return queued

    def due(self, now: datetime, limit: int, in_order: bool = False) -> list[Delivery]:
        waiting = [d for d in self.rows.values() if d.state in (PENDING, SENDING)][:limit]
        if not in_order:
            return [d for d in waiting if d.next_attempt_at <= now]
        late = [i for i, d in enumerate(waiting) if d.next_attempt_at > now]
        return waiting[: late[0]] if late else waiting

    def sending(self, delivery_id: int, detail: Mapping[str, Any] | None = None) -> None:
        row = self.rows[delivery_id]
        kept = row.detail if detail is None else dict(detail)
        self.rows[delivery_id] = replace(row, state=SENDING, attempts=row.attempts + 1, detail=kept)

    def done(self, delivery_id: int, now: datetime, detail: Mapping[str, Any] | None) -> None:
        row = self.rows[delivery_id]
        kept = row.detail if detail is None else dict(detail)
        self.rows[delivery_id] = replace(row, state=DONE, detail=kept)

    def retry(self, delivery_id: int, error: str, not_before: datetime) -> None:
        self.errors[delivery_id] = error
        self.rows[delivery_id] = replace(self.rows[delivery_id], next_attempt_at=not_before)

    def refuse(self, delivery_id: int, error: str, now: datetime) -> None:
        self.errors[delivery_id] = error
        self.rows[delivery_id] = replace(self.rows[delivery_id], state=REFUSED)

    def detail(self, product_id: uuid.UUID, event: str) -> dict[str, Any] | None:
        found = [
            d.detail
            for d in self.rows.values()
            if d.product_id == product_id and d.event == event and d.detail is not None
        ]
        return found[-1] if found else None

    def waiting(self, product_ids: Collection[uuid.UUID], event: str) -> set[uuid.UUID]:
        return {
            d.product_id
            for d in self.rows.values()
            if d.product_id in product_ids and d.event == event and d.state in (PENDING, SENDING)
        }

    def states(self) -> dict[str, str]:
        """Each delivery's state, by product name and event."""
        return {f"{d.product_name} {d.event}": d.state for d in self.rows.values()}


class FakeTraceService:
    """The Traceability Service: what it holds, and failures the test asks for."""

    def __init__(self) -> None:
        self.traces: list[dict[str, Any]] = []
        self.down = False
        self.refuse: set[str] = set()  # product names it answers 4xx for

    def put(self, trace: dict[str, Any]) -> None:
        if self.down:
            raise DeliveryFailed("503 Service Unavailable")
        if trace["product"]["name"] in self.refuse:
            raise TraceRefused("400 Bad Request")
        self.traces.append(trace)

    def by_name(self, name: str) -> list[dict[str, Any]]:
        if self.down:
            raise DeliveryFailed("503 Service Unavailable")
        return [t for t in self.traces if t["product"]["name"] == name]


class FakeFos:
    """FOS's SFTP directory: the files it holds, how many sessions were opened, and a
    ``down`` switch (cannot connect) or ``cut_after`` (a transfer fails after n files)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.sessions = 0
        self.down = False
        self.cut_after: int | None = None

    def session(self, verify_readback: bool = True) -> FakeFosSession:
        return FakeFosSession(self)


class FakeFosSession:
    def __init__(self, fos: FakeFos) -> None:
        self._fos = fos

    async def __aenter__(self) -> FakeFosSession:
        if self._fos.down:
            raise DeliveryFailed("FOS: connection refused")
        self._fos.sessions += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def deliver(
        self, relative_path: str, chunks: Iterator[bytes], size: int, md5: str | None
    ) -> tuple[str, bool]:
        data = b"".join(chunks)
        held = self._fos.files.get(relative_path)
        if held is not None:
            if hashlib.md5(held).hexdigest() == md5:
                return relative_path, True
            raise RemoteConflict(f"{relative_path}: another file is there")
        if self._fos.cut_after is not None and len(self._fos.files) >= self._fos.cut_after:
            raise DeliveryFailed(f"FOS {relative_path}: connection lost")
        self._fos.files[relative_path] = data
        return relative_path, False


class FakeSubscriptions:
    """Subscriptions over an in-memory outbox, with the progress the Notifier writes."""

    def __init__(self) -> None:
        self.subs: dict[uuid.UUID, tuple[Subscription, str | None]] = {}
        self.outbox: builtins.list[OutboxEvent] = []

    def subscribe(self, filter_param: str, endpoint: str, sealed: str | None = None) -> uuid.UUID:
        sub = Subscription(
            uuid.uuid4(), "alice", "running", "created", filter_param, endpoint,
            "ep" if sealed else None, sealed is not None, T0, None, 0,
        )  # fmt: skip
        self.subs[sub.id] = (sub, sealed)
        return sub.id

    def publish(self, event: str, product: Product) -> None:
        self.outbox.append(OutboxEvent(len(self.outbox) + 1, product.id, event, T0))

    def get(self, subscription_id: uuid.UUID) -> Subscription:
        if subscription_id not in self.subs:
            raise ProductNotFound(f"no subscription with Id {subscription_id}")
        return self.subs[subscription_id][0]

    def create(
        self,
        *,
        owner: str,
        event: str,
        filter_param: str,
        endpoint: str,
        username: str | None,
        sealed_password: str | None,
        now: datetime,
        within: Limits | None = None,
    ) -> Subscription:
        """As the real one: ``within`` sees the owner's other subscriptions and, raising,
        undoes the write."""
        sub = Subscription(
            uuid.uuid4(), owner, "running", event, filter_param, endpoint, username,
            sealed_password is not None, now, None, 0,
        )  # fmt: skip
        if within is not None:
            within(*self._counts(owner, sub.id))
        self.subs[sub.id] = (sub, sealed_password)
        return sub

    def list(self, owner: str | None = None) -> builtins.list[Subscription]:
        return [s for s, _ in self.subs.values() if owner is None or s.owner == owner]

    def set_status(
        self,
        subscription_id: uuid.UUID,
        status: str,
        *,
        owner: str = "",
        within: Limits | None = None,
    ) -> None:
        if within is not None:
            within(*self._counts(owner, subscription_id))
        sub, sealed = self.subs[subscription_id]
        self.subs[subscription_id] = (replace(sub, status=status, failing_since=None), sealed)

    def delete(self, subscription_id: uuid.UUID) -> None:
        del self.subs[subscription_id]

    def _counts(self, owner: str, excluding: uuid.UUID) -> tuple[int, int]:
        others = [s for s, _ in self.subs.values() if s.owner == owner and s.id != excluding]
        live = [s for s in others if s.status != "cancelled"]
        return sum(s.status == "running" for s in live), len(live)

    def running(self) -> builtins.list[tuple[Subscription, str | None]]:
        return [(s, sealed) for s, sealed in self.subs.values() if s.status == "running"]

    def events_after(self, seq: int, limit: int) -> builtins.list[OutboxEvent]:
        return [e for e in self.outbox if e.seq > seq][:limit]

    def advance(self, subscription_id: uuid.UUID, cursor: int, notified: datetime | None) -> None:
        sub, sealed = self.subs[subscription_id]
        changes: dict[str, Any] = {"cursor": cursor, "failing_since": None, "last_error": None}
        if notified is not None:
            changes["last_notification_date"] = notified
        self.subs[subscription_id] = (replace(sub, **changes), sealed)

    def advance_many(self, progress: builtins.list[tuple[uuid.UUID, int, datetime | None]]) -> None:
        for subscription_id, cursor, notified in progress:
            self.advance(subscription_id, cursor, notified)

    def failing(
        self, subscription_id: uuid.UUID, since: datetime, error: str, failed: bool
    ) -> None:
        sub, sealed = self.subs[subscription_id]
        status = "failed" if failed else sub.status
        changed = replace(sub, failing_since=since, last_error=error, status=status)
        self.subs[subscription_id] = (changed, sealed)


class FakePullQueue:
    """Pull subscriptions' queues in memory, bounded as db/pull.py bounds them."""

    def __init__(self) -> None:
        self.queues: dict[uuid.UUID, list[tuple[int, dict[str, Any]]]] = {}
        self.dropped: dict[uuid.UUID, int] = {}
        self._next = 0

    def enqueue(self, subscription_id: uuid.UUID, body: dict[str, Any], max_length: int) -> None:
        self._next += 1
        queue = self.queues.setdefault(subscription_id, [])
        queue.append((self._next, body))
        while len(queue) > max_length:
            queue.pop(0)
            self.dropped[subscription_id] = self.dropped.get(subscription_id, 0) + 1


class FakeDeletedProducts:
    def __init__(self) -> None:
        self.entries: dict[uuid.UUID, DeletedProduct] = {}

    def by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DeletedProduct]:
        return {i: self.entries[i] for i in ids if i in self.entries}


class FakeWebhooks:
    """Subscriber endpoints: what each received (with the credentials), and endpoints that
    are down (every POST fails)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], str | None, str | None]] = []
        self.down: set[str] = set()

    def __call__(
        self, url: str, body: dict[str, Any], *, username: str | None, password: str | None
    ) -> None:
        if url in self.down:
            raise DeliveryFailed("503 Service Unavailable")
        self.received.append((url, body, username, password))

    def names(self, url: str) -> list[str]:
        return [body["ProductName"] for to, body, _, _ in self.received if to == url]


class FakeJournal:
    """The ingestion journal: one entry per product name, as the real one keeps them."""

    def __init__(self) -> None:
        self.rows: dict[str, JournalEntry] = {}

    def begin_all(self, attempts: Sequence[tuple[str, str, str, str]]) -> None:
        for name, object_key, md5, source in attempts:
            tries = self.rows[name].attempts + 1 if name in self.rows else 1
            self.rows[name] = JournalEntry(name, object_key, md5, "storing", source, tries, T0)

    def get_all(self, names: Collection[str]) -> list[JournalEntry]:
        return [self.rows[n] for n in names if n in self.rows]

    def entries(self) -> list[JournalEntry]:
        return list(self.rows.values())

    def cancel(self, name: str, object_key: str) -> bool:
        entry = self.rows.get(name)
        if entry is None or entry.state != "storing" or entry.object_key != object_key:
            return False
        del self.rows[name]
        return True

    def finish(self, name: str) -> None:
        self.rows.pop(name, None)

    def finish_all(self, names: Collection[str]) -> None:
        for name in names:
            self.finish(name)


class FakePublisher(FakeCatalogue):
    """The catalogue ingestion publishes to: like the real one, a product is published only
    while its journal attempt stands, and that attempt is marked published with it."""

    def __init__(self, journal: FakeJournal) -> None:
        super().__init__()
        self.journal = journal
        self.down = False  # the PRIP DB is away: every call raises Unavailable
        self.listings: dict[uuid.UUID, PackageListing] = {}  # what Nodes are built from

    def by_names(self, names: Sequence[str], with_attributes: bool = True) -> list[Product]:
        self._check()
        found = {p.name: p for p in self.products.values()}
        return [found[n] for n in names if n in found]

    def publish(
        self,
        product: Product,
        digests: ProductHashes | None = None,
        *,
        listing: PackageListing | None = None,
    ) -> None:
        found = {product.id: digests} if digests is not None else {}
        listings = {product.id: listing} if listing is not None else {}
        if not self.publish_all([product], found, listings=listings):
            raise StorageError(f"{product.name}: ingestion attempt was cancelled")

    def publish_all(
        self,
        group: Sequence[Product],
        digests: Mapping[uuid.UUID, ProductHashes] | None = None,
        *,
        listings: Mapping[uuid.UUID, PackageListing] | None = None,
    ) -> list[Product]:
        self._check()
        self.listings.update(listings or {})
        taken = {p.name for p in self.products.values()}
        if any(p.name in taken for p in group):
            raise DuplicateProduct("a product of the group is already published")
        published = []
        for product in group:
            entry = self.journal.rows.get(product.name)
            if entry is None or entry.object_key != product.object_key:
                continue  # recovery cancelled the attempt
            self.journal.rows[product.name] = replace(entry, state="published")
            self.add(product)
            published.append(product)
        return published

    def _check(self) -> None:
        if self.down:
            raise DatabaseUnavailable("the fake PRIP DB is away")


class FakeQuarantine:
    """Refused products: what each was refused for; the source goes, as into the folder."""

    def __init__(self) -> None:
        self.refused: dict[str, str] = {}  # name: error code

    def put(self, source: Path, reason: str, code: str, *, move: bool = True) -> Path:
        self.refused[source.name] = code
        if move:
            source.unlink(missing_ok=True)
        return source


class FakeArchive(FakeCatalogue):
    """The catalogue as the Roller and the withdrawal change it: an entry goes offline with
    its ``deleted`` event and its DeletedProducts entry in one step, then its bytes; offline
    rows and DeletedProducts entries leave once past their retention and exported."""

    def __init__(self, *products: Product) -> None:
        super().__init__(*products)
        self.deleted: dict[uuid.UUID, tuple[datetime, str]] = {}  # Id: (DeletionDate, cause)
        self.events: list[tuple[str, uuid.UUID]] = []
        self.downloading: set[uuid.UUID] = set()
        self.undelivered: set[uuid.UUID] = set()  # HKTM that FOS has not received yet

    def due(self, now: datetime, limit: int) -> list[Candidate]:
        due = [p for p in self._online() if p.eviction_date <= now]
        return [_candidate(p) for p in sorted(due, key=lambda p: p.eviction_date)[:limit]]

    def oldest(self, limit: int) -> list[Candidate]:
        oldest = sorted(self._online(), key=lambda p: p.publication_date)
        return [_candidate(p) for p in oldest[:limit]]

    def stored_bytes(self) -> int:
        return sum(p.content_length for p in self.products.values() if p.object_key)

    def busy(self, now: datetime, stale_after_s: float) -> set[uuid.UUID]:
        return set(self.downloading)

    def owed(
        self, ids: Sequence[uuid.UUID], channel: str, product_types: Collection[str]
    ) -> set[uuid.UUID]:
        return {i for i in ids if i in self.undelivered and channel == "hktm"}

    def mark_evicted(self, product_id: uuid.UUID, now: datetime, cause: str) -> str | None:
        product = self.products[product_id]
        if not product.online:
            return None
        self._offline(product, now, cause)
        return product.object_key

    def bytes_gone(self, product_id: uuid.UUID) -> None:
        self.products[product_id] = replace(self.products[product_id], object_key="")

    def orphans(self, limit: int) -> list[tuple[uuid.UUID, str]]:
        offline = [p for p in self.products.values() if not p.online and p.object_key]
        return [(p.id, p.object_key) for p in offline[:limit]]

    def withdraw(self, product_id: uuid.UUID, now: datetime, cause: str) -> Withdrawn | None:
        product = self.products.get(product_id)
        if product is None:
            return None
        recorded = self.deleted.get(product_id, (now, cause))[1]
        if product.online:
            self._offline(product, now, cause)
        elif not is_withdrawal(recorded):
            self.deleted[product_id] = (self.deleted[product_id][0], cause)
        else:
            cause = recorded
        return Withdrawn(product.object_key, product.online, cause)

    def leaving(
        self, offline_before: datetime, exported_until: datetime, limit: int
    ) -> list[uuid.UUID]:
        before = min(offline_before, exported_until)
        return [p.id for p in self._leavable(before)][:limit]

    def remove(
        self, product_id: uuid.UUID, offline_before: datetime, exported_until: datetime
    ) -> bool:
        before = min(offline_before, exported_until)
        if product_id not in {p.id for p in self._leavable(before)}:
            return False
        del self.products[product_id]
        return True

    def purgeable(
        self, deleted_before: datetime, exported_until: datetime, limit: int
    ) -> list[uuid.UUID]:
        before = min(deleted_before, exported_until)
        old = [i for i, (at, _) in self.deleted.items() if at < before]
        return [i for i in old if i not in self.products][:limit]

    def purge(self, ids: list[uuid.UUID]) -> int:
        for product_id in ids:
            del self.deleted[product_id]
        return len(ids)

    def _online(self) -> list[Product]:
        return [p for p in self.products.values() if p.online]

    def _offline(self, product: Product, now: datetime, cause: str) -> None:
        self.products[product.id] = replace(product, online=False, modification_date=now)
        self.events.append(("deleted", product.id))
        self.deleted[product.id] = (now, cause)

    def _leavable(self, before: datetime) -> list[Product]:
        offline = [p for p in self.products.values() if not p.online and not p.object_key]
        return [p for p in offline if p.modification_date < before]


def _candidate(product: Product) -> Candidate:
    return Candidate(
        product.id,
        product.name,
        product.content_length,
        product.eviction_date,
        product.publication_date,
    )


class FakeEventPruner:
    """Outbox events, finished deliveries and OLQC outcomes, each with its age."""

    def __init__(self) -> None:
        self.outbox: list[datetime] = []
        self.deliveries: list[datetime] = []
        self.outcomes: list[datetime] = []

    def prune_outbox(self, before: datetime) -> int:
        return _prune(self.outbox, before)

    def prune_deliveries(self, before: datetime) -> int:
        return _prune(self.deliveries, before)

    def prune_olqc_outcomes(self, before: datetime) -> int:
        return _prune(self.outcomes, before)


def _prune(ages: list[datetime], before: datetime) -> int:
    kept = [at for at in ages if at >= before]
    pruned = len(ages) - len(kept)
    ages[:] = kept
    return pruned


class FakeQuarantineFolder:
    """Quarantine entries by the time they were refused; ``reconcile`` counts its calls."""

    def __init__(self, *refused_at: datetime) -> None:
        self.entries = list(refused_at)
        self.reconciled = 0

    def reconcile(self) -> int:
        self.reconciled += 1
        return 0

    def purge(self, before: datetime) -> int:
        return _prune(self.entries, before)


class FakeDownloads:
    """The download history (DownloadRecords and DownloadHistoryPurge) in a dict: a slot is
    held while a download is active, or redirected until its ``hold`` ends."""

    def __init__(self, stale_after: timedelta = timedelta(minutes=5)) -> None:
        self.rows: dict[uuid.UUID, dict[str, Any]] = {}
        self._stale_after = stale_after

    def start(
        self,
        user: str,
        product: Product,
        limits: Any,
        now: datetime,
        check: Callable[[Any, Any, int], None],
        status: str = "active",
        *,
        hold: timedelta = timedelta(0),
    ) -> uuid.UUID:
        check(limits, self.usage(user, limits, now), product.content_length)
        download_id = uuid.uuid4()
        redirected = status == "redirected"
        self.rows[download_id] = {
            "user": user, "status": status, "started": now, "progress": now,
            "ended": now + hold if redirected else None,
            "bytes": product.content_length if redirected else 0,
        }  # fmt: skip
        return download_id

    def progress(self, download_id: uuid.UUID, bytes_sent: int, now: datetime) -> None:
        row = self.rows[download_id]
        if row["status"] == "active":
            row.update(bytes=bytes_sent, progress=now)

    def finish(
        self, download_id: uuid.UUID, bytes_sent: int, completed: bool, now: datetime
    ) -> None:
        status = "completed" if completed else "aborted"
        self.rows[download_id].update(bytes=bytes_sent, ended=now, status=status)

    def usage(self, user: str, limits: Any, now: datetime) -> Any:
        from prip_ray.domain.quotas import Usage

        mine = [r for r in self.rows.values() if r["user"] == user]
        running = sum(
            1
            for r in mine
            if (r["status"] == "active" and r["progress"] > now - self._stale_after)
            or (r["status"] == "redirected" and r["ended"] > now)
        )
        volume = sum(r["bytes"] for r in mine if r["started"] > now - limits.window)
        return Usage(running, volume, 0)

    def expire_stale(self, now: datetime) -> int:
        stale = [
            r
            for r in self.rows.values()
            if r["status"] == "active" and r["progress"] <= now - self._stale_after
        ]
        for row in stale:
            row.update(status="aborted", ended=now)
        return len(stale)

    def purge(self, before: datetime, batch: int = 5000) -> int:
        old = [k for k, r in self.rows.items() if r["started"] < before and r["status"] != "active"]
        for key in old:
            del self.rows[key]
        return len(old)


class FakeCounters:
    """Request counts by minute (CounterPurge)."""

    def __init__(self, minutes: list[datetime] | None = None) -> None:
        self.minutes = list(minutes or [])

    def purge(self, before: datetime) -> int:
        kept = [m for m in self.minutes if m >= before]
        removed = len(self.minutes) - len(kept)
        self.minutes = kept
        return removed


class FakeQuotaWindows:
    def __init__(self, longest: int | None = None) -> None:
        self.longest = longest

    def longest_window_days(self) -> int | None:
        return self.longest
