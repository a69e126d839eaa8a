"""The Tracer: one signed trace per publication (CREATE) and eviction (DELETE), PUT to the
Traceability Service, each sent once.

Events come from the outbox through the durable ``trace`` delivery queue. A trace is built
from the digests ingestion stored with the product (products published before those were
stored have their bytes hashed once), signed and recorded on its delivery row *before* the
PUT; so a restart after an attempt that may have reached the service asks the service
whether it holds that trace before sending the same one again.

Several traces are sent at once (``concurrency``), each failing one (5xx, unreachable) waits
with its own exponential backoff, so one trace the service keeps failing never holds the
others; a product's DELETE waits for its CREATE. When a whole wave of attempts fails the
service itself looks down: the queue pauses with backoff rather than trying every trace. A
4xx is the service refusing that trace: recorded with its reason, logged as an alert, not
retried.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prip_ray.domain.backoff import Backoff, RetrySchedule
from prip_ray.domain.deliveries import SENDING, Delivery, QueuedEvent
from prip_ray.domain.hashing import ProductHashes, hash_product
from prip_ray.domain.products import Product
from prip_ray.domain.traces import EVENTS, build_trace, differences, message_matches, trace_product
from prip_ray.errors import DeliveryFailed, PripError, StorageError, TraceRefused
from prip_ray.ports import DeliveryQueue, ObjectStore, ProductCatalogue, TraceService
from prip_ray.security.signing import TraceSigner, certificate_of, verify_signature

log = logging.getLogger(__name__)
SERVICE = "traceability"  # the backoff key of the whole queue, when the service is down
SENT, RECOVERED, REFUSED, FAILED = "sent", "recovered", "refused", "failed"


@dataclass(frozen=True)
class TraceRound:
    sent: int = 0
    refused: int = 0
    failed: int = 0
    recovered: int = 0  # found at the service after a restart, not sent again


@dataclass(frozen=True)
class Verification:
    name: str
    source: str  # where the trace came from: the service or the PRIP DB
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _BytesGone(PripError):
    code = "BytesGone"


class Tracer:
    def __init__(
        self,
        queue: DeliveryQueue,
        products: ProductCatalogue,
        store: ObjectStore,
        signer: TraceSigner,
        client: TraceService,
        *,
        hash_algorithm: str = "BLAKE3",
        batch: int = 100,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ):
        self._queue = queue
        self._products = products
        self._store = store
        self._signer = signer
        self._client = client
        self._algorithm = hash_algorithm
        self._batch = batch
        self._concurrency = concurrency
        self._backoff = backoff or Backoff(2.0, 300.0)
        self._schedule = RetrySchedule(self._backoff)
        self._now = now
        self._clock = clock

    def run_once(self) -> TraceRound:
        now = self._now()
        self._queue.feed(_traced, now, self._batch * 10)
        if not self._schedule.due(SERVICE, self._clock()):
            return TraceRound()
        due = self._queue.due(now, self._batch)
        deleted = {d.product_id for d in due if d.event == "deleted"}
        creating = self._queue.waiting(deleted, "created") if deleted else set()
        outcomes = self._attempt([d for d in due if not _after_create(d, creating)])
        if outcomes[SENT] or outcomes[RECOVERED]:
            self._schedule.succeeded(SERVICE)
        return TraceRound(outcomes[SENT], outcomes[REFUSED], outcomes[FAILED], outcomes[RECOVERED])

    def _attempt(self, due: list[Delivery]) -> Counter[str]:
        """Attempt the deliveries, ``concurrency`` at a time; stop early, pausing the queue,
        when a whole wave fails with nothing getting through: the service looks down."""
        outcomes: Counter[str] = Counter()
        wave = max(2, self._concurrency)
        failed_in_a_row = 0
        todo = iter(due)
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="tracer") as pool:
            running: set[Future[str]] = set()
            while True:
                while len(running) < self._concurrency and failed_in_a_row < wave:
                    delivery = next(todo, None)
                    if delivery is None:
                        break
                    running.add(pool.submit(self._deliver, delivery))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome = future.result()
                    outcomes[outcome] += 1
                    failed_in_a_row = failed_in_a_row + 1 if outcome == FAILED else 0
        if failed_in_a_row >= wave:
            pause = self._schedule.failed(SERVICE, self._clock()) - self._clock()
            log.info("traceability service looks down: traces wait %.0f s", pause)
        return outcomes

    def _deliver(self, delivery: Delivery) -> str:
        """Send one delivery's trace; what became of it. Runs on the pool's threads."""
        try:
            return SENT if self._send(delivery) else RECOVERED
        except TraceRefused as e:
            self._queue.refuse(delivery.id, str(e), self._now())
            log.warning(
                "ALERT trace %s of %s refused: %s", delivery.event, delivery.product_name, e
            )
            return REFUSED
        except (DeliveryFailed, StorageError) as e:
            wait_s = self._backoff.delay(delivery.attempts + 1)
            self._queue.retry(delivery.id, str(e), self._now() + timedelta(seconds=wait_s))
            log.info("trace of %s waits %.0f s: %s", delivery.product_name, wait_s, e)
            return FAILED

    def verify(self, name: str) -> Verification:
        """Recompute the stored product's hashes and check them and the signature against its
        CREATE trace (from the service when one is configured, else the PRIP DB's record)."""
        product = self._products.by_name(name)
        if product is None:
            return Verification(name, "none", [f"no product named {name}"])
        trace, source = self._create_trace(product)
        if trace is None:
            return Verification(name, source, ["no CREATE trace of this product was found"])
        problems = []
        if not verify_signature(trace["signature"]):
            problems.append("the signature does not verify with the certificate it carries")
        if not message_matches(trace):
            problems.append("the signed message is not the trace's product and event")
        if certificate_of(trace["signature"]) != self._signer.certificate:
            problems.append("signed with another certificate than this PRIP's")
        if not product.online:
            problems.append("the product is evicted: its bytes are gone")
        else:
            problems += differences(trace, self._hash(product, trace["hash_algorithm"]))
        return Verification(name, source, problems)

    def _send(self, delivery: Delivery) -> bool:
        """Send the delivery's trace; False if the service already had it."""
        trace = delivery.detail
        if delivery.state == SENDING and trace is not None and self._held(trace):
            self._queue.done(delivery.id, self._now(), None)
            log.info(
                "trace %s of %s: already at the service", trace["event"], trace["product"]["name"]
            )
            return False
        if trace is None:
            trace = self._build(delivery)
        self._queue.sending(delivery.id, trace)
        self._client.put(trace)
        self._queue.done(delivery.id, self._now(), None)
        log.info("trace %s of %s sent", trace["event"], delivery.product_name)
        return True

    def _held(self, trace: dict[str, Any]) -> bool:
        return any(
            t.get("event") == trace["event"]
            and t.get("product", {}).get("hash") == trace["product"]["hash"]
            for t in self._client.by_name(trace["product"]["name"])
        )

    def _build(self, delivery: Delivery) -> dict[str, Any]:
        event = EVENTS[delivery.event]
        product = self._products.get(delivery.product_id)
        stored = self._products.trace_digests(product.id, self._algorithm)
        if event == "DELETE":
            created = self._queue.detail(product.id, "created")
            body = created["product"] if created else self._from_record(product, stored)
        elif stored is not None:  # what ingestion hashed: the bytes are not read again
            body = trace_product(product.name, stored)
        else:  # published before digests were stored (or with another algorithm)
            try:
                body = trace_product(product.name, self._hash(product, self._algorithm))
            except _BytesGone:  # evicted before the Tracer got to it
                body = self._from_checksums(product)
        return build_trace(body, event, self._algorithm, self._signer.sign)

    def _from_record(self, product: Product, stored: ProductHashes | None) -> dict[str, Any]:
        if stored is not None:
            return trace_product(product.name, stored)
        return self._from_checksums(product)

    def _hash(self, product: Product, algorithm: str) -> ProductHashes:
        if not product.online or self._store.size(product.object_key) is None:
            raise _BytesGone(f"the bytes of {product.name} are gone")
        return hash_product(self._store.read(product.object_key), algorithm)

    def _from_checksums(self, product: Product) -> dict[str, Any]:
        value = product.checksum(self._algorithm)
        if value is None:
            raise TraceRefused(
                f"{product.name}: bytes gone and no {self._algorithm} checksum was recorded"
            )
        return trace_product(
            product.name, ProductHashes(self._algorithm, product.content_length, value)
        )

    def _create_trace(self, product: Product) -> tuple[dict[str, Any] | None, str]:
        try:
            held = [t for t in self._client.by_name(product.name) if t.get("event") == "CREATE"]
        except (DeliveryFailed, TraceRefused) as e:
            log.info("traceability service not asked (%s); using the PRIP DB's record", e)
        else:
            if held:
                return held[-1], "traceability service"
        return self._queue.detail(product.id, "created"), "PRIP DB"


def _traced(event: QueuedEvent) -> bool:
    return event.event in EVENTS


def _after_create(delivery: Delivery, creating: set[UUID]) -> bool:
    """A DELETE whose CREATE is not at the service yet: it must not get there first."""
    return delivery.event == "deleted" and delivery.product_id in creating
