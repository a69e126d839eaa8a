"""The bytes of one Node (one file inside a product's package), read from the object store.

A plain tar holds each member's bytes as one run at a known offset (recorded at ingestion):
a Node download is a ranged read of the stored object, whatever the product's size. A
gzip'd tar has no such run: its bytes are decompressed as a stream from the start of the
object up to the member's end, and what comes before is thrown away. That costs reading
and inflating everything in front of the member (for a 1 GB .tar.gz, up to the whole
gigabyte and a few seconds of one core) although only the member is sent. Zip members are
listed but not served one by one (deflated, with no byte range to read).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from prip_ray.domain.package import FILE, TAR, TAR_GZ, Member
from prip_ray.errors import InvalidQuery, StorageError
from prip_ray.ports import ObjectStore

INFLATE_STEP = 1 << 20  # decompressed bytes produced per step: memory stays bounded


def member_bytes(
    store: ObjectStore, key: str, package_format: str, member: Member, start: int, end: int
) -> Iterator[bytes]:
    """The member's bytes ``start..end`` (inclusive, within the member) from object ``key``."""
    if member.offset is None or package_format not in (TAR, TAR_GZ, FILE):
        raise InvalidQuery(
            f"{member.path}: files of a {package_format} package are not served one by one; "
            "download the product"
        )
    if end < start:  # an empty file: nothing to read, but an answer all the same
        return iter(())
    if package_format == TAR_GZ:
        return _inflated(store.read(key), member.offset + start, end - start + 1, key)
    return store.read(key, member.offset + start, member.offset + end)


def _inflated(compressed: Iterator[bytes], skip: int, length: int, key: str) -> Iterator[bytes]:
    """``length`` bytes from ``skip`` on in the decompressed stream of ``compressed``."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)  # gzip framing
    try:
        for chunk in compressed:
            data = chunk
            while data and length > 0:
                try:
                    out = inflater.decompress(data, INFLATE_STEP)
                except zlib.error as e:
                    raise StorageError(f"{key}: the stored gzip stream is damaged: {e}") from e
                data = inflater.unconsumed_tail
                if inflater.eof:  # a concatenated gzip member starts after this one
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                if skip >= len(out):
                    skip -= len(out)
                    continue
                piece = out[skip : skip + length]
                skip = 0
                length -= len(piece)
                yield piece
            if length <= 0:
                return
        if length > 0:
            raise StorageError(f"{key}: the stored object ends before the member does")
    finally:
        close = getattr(compressed, "close", None)
        if close is not None:
            close()
