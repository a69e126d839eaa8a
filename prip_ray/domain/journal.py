"""One product's ingestion attempt as the journal records it: its bytes are being stored
under ``object_key`` (``storing``), or it is published and its inbox copy not yet removed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class JournalEntry:
    name: str
    object_key: str
    md5: str
    state: str  # "storing" | "published"
    source: str
    attempts: int
    updated_at: datetime
