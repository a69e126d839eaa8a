"""The durable delivery queue and the peers it delivers to: the Traceability Service and
FOS. The peers raise ``DeliveryFailed`` when an attempt fails (retried with backoff)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from prip_ray.domain.deliveries import Delivery, QueuedEvent


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
