"""Transaction-scoped locks on names, for publications that must meet in either order."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text


def lock_name(conn: Connection, name: str) -> None:
    """Hold ``name`` until the transaction ends: PostgreSQL's advisory lock on its hash.
    SQLite needs none: the transaction's first write already holds its only write lock."""
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
