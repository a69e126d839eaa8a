"""IngestionJournal: the ingestor's intent log in the PRIP DB.

A row is written *before* bytes go to the object store ("storing"), turned "published" in the
transaction that makes the product visible, and removed once the inbox copy is gone. After a
crash, rows left behind tell recovery what to finish or undo: nothing is lost, nothing
published twice, no orphan bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, update

from prip_ray.db.tables import ingestions


@dataclass(frozen=True)
class JournalEntry:
    name: str
    object_key: str
    md5: str
    state: str  # "storing" | "published"
    source: str
    attempts: int
    updated_at: datetime


class IngestionJournal:
    def __init__(self, engine: Engine):
        self._engine = engine

    def begin(self, name: str, object_key: str, md5: str, source: str) -> None:
        """Record the intent to store ``name``; a retry of the same product counts an attempt."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            found = conn.execute(
                select(ingestions.c.attempts).where(ingestions.c.name == name)
            ).first()
            values = {"object_key": object_key, "md5": md5, "state": "storing", "source": source}
            if found is None:
                conn.execute(
                    insert(ingestions).values(name=name, attempts=1, updated_at=now, **values)
                )
            else:
                conn.execute(
                    update(ingestions)
                    .where(ingestions.c.name == name)
                    .values(attempts=found.attempts + 1, updated_at=now, **values)
                )

    def get(self, name: str) -> JournalEntry | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(ingestions).where(ingestions.c.name == name)).mappings().first()
            )
        return JournalEntry(**row) if row else None

    def entries(self) -> list[JournalEntry]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(ingestions).order_by(ingestions.c.updated_at)).mappings()
            return [JournalEntry(**row) for row in rows]

    def cancel(self, name: str, object_key: str) -> bool:
        """Drop an unpublished attempt; False if it got published (or replaced) meanwhile."""
        with self._engine.begin() as conn:
            done = conn.execute(
                delete(ingestions).where(
                    ingestions.c.name == name,
                    ingestions.c.object_key == object_key,
                    ingestions.c.state == "storing",
                )
            )
        return done.rowcount == 1

    def finish(self, name: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(ingestions).where(ingestions.c.name == name))
