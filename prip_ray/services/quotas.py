"""Download quotas in force: a user's limits (defaults + overrides), their usage, and the
bracket around every download that records it in the history."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prip_ray.config import QuotaSettings
from prip_ray.domain.products import Product
from prip_ray.domain.quotas import GB, QuotaLimits, Usage, check_download
from prip_ray.domain.users import User
from prip_ray.ports import DownloadRecords

PROGRESS_EVERY_S = 2.0  # how often a running download says it is still sending


class QuotaService:
    def __init__(
        self,
        history: DownloadRecords,
        settings: QuotaSettings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._history = history
        self._defaults = QuotaLimits(
            max_parallel=settings.max_parallel,
            volume_bytes=int(settings.volume_gb * GB),
            window=timedelta(days=settings.window_days),
            requests_per_minute=settings.requests_per_minute,
        )
        self._now = now

    def limits_for(self, user: User) -> QuotaLimits:
        own = user.quotas
        return self._defaults.overridden(
            max_parallel=own.max_parallel,
            volume_bytes=own.volume_bytes,
            window=timedelta(days=own.window_days) if own.window_days else None,
            requests_per_minute=own.requests_per_minute,
        )

    def usage(self, user: User) -> Usage:
        return self._history.usage(user.name, self.limits_for(user), self._now())

    def start(
        self, user: User, product: Product, *, redirected: bool = False, hold_s: float = 0
    ) -> UUID:
        """Take a download slot (QuotaExceeded if none is left or the volume is used up).

        ``redirected``: the bytes go from elsewhere (a presigned URL); the whole product counts
        and the slot is held for ``hold_s``, the time the client may still use the URL."""
        status = "redirected" if redirected else "active"
        limits = self.limits_for(user)
        hold = timedelta(seconds=hold_s)
        return self._history.start(
            user.name, product, limits, self._now(), check_download, status, hold=hold
        )

    def metered(self, download_id: UUID, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Pass the chunks on; record bytes sent and completed/aborted when the stream ends
        (a client that goes away closes the generator, which frees the slot)."""
        sent = 0
        completed = False
        reported = time.monotonic()
        try:
            for chunk in chunks:
                yield chunk
                sent += len(chunk)
                if time.monotonic() - reported > PROGRESS_EVERY_S:
                    self._history.progress(download_id, sent, self._now())
                    reported = time.monotonic()
            completed = True
        finally:
            self._history.finish(download_id, sent, completed, self._now())
