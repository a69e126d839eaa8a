"""What ingestion uses besides the object store: publication in the catalogue, the journal
of attempts (exactly-once publication across crashes), and the quarantine of refusals."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol
from uuid import UUID

from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.journal import JournalEntry
from prip_ray.domain.package import PackageListing
from prip_ray.domain.products import Product


class ProductPublisher(Protocol):
    """Publishes products: visible and their ingestion marked published in one step."""

    def by_names(self, names: Sequence[str], with_attributes: bool = True) -> list[Product]:
        """Products with these names, in the order asked; unknown names are left out."""
        ...

    def publish(
        self,
        product: Product,
        digests: ProductHashes | None = None,
        *,
        listing: PackageListing | None = None,
    ) -> None:
        """``DuplicateProduct`` when that name is published already."""
        ...

    def publish_all(
        self,
        group: Sequence[Product],
        digests: Mapping[UUID, ProductHashes] | None = None,
        *,
        listings: Mapping[UUID, PackageListing] | None = None,
    ) -> list[Product]:
        """Publish a group at once; returns those published (duplicates left out)."""
        ...


class IngestJournal(Protocol):
    """Ingestion attempts: begun before the bytes are stored, finished once the inbox copy is
    gone, so a crash at any point is completed or undone, never published twice."""

    def begin_all(self, attempts: Sequence[tuple[str, str, str, str]]) -> None:
        """Record (name, object_key, md5, source) of attempts about to store their bytes."""
        ...

    def get_all(self, names: Collection[str]) -> list[JournalEntry]: ...

    def entries(self) -> list[JournalEntry]: ...

    def cancel(self, name: str, object_key: str) -> bool:
        """Drop an unpublished attempt; False if it got published (or replaced) meanwhile."""
        ...

    def finish(self, name: str) -> None: ...

    def finish_all(self, names: Collection[str]) -> None: ...


class Quarantine(Protocol):
    """Where refused products go, each with why."""

    def put(self, source: Path, reason: str, code: str, *, move: bool = True) -> Path: ...
