"""Per-minute counters shared by every replica: requests per user, failed logins."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class MinuteCounters(Protocol):
    """Counts per subject in the current minute; a new minute starts from zero."""

    def hit(self, subject: str, now: datetime, amount: int = 1) -> int:
        """Add ``amount`` to the subject's count of ``now``'s minute; returns the count."""
        ...

    def count(self, subject: str, now: datetime) -> int: ...
