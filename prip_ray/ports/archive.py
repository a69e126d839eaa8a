"""What the Roller and the withdrawal use: the eviction queries and steps, the rolling
catalogue (rows and DeletedProducts entries leaving the DB), the pruning of consumed events,
the quarantine's tidying, and the withdrawal itself."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from prip_ray.domain.eviction import Candidate
from prip_ray.domain.withdrawals import Withdrawn


class EvictedBytes(Protocol):
    """Marks an offline entry's bytes deleted from the store."""

    def bytes_gone(self, product_id: UUID) -> None: ...


class Evictions(EvictedBytes, Protocol):
    """Candidates for eviction and the eviction itself: first the entry goes offline (with
    its ``deleted`` event and DeletedProducts entry), then its bytes."""

    def due(self, now: datetime, limit: int) -> list[Candidate]: ...

    def oldest(self, limit: int) -> list[Candidate]: ...

    def stored_bytes(self) -> int: ...

    def busy(self, now: datetime, stale_after_s: float) -> set[UUID]:
        """Products being downloaded (a download older than ``stale_after_s`` no longer counts)."""
        ...

    def owed(self, ids: Sequence[UUID], channel: str, product_types: Collection[str]) -> set[UUID]:
        """Of ``ids``, products of ``product_types`` that ``channel`` has not delivered yet."""
        ...

    def mark_evicted(self, product_id: UUID, now: datetime, cause: str) -> str | None:
        """Offline in one step; the key whose bytes to delete (None: evicted meanwhile)."""
        ...

    def orphans(self, limit: int) -> list[tuple[UUID, str]]:
        """Offline entries whose bytes were not confirmed deleted (a crash mid-eviction)."""
        ...


class CatalogueRetention(Protocol):
    """Offline rows leaving Products, and DeletedProducts entries leaving the DB."""

    def leaving(
        self, offline_before: datetime, exported_until: datetime, limit: int
    ) -> list[UUID]: ...

    def remove(
        self, product_id: UUID, offline_before: datetime, exported_until: datetime
    ) -> bool: ...

    def purgeable(
        self, deleted_before: datetime, exported_until: datetime, limit: int
    ) -> list[UUID]: ...

    def purge(self, ids: list[UUID]) -> int: ...


class EventPruning(Protocol):
    """Removes outbox events, finished deliveries and OLQC outcomes nobody needs any more."""

    def prune_outbox(self, before: datetime) -> int: ...

    def prune_deliveries(self, before: datetime) -> int: ...

    def prune_olqc_outcomes(self, before: datetime) -> int: ...


class QuarantineTidying(Protocol):
    """Settles what a crash left half done in the quarantine, and purges old entries."""

    def reconcile(self) -> int: ...

    def purge(self, before: datetime) -> int: ...


class Withdrawals(Protocol):
    """Takes a product offline by an operator's decision, announced as deleted."""

    def withdraw(self, product_id: UUID, now: datetime, cause: str) -> Withdrawn | None:
        """None when there is no such product."""
        ...
