"""A local folder as object store (the embedded default), with the same contract as S3.

Writes go to a temporary file in the target folder, are fsynced, then renamed: a reader
sees either no object or the complete one, even if the process dies mid-copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from prip_ray.errors import StorageError

CHUNK = 1 << 20


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = root

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as out, path.open("rb") as source:
                    shutil.copyfileobj(source, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StorageError(f"cannot store {key} in {self.root}: {e}") from e

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as e:
            raise StorageError(f"no object {key} in {self.root}") from e
        except OSError as e:
            raise StorageError(f"cannot read {key}: {e}") from e
        return self._chunks(handle, start, end)

    @staticmethod
    def _chunks(handle, start: int, end: int | None) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
        with handle:
            handle.seek(start)
            left = None if end is None else end - start + 1
            while left is None or left > 0:
                chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError(f"cannot stat {key}: {e}") from e

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()  # keep the store free of empty <Id>/ folders
                parent = parent.parent
        except OSError as e:
            raise StorageError(f"cannot delete {key}: {e}") from e

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.exists():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(".incoming-"):
                    continue
                key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or ".." in parts or "\\" in key:
            raise StorageError(f"object key {key!r} is not a relative path inside the store")
        return self.root.joinpath(*parts)
