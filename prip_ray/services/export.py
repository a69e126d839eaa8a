"""Catalogue Export: every product ever published (evicted ones too, with all metadata and
attributes) as gzip'd JSON Lines in the object store, full or incremental.

It streams: products are read in keyset-ordered batches and written line by line to a
temporary file, then stored in one atomic put, so memory stays flat however large the
catalogue. Incremental exports take what changed (published or evicted) since a date.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prip_ray.db.repository import ProductRepository
from prip_ray.domain.products import Product
from prip_ray.odata.serialize import odata_datetime, product_json
from prip_ray.ports import ObjectStore

PREFIX = "catalogue/"


@dataclass(frozen=True)
class ExportRecord:
    key: str
    kind: str  # full | incremental
    count: int
    size: int
    created: datetime

    @property
    def name(self) -> str:
        return self.key.removeprefix(PREFIX).replace("/", "-")


class CatalogueExporter:
    def __init__(
        self,
        products: ProductRepository,
        store: ObjectStore,
        work_dir: Path,
        *,
        batch: int = 1000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._products = products
        self._store = store
        self._work_dir = work_dir
        self._batch = batch
        self._now = now

    def export(self, since: datetime | None = None) -> ExportRecord:
        """A full export, or (``since`` given) the products changed since then."""
        created = self._now()
        kind = "incremental" if since is not None else "full"
        key = f"{PREFIX}{kind}/catalogue-{kind}-{created:%Y%m%dT%H%M%S}.jsonl.gz"
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self._work_dir, suffix=".jsonl.gz") as tmp:
            count = self._write(Path(tmp.name), self._products.stream(since, self._batch))
            self._store.put_file(key, Path(tmp.name))
            size = Path(tmp.name).stat().st_size
        return ExportRecord(key, kind, count, size, created)

    def exports(self) -> list[ExportRecord]:
        found = []
        for key in self._store.keys(PREFIX):
            kind = key.removeprefix(PREFIX).split("/", 1)[0]
            stamp = key.rsplit("-", 1)[-1].removesuffix(".jsonl.gz")
            created = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            found.append(ExportRecord(key, kind, -1, self._store.size(key) or 0, created))
        return sorted(found, key=lambda r: r.created, reverse=True)

    @staticmethod
    def _write(path: Path, products: Iterator[Product]) -> int:
        count = 0
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for product in products:
                line = product_json(product, with_attributes=True)
                line["ObjectKey"] = product.object_key or None
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
                count += 1
        return count


def export_summary(record: ExportRecord) -> dict[str, object]:
    return {
        "Name": record.name,
        "Kind": record.kind,
        "ContentLength": record.size,
        "CreationDate": odata_datetime(record.created),
    }
