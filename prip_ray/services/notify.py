"""The Subscription component's delivery loop: outbox events, running subscriptions, POSTs.

Each round reads the next events once (and their products once), matches every due
subscription's parsed filter in memory (no query per pair), and delivers in order per
subscription, several subscriptions at a time. Progress is a per-subscription cursor in the
DB, written as deliveries succeed: after a restart or an outage of hours delivery resumes
where it stopped (at least once: a crash between a POST and its cursor write repeats that
one notification). A failing endpoint backs off exponentially; failing for ``fail_after_s``
turns the subscription "failed", visible through the API and logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prip_ray.config import SubscriptionSettings
from prip_ray.db.deleted import DeletedProductRepository
from prip_ray.db.repository import ProductRepository
from prip_ray.db.subscriptions import OutboxEvent, SubscriptionRepository
from prip_ray.domain.backoff import Backoff, RetrySchedule
from prip_ray.domain.products import DeletedProduct, Product
from prip_ray.domain.subscriptions import Subscription
from prip_ray.errors import PripError
from prip_ray.odata.ast import Node
from prip_ray.odata.evaluate import matches
from prip_ray.odata.filter import parse_filter
from prip_ray.odata.serialize import deleted_product_json, odata_datetime, product_json
from prip_ray.security.secrets import SecretBox
from prip_ray.storage.webhook import DeliveryFailed, post_json

log = logging.getLogger(__name__)
PERSIST_EVERY = 20  # deliveries between cursor writes within one round (bounds repeats)
Sender = Callable[..., None]


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
        subscriptions: SubscriptionRepository,
        products: ProductRepository,
        secrets: SecretBox,
        settings: SubscriptionSettings,
        *,
        send: Sender = post_json,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
        deleted: DeletedProductRepository | None = None,
    ):
        self._subscriptions = subscriptions
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

    @property
    def failures(self) -> int:
        """Delivery attempts that failed since start (each is retried with backoff)."""
        return self._failures

    def run_once(self) -> int:
        """One round; returns how many notifications were delivered."""
        due = [(s, sealed) for s, sealed in self._subscriptions.running() if self._is_due(s)]
        if not due:
            return 0
        events = self._subscriptions.events_after(
            min(s.cursor for s, _ in due), self._settings.batch
        )
        if not events:
            return 0
        wanted = list({e.product_id for e in events})
        products = {p.id: p for p in self._products.by_ids(wanted)}
        gone = list({e.product_id for e in events if e.event == "deleted"})
        deletions = self._deleted.by_ids(gone) if self._deleted is not None and gone else {}
        work = [(s, sealed, events, products, deletions) for s, sealed in due]
        results = list(self._pool.map(lambda job: self._deliver(*job), work))
        self._subscriptions.advance_many([r.progress for r in results if r.progress is not None])
        return sum(r.delivered for r in results)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

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
            node = self._filter(sub.filter_param)
        except PripError as e:
            self._failing(sub, f"FilterParam no longer parses: {e}", give_up=True)
            return _Round(0, None)
        password = self._secrets.open(sealed) if sealed else None
        cursor, delivered, notified = sub.cursor, 0, None
        for event in events:
            if event.seq <= sub.cursor:
                continue
            product = products.get(event.product_id)
            if event.event == sub.event and product is not None and matches(node, product):
                now = self._now()
                try:
                    self._send(
                        sub.endpoint,
                        notification(sub, event, product, now, deletions.get(product.id)),
                        username=sub.endpoint_username,
                        password=password,
                        timeout=self._settings.timeout_s,
                    )
                except DeliveryFailed as e:
                    self._save(sub, cursor, notified)
                    self._failing(sub, str(e))
                    return _Round(delivered, None)
                delivered, notified = delivered + 1, now
                if delivered % PERSIST_EVERY == 0:
                    self._save(sub, event.seq, notified)
            cursor = event.seq
        self._schedule.succeeded(str(sub.id))
        changed = cursor > sub.cursor or notified is not None
        return _Round(delivered, (sub.id, cursor, notified) if changed else None)

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
