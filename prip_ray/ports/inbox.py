"""Where products arrive (a folder, or an S3 bucket/prefix), and one product as delivered.

Ingestion does the same steps in the same order for every kind of inbox; what a step does to
the source differs (remove a file or delete an object, move it to a quarantine folder or
prefix), and so does how its bytes are read and stored: a file is read from disk and put,
an S3 object is streamed through QC and copied server-side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prip_ray.domain.package import Package
from prip_ray.ports.storage import ObjectStore


@dataclass(frozen=True)
class InboxItem:
    """A product ready in the inbox. ``source``: where it is (a path, s3://bucket/key)."""

    name: str
    source: str
    modified: datetime
    is_dir: bool = False
    size: int = 0  # bytes of a file or object (not counted for a folder)

    @property
    def published_name(self) -> str:
        """A PDI folder is published as a tar of it."""
        return self.name + ".tar" if self.is_dir else self.name


class Delivery(Protocol):
    """One delivered product. Every method raises ``StorageError`` when its storage fails."""

    @property
    def source(self) -> str:
        """Where it is, as the ingestion journal records it."""
        ...

    @property
    def published_name(self) -> str: ...

    def package(self, scratch: ExitStack) -> Package:
        """What QC reads: a file (a PDI folder packed as tar in scratch) or a stream.
        ``InvalidPackage`` when it must not be read at all (a link, a device)."""
        ...

    def modified(self) -> datetime:
        """When it was delivered (the product's OriginDate)."""
        ...

    def store_into(self, store: ObjectStore, key: str, package: Package) -> None:
        """Put its bytes (as QC read them) in ``store`` under ``key``."""
        ...

    def exists(self) -> bool: ...

    def remove(self) -> None:
        """Remove it from the inbox; already gone is fine."""
        ...

    def quarantine(self, reason: str, code: str, *, move: bool) -> None:
        """Move (or copy) it to quarantine beside its reason."""
        ...


class Inbox(Protocol):
    """What a shard lists: the products ready in its inbox."""

    def ready(self, wanted: Callable[[str], bool] = ...) -> list[InboxItem]:
        """Complete products whose published name is ``wanted`` (all by default), oldest
        first."""
        ...

    def holds(self, source: str) -> bool:
        """Whether ``source`` names a place in this inbox."""
        ...

    def source_of(self, name: str) -> str:
        """The source of the product called ``name`` in this inbox."""
        ...


class ObjectInbox(Inbox, Protocol):
    """An inbox whose products are not files on this disk (an S3 prefix)."""

    def delivery(self, source: str) -> Delivery:
        """The product at ``source`` (looked at when it is first read)."""
        ...

    def remove_all(self, sources: Sequence[str]) -> None:
        """Remove these products at once; ``StorageError`` when not all are gone."""
        ...
