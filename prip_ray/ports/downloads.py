"""What the quota service and the History Cleaner need of the download history (kept by
db/downloads.py), of the request counters and of the users' quota overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from prip_ray.domain.products import Product
from prip_ray.domain.quotas import QuotaLimits, Usage


class DownloadRecords(Protocol):
    """Each download from its slot to its end, and each user's usage from them."""

    def start(
        self,
        user: str,
        product: Product,
        limits: QuotaLimits,
        now: datetime,
        check: Callable[[QuotaLimits, Usage, int], None],
        status: str = "active",
        *,
        hold: timedelta = timedelta(0),
    ) -> UUID:
        """Recorded if ``check`` allows it (it raises QuotaExceeded otherwise), with the
        usage and the product's size, in one step, so parallel requests cannot each find
        room."""
        ...

    def progress(self, download_id: UUID, bytes_sent: int, now: datetime) -> None: ...

    def finish(
        self, download_id: UUID, bytes_sent: int, completed: bool, now: datetime
    ) -> None: ...

    def usage(self, user: str, limits: QuotaLimits, now: datetime) -> Usage: ...


class DownloadHistoryPurge(Protocol):
    """What the History Cleaner removes."""

    def expire_stale(self, now: datetime) -> int:
        """Active downloads silent too long become aborted (their slot is free)."""
        ...

    def purge(self, before: datetime, batch: int = 5000) -> int:
        """Ended downloads started before ``before``, in batches; returns how many."""
        ...


class CounterPurge(Protocol):
    def purge(self, before: datetime) -> int:
        """Request and failed-login counts of minutes before ``before``."""
        ...


class QuotaWindows(Protocol):
    def longest_window_days(self) -> int | None:
        """The longest per-user volume window, if any user has one."""
        ...
