"""An outbox event: a product was published (``created``) or left the catalogue
(``deleted``), in the order ``seq`` of the outbox the downstream services read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    product_id: UUID
    event: str
    created_at: datetime
