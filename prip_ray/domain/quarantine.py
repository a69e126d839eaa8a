"""A quarantined product as operators see it: one entry per name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QuarantineEntry:
    name: str
    code: str  # the error code of the refusal (QualityCheckFailed, ...)
    reason: str
    first_seen: datetime
    last_seen: datetime
    times: int  # how often this name was refused
    size: int  # bytes of the quarantined file or folder
    location: str  # where those bytes are
