"""Where product bytes live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    """Where published product bytes live (S3 bucket/prefix, or a local folder).

    ``put_file`` is atomic for readers: an object is either absent or complete.
    Every method raises ``prip_ray.errors.StorageError`` when the store fails.
    """

    def put_file(self, key: str, path: Path) -> None: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes ``start..end`` (inclusive, like HTTP ranges; ``end=None`` to EOF)."""
        ...

    def size(self, key: str) -> int | None:
        """The object's size, or None when there is no such object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; removing an absent object is not an error."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...
