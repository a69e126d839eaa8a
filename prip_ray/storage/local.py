"""A local folder as object store (the embedded default), with the same contract as S3.

Writes go to a temporary file in the target folder, are fsynced, then renamed: a reader
sees either no object or the complete one, even if the process dies mid-copy. Keys are
relative POSIX paths that must stay inside the root, because they reach us from product
names and a crafted name must not write elsewhere. ``keys`` lists in the same byte order
as S3 (``a-b`` before ``a/x``), so callers see one behaviour whichever store is configured.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from prip_ray.errors import StorageError

CHUNK = 1 << 20
INCOMING = ".incoming-"  # temporary files of uploads in progress; never listed
OBJECT_MODE = 0o644  # mkstemp makes 0600; published bytes are meant to be read


class LocalObjectStore:
    def __init__(self, root: Path):
        self.root = root

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        try:
            fd, tmp = self._temp_file_beside(target)
            try:
                with os.fdopen(fd, "wb") as out, path.open("rb") as source:
                    shutil.copyfileobj(source, out, CHUNK)
                    out.flush()
                    os.fchmod(out.fileno(), OBJECT_MODE)
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)  # the rename itself survives a crash too
        except OSError as e:
            raise StorageError(f"cannot store {key} in {self.root}: {e}") from e

    @staticmethod
    def _temp_file_beside(target: Path) -> tuple[int, str]:
        """In the target's folder, so the rename is atomic."""
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            return tempfile.mkstemp(dir=target.parent, prefix=INCOMING)
        except FileNotFoundError:  # a concurrent delete pruned the folder as it emptied
            target.parent.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=target.parent, prefix=INCOMING)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Opens now, so an absent object fails before the caller starts an answer."""
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as e:
            raise StorageError(f"no object {key} in {self.root}") from e
        except OSError as e:
            raise StorageError(f"cannot read {key}: {e}") from e
        return self._chunks(handle, key, start, end)

    @staticmethod
    def _chunks(handle: BinaryIO, key: str, start: int, end: int | None) -> Iterator[bytes]:
        with handle:
            try:
                handle.seek(start)
                left = None if end is None else end - start + 1
                while left is None or left > 0:
                    chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
                    if not chunk:
                        return
                    if left is not None:
                        left -= len(chunk)
                    yield chunk
            except OSError as e:
                raise StorageError(f"reading {key} broke off: {e}") from e

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
        """Walks only the folder the prefix names, not the whole store."""
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self.root
        try:
            for key in self._walk(start, f"{folder}/" if folder else ""):
                if key.startswith(prefix):
                    yield key
        except OSError as e:
            raise StorageError(f"cannot list {self.root}: {e}") from e

    def _walk(self, folder: Path, base: str) -> Iterator[str]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        # A folder sorts as "name/": that is where its keys fall among its siblings' keys.
        entries.sort(key=lambda e: f"{e.name}/" if e.is_dir() else e.name)
        for entry in entries:
            if entry.is_dir():
                yield from self._walk(Path(entry.path), f"{base}{entry.name}/")
            elif not entry.name.startswith(INCOMING):
                yield base + entry.name

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not key or key.startswith("/") or ".." in parts or "\\" in key or "\0" in key:
            raise StorageError(f"object key {key!r} is not a relative path inside the store")
        return self.root.joinpath(*parts)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
