"""Small interfaces the services depend on; ``db/`` and ``storage/`` implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from prip_ray.domain.deliveries import Delivery, QueuedEvent
from prip_ray.domain.events import OutboxEvent
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.products import DeletedProduct, Product
from prip_ray.domain.subscriptions import Subscription


class ObjectStore(Protocol):
    """Where published product bytes live (S3 bucket/prefix, or a local folder).

    ``put_file`` is atomic for readers: an object is either absent or complete.
    Every method raises ``prip_ray.errors.StorageError`` when the store fails.
    """

    def put_file(self, key: str, path: Path) -> None: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes ``start..end`` (inclusive, like HTTP ranges; ``end=None`` to EOF)."""
        ...

    def size(self, key: str) -> int | None:
        """The object's size, or None when there is no such object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing an absent object is not an error."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...


class ProductCatalogue(Protocol):
    """The published products, as the downstream services read them."""

    def get(self, product_id: UUID) -> Product:
        """The product; ``ProductNotFound`` when there is none with that Id."""
        ...

    def by_name(self, name: str, with_attributes: bool = True) -> Product | None: ...

    def by_ids(self, ids: Sequence[UUID], with_attributes: bool = True) -> list[Product]:
        """Products for these Ids, in no order; unknown Ids are left out."""
        ...

    def trace_digests(self, product_id: UUID, algorithm: str) -> ProductHashes | None:
        """The digests stored at publication, if computed with ``algorithm``."""
        ...


class DeliveryQueue(Protocol):
    """One channel's durable queue of downstream deliveries, fed from the outbox.

    ``feed`` queues each wanted outbox event exactly once; a delivery then goes pending ->
    sending (the peer may have it) -> done, or refused for good.
    """

    def feed(self, wanted: Callable[[QueuedEvent], bool], now: datetime, limit: int) -> int: ...

    def due(self, now: datetime, limit: int, in_order: bool = False) -> list[Delivery]: ...

    def sending(self, delivery_id: int, detail: Mapping[str, Any] | None = None) -> None: ...

    def done(self, delivery_id: int, now: datetime, detail: Mapping[str, Any] | None) -> None: ...

    def retry(self, delivery_id: int, error: str, not_before: datetime) -> None: ...

    def refuse(self, delivery_id: int, error: str, now: datetime) -> None: ...

    def detail(self, product_id: UUID, event: str) -> dict[str, Any] | None: ...

    def waiting(self, product_ids: Collection[UUID], event: str) -> set[UUID]: ...


class TraceService(Protocol):
    """The Traceability Service. ``DeliveryFailed`` when it fails this attempt (5xx,
    unreachable), ``TraceRefused`` when it refuses (4xx)."""

    def put(self, trace: dict[str, Any]) -> None: ...

    def by_name(self, name: str) -> list[dict[str, Any]]: ...


class FosSession(Protocol):
    """One connection to FOS for a round of deliveries (``async with``); entering raises
    ``DeliveryFailed`` when FOS cannot be reached."""

    async def __aenter__(self) -> FosSession: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def deliver(
        self, relative_path: str, chunks: Iterator[bytes], size: int, md5: str | None
    ) -> tuple[str, bool]:
        """Put the bytes at ``relative_path``; (remote path, whether it was there already).
        ``DeliveryFailed`` on a failed transfer, ``RemoteConflict`` on another file there."""
        ...


class FosTarget(Protocol):
    """Where HKTM products go (FOS over SFTP)."""

    def session(self, verify_readback: bool = True) -> FosSession: ...


class DeletedProducts(Protocol):
    """The DeletedProducts entries (evicted or withdrawn products)."""

    def by_ids(self, ids: Sequence[UUID]) -> dict[UUID, DeletedProduct]: ...


class SubscriptionStore(Protocol):
    """Subscriptions as the Notifier uses them: the running ones, the outbox they read,
    and their delivery progress."""

    def running(self) -> list[tuple[Subscription, str | None]]:
        """Running subscriptions with their sealed endpoint passwords."""
        ...

    def events_after(self, seq: int, limit: int) -> list[OutboxEvent]: ...

    def advance(self, subscription_id: UUID, cursor: int, notified: datetime | None) -> None:
        """Every event up to ``cursor`` is handled (and the failure, if any, is over)."""
        ...

    def advance_many(self, progress: list[tuple[UUID, int, datetime | None]]) -> None: ...

    def failing(self, subscription_id: UUID, since: datetime, error: str, failed: bool) -> None:
        """Delivery fails since ``since``; ``failed``: for good (status ``failed``)."""
        ...


class WebhookSender(Protocol):
    """POSTs a notification to a subscriber's endpoint; ``DeliveryFailed`` when it does not
    take it (not 2xx, unreachable, not allowed)."""

    def __call__(
        self, url: str, body: dict[str, Any], *, username: str | None, password: str | None
    ) -> None: ...
