"""Where a bulk re-ingestion reads products: a local (or mounted) folder, or an S3 prefix.

A product is a file or a folder (a PDI) directly under the root; in S3 a folder is every key
under ``<prefix><name>/``. ``fetch`` gives a local path to ingest from (the folder's own
path, or a copy of the S3 object(s) in a scratch folder). An S3 key is someone else's text:
one with ``..``, ``.``, empty or absolute parts would be written outside the product's
folder in scratch (or over a file of the PRIP), so the whole product is refused instead.
"""

from __future__ import annotations

import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from prip_ray.config import S3Settings
from prip_ray.errors import ConfigurationError, InvalidPackage, StorageError
from prip_ray.ports.sources import ProductSource
from prip_ray.storage.s3 import S3ObjectStore

_HIDDEN = (".", "_")
_PARTIAL = (".part", ".tmp", ".partial", ".filepart")


def open_source(uri: str, s3: S3Settings) -> ProductSource:
    """``/data/products``, ``file:///data/products`` or ``s3://bucket/prefix``."""
    parsed = urllib.parse.urlsplit(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError(f"{uri}: an S3 source needs a bucket (s3://bucket/prefix)")
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return S3Source(
            S3ObjectStore(s3.model_copy(update={"bucket": parsed.netloc, "prefix": prefix}))
        )
    root = Path(parsed.path if parsed.scheme == "file" else uri)
    if not root.is_dir():
        raise ConfigurationError(f"{uri}: no such folder")
    return FolderSource(root)


def _wanted(name: str) -> bool:
    return not name.startswith(_HIDDEN) and not name.endswith(_PARTIAL)


class FolderSource:
    def __init__(self, root: Path):
        self.root = root

    def names(self) -> Iterator[str]:
        for entry in sorted(self.root.iterdir()):
            if _wanted(entry.name) and not entry.name.endswith(".reason.json"):
                yield entry.name

    def fetch(self, name: str, scratch: Path) -> Path:
        return self.root / name  # ingested in place; re-ingestion never removes its source

    def size(self, name: str) -> int:
        path = self.root / name
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size


class S3Source:
    def __init__(self, store: S3ObjectStore):
        self._store = store

    def names(self) -> Iterator[str]:
        seen: set[str] = set()
        for key in self._store.keys(""):
            name = key.split("/", 1)[0]
            if name and _wanted(name) and name not in seen:
                seen.add(name)
                yield name

    def fetch(self, name: str, scratch: Path) -> Path:
        if self._store.size(name) is not None:
            return self._download(name, scratch / name)
        keys = list(self._store.keys(f"{name}/"))
        if not keys:
            raise StorageError(f"s3://{self._store.bucket}: no product {name}")
        for key in keys:
            self._download(key, _inside(scratch, key))
        return scratch / name

    def size(self, name: str) -> int:
        size = self._store.size(name)
        if size is not None:
            return size
        return sum(self._store.size(k) or 0 for k in self._store.keys(f"{name}/"))

    def _download(self, key: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            for chunk in self._store.read(key):
                out.write(chunk)
        return target


def _inside(scratch: Path, key: str) -> Path:
    """Where ``key`` goes under ``scratch``; InvalidPackage if it would go anywhere else."""
    parts = key.split("/")
    if key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise InvalidPackage(f"S3 key {key!r} points outside its product folder")
    return scratch.joinpath(*PurePosixPath(key).parts)


def clear(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
