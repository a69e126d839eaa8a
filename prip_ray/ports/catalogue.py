"""The published products, and those that left the catalogue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from prip_ray.domain.hashing import ProductHashes
from prip_ray.domain.products import DeletedProduct, Product


class ProductCatalogue(Protocol):
    """The published products, as the downstream services read them."""

    def get(self, product_id: UUID) -> Product:
        """The product; ``ProductNotFound`` when there is none with that Id."""
        ...

    def by_name(self, name: str, with_attributes: bool = True) -> Product | None: ...

    def by_ids(self, ids: Sequence[UUID], with_attributes: bool = True) -> list[Product]:
        """Products for these Ids, in no order; unknown Ids are left out."""
        ...

    def trace_digests(self, product_id: UUID, algorithm: str) -> ProductHashes | None:
        """The digests stored at publication, if computed with ``algorithm``."""
        ...


class DeletedProducts(Protocol):
    """The DeletedProducts entries (evicted or withdrawn products)."""

    def by_ids(self, ids: Sequence[UUID]) -> dict[UUID, DeletedProduct]: ...


class ProductHistory(Protocol):
    """Every product ever published (online or not), for the catalogue export."""

    def stream(self, since: datetime | None, batch: int = 1000) -> Iterator[Product]:
        """Products changed since ``since`` (all for None), batch by batch in
        (ModificationDate, Id) order."""
        ...


class DeletionHistory(Protocol):
    """The DeletedProducts entries, for the catalogue export."""

    def stream(self, since: datetime | None, batch: int = 1000) -> Iterator[DeletedProduct]:
        """Entries recorded since ``since`` (all for None), in deletion order."""
        ...
