"""A downstream delivery (a trace, an HKTM file to FOS) and its states, as the services see
them; ``prip_ray.db.deliveries`` keeps the durable queue of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

PENDING, SENDING, DONE, REFUSED = "pending", "sending", "done", "refused"


@dataclass(frozen=True)
class Delivery:
    id: int
    channel: str
    outbox_seq: int
    product_id: UUID
    product_name: str
    event: str
    state: str
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class QueuedEvent:
    """What ``feed`` shows a channel's filter of each outbox event."""

    event: str
    product_type: str
    product_name: str
