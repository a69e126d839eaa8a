"""Rolling-archive retention: how long a product stays online after publication."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from prip_ray.domain.products import NEVER

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta | None:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"45s"``; ``"never"`` (or ``"0"``) means no eviction."""
    if text.strip().lower() in ("never", "0", "inf"):
        return None
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use a number with s, m, h or d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def eviction_date(publication: datetime, retention: timedelta | None) -> datetime:
    """When a product published at ``publication`` leaves the archive."""
    return NEVER if retention is None else publication + retention
