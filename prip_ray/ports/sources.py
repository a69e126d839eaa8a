"""Where a re-ingestion job reads products from (storage/sources.py: a folder or an S3
prefix)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class ProductSource(Protocol):
    def names(self) -> Iterator[str]: ...

    def fetch(self, name: str, scratch: Path) -> Path:
        """The product copied into ``scratch``, where ingestion can take it."""
        ...

    def size(self, name: str) -> int: ...
