"""Trace hashes of a product's bytes: the whole object and each file inside it, in one pass.

The object is read as a stream of chunks (as the object store yields them); when it is a tar
(plain or gzip'd) its members are hashed while the tar is read, so per-file hashes cost no
second read. Algorithm names are the Traceability Service's: BLAKE3, SHA256, SHA3.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import blake3

ALGORITHMS: dict[str, Callable[[], Any]] = {
    "BLAKE3": blake3.blake3,
    "SHA256": hashlib.sha256,
    "SHA3": hashlib.sha3_256,
}
_GZIP = b"\x1f\x8b"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ProductHashes:
    algorithm: str
    size: int
    hash: str
    contents: list[dict[str, str]] = field(default_factory=list)  # [{"path", "hash"}]


def hasher(algorithm: str) -> Any:
    try:
        return ALGORITHMS[algorithm]()
    except KeyError:
        raise ValueError(
            f"unknown hash algorithm {algorithm!r} (one of {sorted(ALGORITHMS)})"
        ) from None


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of chunks that hashes what it hands out."""

    def __init__(self, chunks: Iterator[bytes], digest: Any, head: bytes = b""):
        self._chunks = chunks
        self._buffer = head
        self.digest = digest
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        n = min(len(target), len(self._buffer))
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        target[:n] = data
        self.digest.update(data)
        self.size += n
        return n

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def hash_product(chunks: Iterator[bytes], algorithm: str = "BLAKE3") -> ProductHashes:
    """Hash the object's bytes; tar members too. A tar that cannot be read as one is hashed
    as a plain file (the whole hash is what the trace certifies)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 512:
            break
    reader = _ChunkReader(chunks, hasher(algorithm), head)
    contents: list[dict[str, str]] = []
    if _is_tar(head):
        try:
            contents = _members(io.BufferedReader(reader, _CHUNK), algorithm)
        except (tarfile.TarError, EOFError, OSError, zlib.error):
            contents = []
    reader.drain()
    return ProductHashes(algorithm, reader.size, reader.digest.hexdigest(), contents)


def _is_tar(head: bytes) -> bool:
    if head.startswith(_GZIP):
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def _members(stream: io.BufferedReader, algorithm: str) -> list[dict[str, str]]:
    contents = []
    with tarfile.open(fileobj=stream, mode="r|*") as archive:
        for member in archive:
            if not member.isfile():
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            digest = hasher(algorithm)
            while block := source.read(_CHUNK):
                digest.update(block)
            contents.append({"path": member.name, "hash": digest.hexdigest()})
    return contents
