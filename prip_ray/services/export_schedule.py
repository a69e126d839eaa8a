"""When the Catalogue Export runs by itself: an incremental export every day (what changed
since the previous export) and a full one every ``full_every`` days. Decided from the
exports already in the store, so a restart neither skips nor repeats one."""

from __future__ import annotations

from datetime import datetime, timedelta

from prip_ray.services.export import ExportRecord


def due_export(
    existing: list[ExportRecord], now: datetime, *, every: timedelta, full_every: timedelta
) -> tuple[str, datetime | None] | None:
    """("full", None), ("incremental", since) or None when nothing is due yet."""
    fulls = [r.created for r in existing if r.kind == "full"]
    if not fulls or now - max(fulls) >= full_every:
        return "full", None
    latest = max(r.created for r in existing)
    if now - latest >= every:
        return "incremental", latest
    return None
