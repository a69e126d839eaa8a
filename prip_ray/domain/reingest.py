"""Which products a bulk re-ingestion takes, and its tally. Plain Python, no Ray."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from prip_ray.domain.naming import parse_name
from prip_ray.errors import InvalidProductName

FINAL = ("published", "verified", "rejected")  # outcomes a resumed run does not redo


@dataclass(frozen=True)
class Selection:
    """Products by the date their name carries (sensing start, else validity start, else
    creation) in ``[since, until)``, and by file type. A name that does not parse is taken:
    ingestion rejects it with its reason, so the summary shows it."""

    since: datetime | None = None
    until: datetime | None = None
    product_types: frozenset[str] = frozenset()

    def admits(self, name: str) -> bool:
        try:
            parsed = parse_name(name)
        except InvalidProductName:
            return True
        if self.product_types and parsed.file_type not in self.product_types:
            return False
        when = parsed.sensing or (parsed.validity[0] if parsed.validity else parsed.creation)
        if when is None:
            return self.since is None and self.until is None
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, str] = field(default_factory=dict)  # rejected and retry, by name
    bytes: int = 0

    def add(self, status: str, name: str, reason: str | None = None, size: int = 0) -> None:
        self.counts[status] += 1
        self.bytes += size
        if reason and status not in ("published", "verified"):
            self.reasons[name] = reason

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        order = ("published", "verified", "skipped", "rejected", "retry")
        parts = [f"{self.counts[s]} {s}" for s in order if self.counts[s]]
        return ", ".join(parts) or "nothing to do"
