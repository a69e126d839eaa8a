"""Re-ingest one product from a bulk source, idempotently.

A product already published is verified rather than ingested again: its source's MD5 is
compared with the published one ("verified" when equal; "rejected" when the source holds
other bytes under that name). Anything else goes through the normal ingestion (QC, store,
catalogue), the source kept in place.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prip_ray.errors import PripError, Unavailable
from prip_ray.ports import ProductCatalogue, ProductSource
from prip_ray.services.ingest import IngestService

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReingestOutcome:
    status: str  # published | verified | rejected | retry
    name: str
    reason: str | None = None
    size: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Reingester:
    def __init__(
        self,
        source: ProductSource,
        ingest: IngestService,
        products: ProductCatalogue,
        scratch_root: Path,
    ):
        self._source = source
        self._ingest = ingest
        self._products = products
        self._scratch_root = scratch_root

    def reingest(self, name: str) -> ReingestOutcome:
        self._scratch_root.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory(dir=self._scratch_root) as scratch:
                path = self._source.fetch(name, Path(scratch))
                return self._one(name, path)
        except Unavailable as e:  # the source or the store failed: try again in a later run
            return ReingestOutcome("retry", name, f"{e.code}: {e}")
        except PripError as e:  # the source holds something no run will ever take
            return ReingestOutcome("rejected", name, f"{e.code}: {e}")

    def _one(self, name: str, path: Path) -> ReingestOutcome:
        size = _size(path)
        existing = self._products.by_name(name) if path.is_file() else None
        if existing is not None:
            md5 = _md5(path)
            if existing.checksum("MD5") == md5:
                return ReingestOutcome("verified", name, None, size)
            return ReingestOutcome(
                "rejected",
                name,
                f"already published as {existing.id} with other content (MD5 {md5} != "
                f"{existing.checksum('MD5')})",
                size,
            )
        outcome = self._ingest.ingest(path, remove=False)
        if outcome.status in ("published", "completed"):
            return ReingestOutcome("published", outcome.name, None, size)
        if outcome.status == "rejected" and "identical content" in (outcome.reason or ""):
            return ReingestOutcome("verified", outcome.name, None, size)  # a folder PDI
        return ReingestOutcome(outcome.status, outcome.name, outcome.reason, size)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as source:
        while block := source.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
