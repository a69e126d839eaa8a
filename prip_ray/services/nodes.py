"""The bytes of one Node (one file inside a product's package), read from the object store.

A plain tar holds each member's bytes as one run at a known offset (recorded at ingestion):
a Node download is a ranged read of the stored object, whatever the product's size. A
gzip'd tar has no such run: its bytes are decompressed as a stream from the start of the
object up to the member's end, and what comes before is thrown away. That costs reading
and inflating everything in front of the member (for a 1 GB .tar.gz, up to the whole
gigabyte and a few seconds of one core) although only the member is sent.

A zip keeps each member apart, at an offset recorded at ingestion: a stored member is a
ranged read as in a plain tar; a deflated one is a ranged read of its compressed bytes,
inflated as a stream (raw deflate), so it costs reading and inflating that member alone,
however large the zip (a Range inside it inflates, and throws away, what comes before).
Encrypted members, and members packed by another method, are listed but not served.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from prip_ray.domain.package import FILE, TAR, TAR_GZ, ZIP, Member
from prip_ray.errors import InvalidQuery, StorageError
from prip_ray.ports import ObjectStore

INFLATE_STEP = 1 << 20  # decompressed bytes produced per step: memory stays bounded
GZIP_FRAMING = zlib.MAX_WBITS | 16
RAW_DEFLATE = -zlib.MAX_WBITS  # a zip member's deflated bytes: no header, no trailer


def member_bytes(
    store: ObjectStore, key: str, package_format: str, member: Member, start: int, end: int
) -> Iterator[bytes]:
    """The member's bytes ``start..end`` (inclusive, within the member) from object ``key``."""
    if member.offset is None or package_format not in (TAR, TAR_GZ, ZIP, FILE):
        raise InvalidQuery(
            f"{member.path}: files of a {package_format} package are not served one by one; "
            "download the product"
        )
    if end < start:  # an empty file: nothing to read, but an answer all the same
        return iter(())
    length = end - start + 1
    if package_format == TAR_GZ:
        return _inflated(store.read(key), member.offset + start, length, key, GZIP_FRAMING)
    if member.deflated is not None:
        packed = store.read(key, member.offset, member.offset + member.deflated - 1)
        return _inflated(packed, start, length, key, RAW_DEFLATE)
    return store.read(key, member.offset + start, member.offset + end)


def _inflated(
    compressed: Iterator[bytes], skip: int, length: int, key: str, wbits: int
) -> Iterator[bytes]:
    """``length`` bytes from ``skip`` on in the decompressed stream of ``compressed``."""
    inflater = zlib.decompressobj(wbits)
    try:
        for chunk in compressed:
            data = chunk
            while data and length > 0:
                try:
                    out = inflater.decompress(data, INFLATE_STEP)
                except zlib.error as e:
                    raise StorageError(f"{key}: the stored deflate stream is damaged: {e}") from e
                data = inflater.unconsumed_tail
                if inflater.eof:  # a concatenated gzip member starts after this one
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(wbits)
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
