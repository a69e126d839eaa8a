"""Archive bombs made on the fly, small on disk: a gzip'd tar that unpacks to gigabytes, a
sparse tar member, a zip whose directory declares more than it holds."""

from __future__ import annotations

import io
import struct
import tarfile
import time
import zipfile
import zlib
from pathlib import Path

MIB = 1 << 20


def gzip_tar_bomb(target: Path, zeros: int, members: dict[str, bytes]) -> Path:
    """A .tar.gz holding ``members`` then ``<top>/zeros.bin`` of ``zeros`` bytes (a multiple
    of 1 MiB). The zeros are one deflate block repeated: after a full flush a compressor
    forgets its history, so the same MiB always compresses to the same bytes. 1 GiB of
    zeros is about 1 MB on disk."""
    assert zeros % MIB == 0
    top = next(iter(members)).split("/")[0]
    head = io.BytesIO()
    with tarfile.open(fileobj=head, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        big = tarfile.TarInfo(f"{top}/zeros.bin")
        big.size = zeros
        header = big.tobuf(tarfile.GNU_FORMAT)
    prefix = _without_end(head.getvalue()) + header
    chunk = bytes(MIB)
    block = _flushed(chunk)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = bytes(1024)  # the two zero blocks that end a tar
    crc = zlib.crc32(prefix)
    for _ in range(zeros // MIB):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(prefix) + zeros + len(tail)
    with target.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00" + struct.pack("<I", int(time.time())) + b"\x00\xff")
        out.write(compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH))
        for _ in range(zeros // MIB):
            out.write(block)
        out.write(compressor.compress(tail) + compressor.flush())
        out.write(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return target


def _flushed(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def _without_end(tar_bytes: bytes) -> bytes:
    """The members of a tar written in memory, without its closing zero blocks."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        archive.getmembers()  # read to the end: offset is then where the zero blocks start
        end = archive.offset
    return tar_bytes[:end]


def sparse_tar(target: Path, name: str, real_size: int) -> Path:
    """A GNU tar whose one member is sparse: 512 bytes stored, ``real_size`` when read."""
    info = tarfile.TarInfo(name)
    info.size = 512
    info.type = tarfile.GNUTYPE_SPARSE
    header = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    sparse = tarfile.itn(real_size - 512, 12, tarfile.GNU_FORMAT) + tarfile.itn(
        512, 12, tarfile.GNU_FORMAT
    )
    header[386 : 386 + 24] = sparse
    header[482] = 0  # no extension blocks
    header[483:495] = tarfile.itn(real_size, 12, tarfile.GNU_FORMAT)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\x00 " % tarfile.calc_chksums(bytes(header))[0]
    target.write_bytes(bytes(header) + b"x" * 512 + bytes(1024))
    return target


def zip_declaring(target: Path, name: str, declared: int) -> Path:
    """A zip whose central directory says ``name`` unpacks to ``declared`` bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, bytes(MIB))
    data = bytearray(buffer.getvalue())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", min(declared, 0xFFFFFFFF))
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = struct.pack("<I", min(declared, 0xFFFFFFFF))
    target.write_bytes(bytes(data))
    return target
