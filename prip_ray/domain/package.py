"""What a single read of a product package tells: its files, checksums and key documents."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from prip_ray.domain.hashing import ProductHashes

INVENTORY_FILE = "Inventory_Metadata.xml"
MANIFEST_FILE = "manifest.safe"

FOLDER = "folder"
TAR = "tar"
TAR_GZ = "tar.gz"
ZIP = "zip"
FILE = "file"  # one plain file: a jp2, an OLQC report, raw telemetry


@dataclass(frozen=True)
class ScanLimits:
    """How far reading one package may go before it is refused.

    An archive may unpack to ``max_expansion`` times its own size, or to the Data_Size its
    Inventory_Metadata.xml declares when that is read first, and always to
    ``min_budget_bytes`` (small XML-heavy products compress well). Beyond that it is a bomb:
    refused at the first member that declares, or reaches, more. ``timeout_s`` bounds the
    time spent reading and hashing it (None: no bound).
    """

    max_expansion: float = 10.0
    min_budget_bytes: int = 64 << 20
    timeout_s: float | None = None

    def budget(self, package_size: int, declared_size: int | None = None) -> int:
        return max(
            self.min_budget_bytes, int(package_size * self.max_expansion), declared_size or 0
        )


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha3_256: str  # lower-case hex, as manifest.safe checksums are compared


@dataclass(frozen=True)
class Member:
    """One entry of a package as the archive holds it (root folder included): a file, or a
    folder (``size`` 0). ``offset``: where the file's bytes start in the tar stream (for a
    gzip'd tar, in the decompressed stream) or in the zip (after its local header); None
    where no byte range reaches them (an encrypted zip member, or one packed by a method
    other than stored or deflated). ``deflated``: the length of a deflated zip member's
    compressed bytes from ``offset``; None when the bytes are there as they are."""

    path: str
    size: int
    offset: int | None
    folder: bool = False
    deflated: int | None = None


@dataclass(frozen=True)
class PackageListing:
    """What a product's Nodes are built from: how its package is packed, and its members."""

    format: str  # TAR, TAR_GZ, ZIP or FILE
    members: tuple[Member, ...]


@dataclass(frozen=True)
class PackageScan:
    """``files`` are keyed by their path inside the PDI folder (``IMG_DATA/x.jp2``)."""

    format: str
    size: int  # bytes of the package as published
    md5: str
    blake3: str
    root: str = ""  # the PDI folder name inside the archive ("" if files sit at the top)
    files: dict[str, FileEntry] = field(default_factory=dict)
    inventory: bytes | None = None
    manifest: bytes | None = None
    trace: ProductHashes | None = None  # the digests a trace certifies, when asked for
    members: tuple[Member, ...] = ()  # every file and folder, in archive order (Nodes)

    @property
    def listing(self) -> PackageListing:
        return PackageListing(self.format, self.members)

    @property
    def content_bytes(self) -> int:
        """Sum of the file sizes, the figure Inventory_Metadata's Data_Size declares."""
        return sum(entry.size for entry in self.files.values())


@dataclass(frozen=True)
class StreamedPackage:
    """A package read as a stream rather than from a file (an S3 object): ``open`` gives a
    fresh stream from its first byte. A format that needs seeking (zip) is spooled to a
    file in ``spool_dir`` while it is hashed; tar, gzip'd tar and plain files are not."""

    name: str
    size: int
    open: Callable[[], AbstractContextManager[IO[bytes]]]
    spool_dir: Path


Package = Path | StreamedPackage  # a file on disk, or a stream
