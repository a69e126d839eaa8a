"""The Subscription component's delivery loop: outbox events, running subscriptions, POSTs.

Each round reads the next events once (and their products once), matches every due
subscription's parsed filter in memory (no query per pair), and delivers in order per
subscription, several subscriptions at a time. Progress is a per-subscription cursor in the
DB, written as deliveries succeed: after a restart or an outage of hours delivery resumes
where it stopped (at least once: a crash between a POST and its cursor write repeats that
one notification). A failing endpoint backs off exponentially; failing for ``fail_after_s``
turns the subscription "failed", visible through the API and logged.

Subscribers are strangers to each other, so one must not hold up the rest: a round waits
for its deliveries at most ``poll_interval_s``, and an endpoint still busy after that (one
that accepts and never answers, or answers slowly) goes on in the background, its
subscription left out of the next rounds until it is done; one delivery job stops after
``timeout_s`` of POSTs and carries on in a later round, so no sender thread is held for
long. Whatever goes wrong for one subscription (a bad answer, a password that no longer
decrypts, a bug) is that subscription's failure, backed off and shown as its LastError.

A pull subscription (no endpoint, domain/pull.py) goes through the same rounds and the same
matching; its notifications are queued in the DB for its owner to read instead of POSTed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prip_ray.config import SubscriptionSettings
from prip_ray.domain.backoff import Backoff, RetrySchedule
from prip_ray.domain.events import OutboxEvent
from prip_ray.domain.products import DeletedProduct, Product
from prip_ray.domain.pull import is_pull
from prip_ray.domain.subscriptions import Subscription
from prip_ray.errors import ConfigurationError, DeliveryFailed, PripError
from prip_ray.odata.ast import Node
from prip_ray.odata.evaluate import matches
from prip_ray.odata.filter import parse_filter
from prip_ray.odata.serialize import deleted_product_json, odata_datetime, product_json
from prip_ray.ports import (
    DeletedProducts,
    ProductCatalogue,
    PullQueueStore,
    SubscriptionStore,
    WebhookSender,
)
from prip_ray.security.secrets import SecretBox

log = logging.getLogger(__name__)
PERSIST_EVERY = 20  # deliveries between cursor writes within one round (bounds repeats)
UNREADABLE_PASSWORD = "the stored endpoint password cannot be read (the operators know)"


def notification(
    sub: Subscription,
    event: OutboxEvent,
    product: Product,
    now: datetime,
    deletion: DeletedProduct | None = None,
) -> dict[str, Any]:
    """``deletion``: for a ``deleted`` event, the DeletedProducts entry, whose DeletionDate
    and DeletionCause (evicted, withdrawn and why) the value then carries."""
    value = deleted_product_json(deletion) if deletion is not None else product_json(product)
    return {
        "@odata.context": "$metadata#Notification/$entity",
        "SubscriptionEvent": event.event,
        "ProductId": str(product.id),
        "ProductName": product.name,
        "SubscriptionId": str(sub.id),
        "NotificationDate": odata_datetime(now),
        "value": value,
    }


@dataclass(frozen=True)
class _Round:
    delivered: int
    progress: tuple[UUID, int, datetime | None] | None  # written with the others at round end


class Notifier:
    def __init__(
        self,
        subscriptions: SubscriptionStore,
        products: ProductCatalogue,
        secrets: SecretBox,
        settings: SubscriptionSettings,
        *,
        send: WebhookSender,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        deleted: DeletedProducts | None = None,
        pull: PullQueueStore | None = None,
    ):
        self._subscriptions = subscriptions
        self._pull = pull
        self._deleted = deleted
        self._products = products
        self._secrets = secrets
        self._settings = settings
        self._send = send
        self._now = now
        self._clock = clock
        self._schedule = RetrySchedule(Backoff(settings.retry_base_s, settings.retry_max_s))
        self._filters: dict[str, Node] = {}
        self._pool = ThreadPoolExecutor(settings.senders, thread_name_prefix="notify")
        self._failures = 0
        self._failures_lock = threading.Lock()
        self._in_flight: dict[UUID, Future[_Round]] = {}  # by subscription

    @property
    def failures(self) -> int:
        """Delivery attempts that failed since start (each is retried with backoff)."""
        return self._failures

    def run_once(self) -> int:
        """One round; returns how many notifications were delivered (this round's, and
        those of earlier rounds' deliveries that finished since)."""
        delivered = self._collect()
        due = [
            (s, sealed)
            for s, sealed in self._subscriptions.running()
            if s.id not in self._in_flight and self._is_due(s)
        ]
        events = (
            self._subscriptions.events_after(min(s.cursor for s, _ in due), self._settings.batch)
            if due
            else []
        )
        if events:
            wanted = list({e.product_id for e in events})
            products = {p.id: p for p in self._products.by_ids(wanted)}
            gone = list({e.product_id for e in events if e.event == "deleted"})
            deletions = self._deleted.by_ids(gone) if self._deleted is not None and gone else {}
            for sub, sealed in due:
                self._in_flight[sub.id] = self._pool.submit(
                    self._deliver, sub, sealed, events, products, deletions
                )
        if self._in_flight:  # healthy endpoints answer in milliseconds: the round ends then
            wait(list(self._in_flight.values()), timeout=self._settings.poll_interval_s)
        return delivered + self._collect()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._collect()

    def _collect(self) -> int:
        """Record the progress of the deliveries that have finished; how many they made."""
        finished = [key for key, job in self._in_flight.items() if job.done()]
        rounds: list[_Round] = []
        for key in finished:
            try:
                rounds.append(self._in_flight.pop(key).result())
            except Exception:  # not expected: _deliver answers every failure itself
                log.exception("subscription %s: delivery round failed", key)
        self._subscriptions.advance_many([r.progress for r in rounds if r.progress is not None])
        return sum(r.delivered for r in rounds)

    def _is_due(self, sub: Subscription) -> bool:
        return self._schedule.due(str(sub.id), self._clock())

    def _deliver(
        self,
        sub: Subscription,
        sealed: str | None,
        events: list[OutboxEvent],
        products: dict[UUID, Product],
        deletions: dict[UUID, DeletedProduct],
    ) -> _Round:
        try:
            return self._deliver_events(sub, sealed, events, products, deletions)
        except Exception:  # a bug or the DB: still this subscription's failure alone
            log.exception("subscription %s: delivery round failed", sub.id)
            try:
                self._failing(sub, "internal error")
            except Exception:  # the DB is away: the backoff in memory holds all the same
                log.exception("subscription %s: cannot record the failure", sub.id)
            return _Round(0, None)

    def _deliver_events(
        self,
        sub: Subscription,
        sealed: str | None,
        events: list[OutboxEvent],
        products: dict[UUID, Product],
        deletions: dict[UUID, DeletedProduct],
    ) -> _Round:
        try:
            node = self._filter(sub.filter_param)
        except PripError as e:
            self._failing(sub, f"FilterParam no longer parses: {e}", give_up=True)
            return _Round(0, None)
        try:
            password = self._secrets.open(sealed) if sealed else None
        except ConfigurationError as e:
            log.error("subscription %s: %s", sub.id, e)
            self._failing(sub, UNREADABLE_PASSWORD)
            return _Round(0, None)
        started = self._clock()
        cursor, delivered, notified = sub.cursor, 0, None
        for event in events:
            if event.seq <= sub.cursor:
                continue
            product = products.get(event.product_id)
            if event.event == sub.event and product is not None and matches(node, product):
                now = self._now()
                error = self._post(sub, event, product, now, password, deletions)
                if error is not None:
                    self._save(sub, cursor, notified)
                    self._failing(sub, error)
                    return _Round(delivered, None)
                delivered, notified = delivered + 1, now
                if delivered % PERSIST_EVERY == 0:
                    self._save(sub, event.seq, notified)
            cursor = event.seq
            if self._clock() - started > self._settings.timeout_s:
                break  # a slow endpoint: the rest in a later round, after the others' turn
        self._schedule.succeeded(str(sub.id))
        changed = cursor > sub.cursor or notified is not None
        return _Round(delivered, (sub.id, cursor, notified) if changed else None)

    def _post(
        self,
        sub: Subscription,
        event: OutboxEvent,
        product: Product,
        now: datetime,
        password: str | None,
        deletions: dict[UUID, DeletedProduct],
    ) -> str | None:
        """None if the endpoint (or the pull queue) took the notification, else what its
        LastError says."""
        try:
            body = notification(sub, event, product, now, deletions.get(product.id))
            if is_pull(sub.endpoint):
                self._queue(sub, body)
            else:
                self._send(sub.endpoint, body, username=sub.endpoint_username, password=password)
        except DeliveryFailed as e:
            return str(e)
        except Exception:  # whatever it was, it is this subscription's failure alone
            log.exception("subscription %s: delivery failed", sub.id)
            return "internal error"
        return None

    def _queue(self, sub: Subscription, body: dict[str, Any]) -> None:
        if self._pull is None:
            raise DeliveryFailed("this notifier was built without the pull queue")
        self._pull.enqueue(sub.id, body, self._settings.max_queue_length)

    def _save(self, sub: Subscription, cursor: int, notified: datetime | None) -> None:
        if cursor > sub.cursor or notified is not None:
            self._subscriptions.advance(sub.id, cursor, notified)

    def _failing(self, sub: Subscription, error: str, give_up: bool = False) -> None:
        with self._failures_lock:  # senders run in parallel threads
            self._failures += 1
        self._schedule.failed(str(sub.id), self._clock())
        now = self._now()
        since = sub.failing_since or now
        failed = give_up or (now - since).total_seconds() > self._settings.fail_after_s
        self._subscriptions.failing(sub.id, since, error, failed)
        if failed:
            log.warning("subscription %s failed (owner %s): %s", sub.id, sub.owner, error)
        else:
            log.info("subscription %s: delivery failed, will retry: %s", sub.id, error)

    def _filter(self, text: str) -> Node:
        if text not in self._filters:
            self._filters[text] = parse_filter(text)
        return self._filters[text]
