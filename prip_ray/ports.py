"""Small interfaces the services depend on; ``db/`` and ``storage/`` implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from prip_ray.domain.deliveries import Delivery, QueuedEvent
from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.products import Product


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
