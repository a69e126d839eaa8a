"""Download quotas: what a user may still do, decided from usage figures, in plain Python.

Three limits, as Copernicus services apply them (CDSE: 4 parallel downloads, a volume per
rolling 30 days, a request rate per minute). The figures come from the shared DB, so every
Serve replica on every node decides the same way; this module only compares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from prip_ray.errors import QuotaExceeded

GB = 1000**3


@dataclass(frozen=True)
class QuotaLimits:
    max_parallel: int = 4
    volume_bytes: int = 12_000 * GB  # per window
    window: timedelta = timedelta(days=30)
    requests_per_minute: int = 2000

    def overridden(self, **overrides: int | timedelta | None) -> QuotaLimits:
        """These limits with a user's own values where set (None keeps the default)."""
        kept: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **kept)  # the dataclass's fields check each value


@dataclass(frozen=True)
class Usage:
    active_downloads: int
    window_bytes: int
    requests_last_minute: int


def minute_of(moment: datetime) -> datetime:
    """The minute a per-minute count puts ``moment`` in."""
    return moment.replace(second=0, microsecond=0)


def check_request(limits: QuotaLimits, requests_last_minute: int) -> None:
    if requests_last_minute > limits.requests_per_minute:
        raise QuotaExceeded(
            f"more than {limits.requests_per_minute} requests in a minute",
            retry_after=60,
        )


def check_download(limits: QuotaLimits, usage: Usage, size: int) -> None:
    """Raise QuotaExceeded if one more download of ``size`` bytes is not allowed now."""
    if usage.active_downloads >= limits.max_parallel:
        raise QuotaExceeded(
            f"{usage.active_downloads} downloads already running; at most "
            f"{limits.max_parallel} in parallel",
            retry_after=10,
        )
    if usage.window_bytes + size > limits.volume_bytes:
        days = limits.window.total_seconds() / 86400
        raise QuotaExceeded(
            f"this download ({size} bytes) would exceed the volume quota of "
            f"{limits.volume_bytes} bytes per {days:g} days ({usage.window_bytes} used)",
            retry_after=3600,
        )
