"""Exponential backoff for work that failed because a downstream was down (S3, SFTP, HTTP).

Plain bookkeeping, no sleeping: callers ask ``due(key, now)`` and skip what is not due, so one
failing product or endpoint never blocks the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    max_s: float = 300.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th consecutive failure (1-based)."""
        return min(self.max_s, self.base_s * self.factor ** max(0, attempt - 1))


@dataclass
class RetrySchedule:
    backoff: Backoff = field(default_factory=Backoff)
    _attempts: dict[str, int] = field(default_factory=dict)
    _not_before: dict[str, float] = field(default_factory=dict)

    def failed(self, key: str, now: float) -> float:
        """Record a failure; return when the next attempt is due."""
        attempt = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempt
        self._not_before[key] = now + self.backoff.delay(attempt)
        return self._not_before[key]

    def succeeded(self, key: str) -> None:
        self._attempts.pop(key, None)
        self._not_before.pop(key, None)

    def due(self, key: str, now: float) -> bool:
        return self._not_before.get(key, 0.0) <= now

    def attempts(self, key: str) -> int:
        return self._attempts.get(key, 0)

    def __len__(self) -> int:
        return len(self._attempts)
