"""Which ingestion shard owns a product: a stable hash of its name, the same on every node."""

from __future__ import annotations

import zlib


def shard_of(name: str, shard_count: int) -> int:
    """Shard index in ``range(shard_count)``; Python's ``hash()`` is salted per process."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    return zlib.crc32(name.encode("utf-8")) % shard_count
