"""A package read as a stream (an S3 inbox object) scans to exactly what the same bytes give
read from a file, in every format, even from a stream that hands out a few bytes at a time
and cannot seek (a zip is spooled to scratch for that, and the spool is gone afterwards)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

import pytest

from prip_ray.domain.package import StreamedPackage
from prip_ray.errors import InvalidPackage
from prip_ray.pdi import scan_package
from tests.samples import TILE, extract_sample, retar, sample


class Trickle:
    """A stream with no seek that gives at most 1000 bytes a read, as a socket may."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, n: int | None = -1) -> bytes:
        return self._data.read(1000 if n is None or n < 0 else min(n, 1000))


def _streamed(path: Path, spool: Path) -> StreamedPackage:
    data = path.read_bytes()

    @contextmanager
    def opened() -> Iterator[IO[bytes]]:
        yield cast(IO[bytes], Trickle(data))

    return StreamedPackage(path.name, len(data), opened, spool)


def _zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder.parent).as_posix())
    return target


@pytest.mark.parametrize("kind", ["tar.gz", "tar", "zip", "file"])
def test_a_stream_scans_as_the_file_does(tmp_path: Path, kind: str) -> None:
    folder = extract_sample(TILE, tmp_path / "x")
    packages = {
        "tar.gz": lambda: sample(TILE),
        "tar": lambda: retar(folder, tmp_path / f"{TILE}.tar"),
        "zip": lambda: _zipped(folder, tmp_path / f"{TILE}.zip"),
        "file": lambda: next(folder.rglob("MTD_TL.xml")),
    }
    path = packages[kind]()
    spool = tmp_path / "spool"

    streamed = scan_package(_streamed(path, spool), "SHA256")

    assert streamed == scan_package(path, "SHA256")
    assert not spool.exists() or list(spool.iterdir()) == []  # a zip spool goes with the scan


def test_a_truncated_stream_is_an_unreadable_package(tmp_path: Path) -> None:
    broken = tmp_path / f"{TILE}.tar"
    broken.write_bytes(sample(TILE).read_bytes()[:5000])
    with pytest.raises(InvalidPackage, match="unreadable"):
        scan_package(_streamed(broken, tmp_path / "spool"))
