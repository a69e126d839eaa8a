"""IngestionJournal: the ingestor's intent log in the PRIP DB.

A row is written *before* bytes go to the object store ("storing"), turned "published" in the
transaction that makes the product visible, and removed once the inbox copy is gone. After a
crash, rows left behind tell recovery what to finish or undo: nothing is lost, nothing
published twice, no orphan bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from prip_ray.db.tables import ingestions
from prip_ray.domain.journal import JournalEntry as JournalEntry

# INSERT ... ON CONFLICT: one statement where select-then-insert-or-update took three.
_UPSERT: dict[str, Callable[[Table], Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


class IngestionJournal:
    def __init__(self, engine: Engine):
        self._engine = engine
        # Each write below is one statement, which is a transaction of its own: in autocommit
        # it costs one round trip, without a BEGIN before it and a COMMIT after.
        self._single = engine.execution_options(isolation_level="AUTOCOMMIT")

    def begin(self, name: str, object_key: str, md5: str, source: str) -> None:
        """Record the intent to store ``name``; a retry of the same product counts an attempt."""
        self.begin_all([(name, object_key, md5, source)])

    def begin_all(self, attempts: Sequence[tuple[str, str, str, str]]) -> None:
        """:meth:`begin` for several (name, object_key, md5, source), in one statement."""
        if not attempts:
            return
        now = datetime.now(UTC)
        rows = [
            {"name": name, "object_key": key, "md5": md5, "source": source}
            for name, key, md5, source in attempts
        ]
        upsert = _UPSERT[self._engine.dialect.name](ingestions).values(
            state="storing", attempts=1, updated_at=now
        )
        new = upsert.excluded
        upsert = upsert.on_conflict_do_update(
            index_elements=[ingestions.c.name],
            set_={
                "object_key": new.object_key,
                "md5": new.md5,
                "source": new.source,
                "state": "storing",
                "updated_at": now,
                "attempts": ingestions.c.attempts + 1,
            },
        )
        with self._single.connect() as conn:
            conn.execute(upsert, rows)

    def get(self, name: str) -> JournalEntry | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(select(ingestions).where(ingestions.c.name == name)).mappings().first()
            )
        return JournalEntry(**row) if row else None

    def get_all(self, names: Collection[str]) -> list[JournalEntry]:
        """The entries of these names that exist, in no order."""
        if not names:
            return []
        query = select(ingestions).where(ingestions.c.name.in_(list(names)))
        with self._single.connect() as conn:
            return [JournalEntry(**row) for row in conn.execute(query).mappings()]

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
        self.finish_all([name])

    def finish_all(self, names: Collection[str]) -> None:
        """Drop the rows of products whose inbox copies are gone, in one statement."""
        if names:
            with self._single.connect() as conn:
                conn.execute(delete(ingestions).where(ingestions.c.name.in_(list(names))))
