"""Catalogue Export: every product ever published (evicted ones too, with all metadata and
attributes) as gzip'd JSON Lines in the object store, full or incremental.

It streams: products are read in keyset-ordered batches and written line by line to a
temporary file, then stored in one atomic put, so memory stays flat however large the
catalogue. Incremental exports take what changed (published or evicted) since a date.
DeletedProducts entries recorded in that time follow as lines with ``DeletionDate`` and
``DeletionCause``: the Roller takes rows out of the DB only once an export holds them
(``exported_until``), so the exports together keep the complete history.
When pyarrow is installed, the same pass also writes a Parquet file beside the JSON Lines
(row groups of one batch each; nested parts as JSON text columns), for analytics tools.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prip_ray.domain.products import DeletedProduct, Product
from prip_ray.odata.serialize import deleted_product_json, odata_datetime, product_json
from prip_ray.ports import DeletionHistory, ObjectStore, ProductHistory

PREFIX = "catalogue/"
JSONL, PARQUET = ".jsonl.gz", ".parquet"
MEDIA_TYPES = {JSONL: "application/gzip", PARQUET: "application/vnd.apache.parquet"}
_STRINGS = (
    "@odata.mediaContentType", "Id", "Name", "ContentType", "OriginDate", "PublicationDate",
    "EvictionDate", "ModificationDate", "ProductionType", "ObjectKey", "Footprint",
    "DeletionDate", "DeletionCause",
)  # fmt: skip
# A row changed this long before an export started is in it: its transaction had committed
# before the export's walk reached it (the Roller removes nothing newer).
EXPORT_MARGIN = timedelta(minutes=1)
_NESTED = ("ContentDate", "Checksum", "GeoFootprint", "Attributes")


def parquet_available() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


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
        products: ProductHistory,
        store: ObjectStore,
        work_dir: Path,
        *,
        batch: int = 1000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        deleted: DeletionHistory | None = None,
    ):
        self._products = products
        self._deleted = deleted
        self._store = store
        self._work_dir = work_dir
        self._batch = batch
        self._now = now

    def export(self, since: datetime | None = None) -> ExportRecord:
        """A full export, or (``since`` given) the products changed since then."""
        created = self._now()
        kind = "incremental" if since is not None else "full"
        stem = f"{PREFIX}{kind}/catalogue-{kind}-{created:%Y%m%dT%H%M%S}"
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir) as scratch:
            jsonl = Path(scratch) / f"export{JSONL}"
            parquet = Path(scratch) / f"export{PARQUET}" if parquet_available() else None
            count = self._write(jsonl, parquet, self._lines(since))
            if parquet is not None:  # the JSON Lines last: its presence marks the export done
                self._store.put_file(stem + PARQUET, parquet)
            self._store.put_file(stem + JSONL, jsonl)
            size = jsonl.stat().st_size
        return ExportRecord(stem + JSONL, kind, count, size, created)

    def exported_until(self) -> datetime | None:
        """What every row changed before is in an export (None: no export yet)."""
        found = self.exports()
        return found[0].created - EXPORT_MARGIN if found else None

    def exports(self) -> list[ExportRecord]:
        found = []
        for key in self._store.keys(PREFIX):
            kind = key.removeprefix(PREFIX).split("/", 1)[0]
            stamp = key.rsplit("-", 1)[-1].split(".", 1)[0]
            created = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            found.append(ExportRecord(key, kind, -1, self._store.size(key) or 0, created))
        return sorted(found, key=lambda r: r.created, reverse=True)

    def _lines(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        for product in self._products.stream(since, self._batch):
            yield _line(product)
        if self._deleted is not None:
            for entry in self._deleted.stream(since, self._batch):
                yield _line(entry)

    def _write(self, path: Path, parquet: Path | None, lines: Iterator[dict[str, Any]]) -> int:
        count = 0
        table = _ParquetSink(parquet, self._batch) if parquet is not None else None
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for line in lines:
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
                if table is not None:
                    table.add(line)
                count += 1
        if table is not None:
            table.close()
        return count


def _line(item: Product | DeletedProduct) -> dict[str, Any]:
    if isinstance(item, DeletedProduct):
        line = deleted_product_json(item, with_attributes=True)
    else:
        line = product_json(item, with_attributes=True)
    product = item.product if isinstance(item, DeletedProduct) else item
    line["ObjectKey"] = product.object_key or None
    return line


class _ParquetSink:
    """Rows to a Parquet file, one row group per ``batch`` rows (memory stays flat)."""

    def __init__(self, path: Path, batch: int):
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = [pa.field(name, pa.string()) for name in _STRINGS]
        fields += [pa.field("ContentLength", pa.int64()), pa.field("Online", pa.bool_())]
        fields += [pa.field(name, pa.string()) for name in _NESTED]
        self._pa = pa
        self._schema = pa.schema(fields)
        self._writer = pq.ParquetWriter(str(path), self._schema, compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self._batch = batch

    def add(self, line: dict[str, Any]) -> None:
        row = {name: line.get(name) for name in (*_STRINGS, "ContentLength", "Online")}
        for name in _NESTED:
            value = line.get(name)
            row[name] = json.dumps(value, separators=(",", ":")) if value is not None else None
        self._rows.append(row)
        if len(self._rows) >= self._batch:
            self._flush()

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, self._schema))
            self._rows = []


def export_summary(record: ExportRecord) -> dict[str, object]:
    return {
        "Name": record.name,
        "Kind": record.kind,
        "ContentLength": record.size,
        "CreationDate": odata_datetime(record.created),
    }
