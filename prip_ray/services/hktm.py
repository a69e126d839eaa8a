"""The HKTM forwarder: every new house-keeping telemetry product to FOS over SFTP, in order,
each once.

New HKTM publications are queued from the outbox in the durable ``hktm`` delivery queue.
Each round opens one SFTP session and delivers what is due oldest first; the first failure
(FOS away, connection cut mid-transfer) stops the round and the queue waits with backoff, so
products go out in publication order once FOS is back. A restart re-runs the interrupted
delivery: a file found complete at FOS is recorded, not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prip_ray.config import FosSettings
from prip_ray.domain.backoff import Backoff, RetrySchedule
from prip_ray.domain.deliveries import Delivery, QueuedEvent
from prip_ray.domain.products import Product
from prip_ray.errors import DeliveryFailed, ProductNotFound, RemoteConflict, StorageError
from prip_ray.ports import DeliveryQueue, FosSession, FosTarget, ObjectStore, ProductCatalogue

log = logging.getLogger(__name__)
FOS = "fos"  # the backoff key: FOS is up or down for every product


@dataclass(frozen=True)
class ForwardRound:
    delivered: int = 0
    already: int = 0  # found complete at FOS (delivered before a restart)
    refused: int = 0
    failed: int = 0


def remote_path(layout: str, product: Product) -> str:
    """Where ``product`` goes under the FOS directory, from the configured layout."""
    start = product.content_date.start
    mission = product.name[:3]
    return layout.format(
        name=product.name,
        mission=mission,
        year=f"{start.year:04d}",
        month=f"{start.month:02d}",
        day=f"{start.day:02d}",
        doy=f"{start.timetuple().tm_yday:03d}",
    ).lstrip("/")


class HktmForwarder:
    def __init__(
        self,
        queue: DeliveryQueue,
        products: ProductCatalogue,
        store: ObjectStore,
        target: FosTarget,
        settings: FosSettings,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ):
        self._queue = queue
        self._products = products
        self._store = store
        self._target = target
        self._settings = settings
        self._types = set(settings.product_types)
        self._schedule = RetrySchedule(Backoff(settings.retry_base_s, settings.retry_max_s))
        self._now = now
        self._clock = clock

    def run_once(self) -> ForwardRound:
        now = self._now()
        self._queue.feed(self._wanted, now, self._settings.batch * 10)
        if not self._schedule.due(FOS, self._clock()):
            return ForwardRound()
        due = self._queue.due(now, self._settings.batch, in_order=True)
        if not due:
            return ForwardRound()
        return asyncio.run(self._round(due))

    def _wanted(self, event: QueuedEvent) -> bool:
        return event.event == "created" and event.product_type in self._types

    async def _round(self, due: Iterable[Delivery]) -> ForwardRound:
        delivered = already = refused = 0
        try:
            async with self._target.session(self._settings.verify_readback) as session:
                for delivery in due:
                    try:
                        found = await self._deliver(session, delivery)
                    except (RemoteConflict, ProductNotFound) as e:
                        self._queue.refuse(delivery.id, str(e), self._now())
                        refused += 1
                        log.warning("ALERT HKTM %s not delivered: %s", delivery.product_name, e)
                        continue
                    except (DeliveryFailed, StorageError) as e:
                        self._wait(delivery, e)
                        return ForwardRound(delivered, already, refused, 1)
                    already += found
                    delivered += not found
                    self._schedule.succeeded(FOS)
        except DeliveryFailed as e:  # could not connect: nothing was attempted
            first = next(iter(due))
            self._wait(first, e)
            return ForwardRound(delivered, already, refused, 1)
        return ForwardRound(delivered, already, refused, 0)

    async def _deliver(self, session: FosSession, delivery: Delivery) -> bool:
        product = self._products.get(delivery.product_id)
        if not product.online:
            raise ProductNotFound(f"{product.name} was evicted before FOS could have it")
        path = remote_path(self._settings.layout, product)
        self._queue.sending(delivery.id)
        final, found = await session.deliver(
            path,
            self._store.read(product.object_key),
            product.content_length,
            product.checksum("MD5"),
        )
        self._queue.done(delivery.id, self._now(), {"path": final, "found_at_fos": found})
        log.info(
            "HKTM %s %s FOS at %s", product.name, "found at" if found else "delivered to", final
        )
        return found

    def _wait(self, delivery: Delivery, error: Exception) -> None:
        wait = self._schedule.failed(FOS, self._clock()) - self._clock()
        self._queue.retry(delivery.id, str(error), self._now() + timedelta(seconds=wait))
        log.info("HKTM to FOS waits %.0f s: %s", wait, error)
