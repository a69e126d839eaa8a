"""Rolling-archive retention: how long a product stays online after publication."""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def tally_retention(
    retentions: Iterable[timedelta | None],
    offline: timedelta | None,
    deleted: timedelta | None,
) -> timedelta | None:
    """How long OLQC tallies outlive their last report: as long as a product can stay in
    Products, where a later report still changes its qualityStatus (the longest of its
    ``retentions``, the default and every per-type one, plus ``offline``), or ``deleted``
    if that is longer. None (never pruned) when any of them is never."""
    longest = list(retentions)
    if not longest or None in longest or offline is None or deleted is None:
        return None
    listed = max(r for r in longest if r is not None)
    return max(deleted, listed + offline)
