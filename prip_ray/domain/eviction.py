"""Which products the rolling archive lets go, decided in plain Python.

Two reasons, in this order: the EvictionDate has passed, or the store is above its size
watermark (then the oldest publications go first until it is below). A product someone is
downloading right now waits for the next round, and so does one a downstream still needs
(HKTM that FOS has not received yet: an SFTP outage longer than the retention must not lose
telemetry), whichever reason would let it go.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from prip_ray.domain.products import RETENTION_EXPIRED, STORAGE_WATERMARK


@dataclass(frozen=True)
class Candidate:
    id: UUID
    name: str
    size: int
    eviction_date: datetime
    publication_date: datetime


@dataclass(frozen=True)
class Decision:
    evict: list[Candidate]
    busy: list[Candidate]  # due, but being downloaded: next round
    reason: dict[UUID, str]
    held: list[Candidate] = field(default_factory=list)  # due, but a delivery is owed
    cause: dict[UUID, str] = field(default_factory=dict)  # DeletedProducts' DeletionCause


def choose(
    due: Iterable[Candidate],
    oldest: Iterable[Candidate],
    *,
    stored_bytes: int,
    watermark_bytes: int | None,
    busy_ids: Collection[UUID],
    limit: int,
    held_ids: Collection[UUID] = (),
) -> Decision:
    """``due``: online products past their EvictionDate; ``oldest``: online products by
    publication, for the watermark; ``held_ids``: products a delivery is still owed for,
    kept whatever the date or the watermark. At most ``limit`` evictions per round."""
    evict: list[Candidate] = []
    busy: list[Candidate] = []
    held: list[Candidate] = []
    reason: dict[UUID, str] = {}
    cause: dict[UUID, str] = {}
    remaining = stored_bytes
    for candidate in due:
        if len(evict) >= limit:
            break
        if candidate.id in held_ids:
            held.append(candidate)
            continue
        if candidate.id in busy_ids:
            busy.append(candidate)
            continue
        evict.append(candidate)
        reason[candidate.id] = f"EvictionDate {candidate.eviction_date.isoformat()} passed"
        cause[candidate.id] = RETENTION_EXPIRED
        remaining -= candidate.size
    if watermark_bytes is not None:
        for candidate in oldest:
            if remaining <= watermark_bytes or len(evict) >= limit:
                break
            if candidate.id in reason or candidate.id in busy_ids or candidate.id in held_ids:
                continue
            evict.append(candidate)
            reason[candidate.id] = f"store above its watermark of {watermark_bytes} bytes"
            cause[candidate.id] = STORAGE_WATERMARK
            remaining -= candidate.size
    return Decision(evict, busy, reason, held, cause)
