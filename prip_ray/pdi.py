"""Read and write product packages (PDI folders, tar, gzip'd tar, zip): files, or streams.

``scan_package`` reads a package once: the raw bytes feed MD5 and BLAKE3 (the published
checksums) while the archive is unpacked on the fly to hash each member with SHA3-256 (what
manifest.safe declares). The format comes from the content, not the extension: real S2 PDIs
named ``.tar`` are gzip'd. Members that would escape the folder (absolute paths, ``..``,
links, devices) make the package invalid rather than being skipped silently.

Given a trace algorithm, the same pass also computes what a trace certifies (the object's
hash and each tar member's, exactly as ``hash_product`` gets them from the stored bytes), so
the Tracer never has to read the product back.

Reading is bounded (:class:`ScanLimits`): sparse members are refused, and so is an archive
whose members declare or unpack to more than its budget (a gzip or zip bomb), as soon as
they do, not after decompressing everything; past ``timeout_s`` the scan stops with
QcTimeout.

A package streamed from an S3 inbox is read the same way, once, from its first byte: tar
and gzip need no seeking; a zip does, so it is spooled to a scratch file as it is hashed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path, PurePosixPath
from typing import IO, Any

import blake3

from prip_ray.domain.hashing import ProductHashes, hasher
from prip_ray.domain.inventory import parse_inventory
from prip_ray.domain.package import (
    FILE,
    INVENTORY_FILE,
    MANIFEST_FILE,
    TAR,
    TAR_GZ,
    ZIP,
    FileEntry,
    Member,
    Package,
    PackageScan,
    ScanLimits,
)
from prip_ray.errors import InvalidMetadata, InvalidPackage, QcTimeout

CHUNK = 1 << 20
MAX_DOCUMENT = 16 << 20  # Inventory_Metadata.xml / manifest.safe larger than this are refused
_ZIP_LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field
_SERVED_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class _Budget:
    """What one scan may still unpack, and until when it may run."""

    def __init__(self, name: str, limits: ScanLimits, package_size: int):
        self._name = name
        self._limits = limits
        self._package_size = package_size
        self.allowed = limits.budget(package_size)
        self.unpacked = 0
        started = time.monotonic()
        self._deadline = None if limits.timeout_s is None else started + limits.timeout_s

    def declare(self, inventory: bytes) -> None:
        """Inventory_Metadata.xml says how big the product is: that much is allowed too."""
        try:
            declared = parse_inventory(inventory).data_size
        except InvalidMetadata:
            return  # QC refuses it later, with the reason
        self.allowed = self._limits.budget(self._package_size, declared)

    def admit(self, member: str, declared: int) -> None:
        if self.unpacked + declared > self.allowed:
            raise self._bomb(f"member {member} declares {declared} bytes")

    def spend(self, member: str, count: int) -> None:
        self.unpacked += count
        if self.unpacked > self.allowed:
            raise self._bomb(f"member {member} unpacks to more")
        self.tick()

    def tick(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise QcTimeout(
                f"{self._name}: reading it took longer than {self._limits.timeout_s:g} s "
                "(ingest.qc_timeout_s)"
            )

    def _bomb(self, what: str) -> InvalidPackage:
        return InvalidPackage(
            f"{self._name}: archive bomb: {what}; the {self._package_size} byte package may "
            f"unpack to {self.allowed} bytes at most (ingest.max_expansion, Data_Size)"
        )


class _HashingReader:
    """A file object that hashes every byte it hands out (MD5 + BLAKE3)."""

    def __init__(self, raw: _Prefixed, budget: _Budget, extra: Any = None):
        self._raw = raw
        self._budget = budget
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.blake3 = blake3.blake3()
        self.extra = extra  # the trace algorithm's digest, when that is not BLAKE3
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        self._budget.tick()
        data = self._raw.read(n)
        self.md5.update(data)
        self.blake3.update(data)
        if self.extra is not None:
            self.extra.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


def scan_package(
    package: Package, trace_algorithm: str | None = None, *, limits: ScanLimits | None = None
) -> PackageScan:
    """Scan the product file (or stream) ``package``; raise InvalidPackage if it cannot be
    read or is out of proportion, QcTimeout if reading it takes too long.
    ``trace_algorithm`` (BLAKE3, SHA256, SHA3): also compute the trace digests."""
    contents: list[dict[str, str]] | None = [] if trace_algorithm else None
    listing: list[Member] = []
    try:
        with ExitStack() as stack:
            raw, size = _open(package, stack)
            head = _read_head(raw)
            kind = _sniff(head)
            budget = _Budget(package.name, limits or ScanLimits(), size)
            extra = hasher(trace_algorithm) if trace_algorithm not in (None, "BLAKE3") else None
            reader = _HashingReader(_Prefixed(head, raw), budget, extra)
            if kind in (TAR, TAR_GZ):
                files, documents, root = _scan_tar(
                    reader, kind, budget, listing, trace_algorithm, contents
                )
            elif kind == ZIP:
                seekable = _seekable(package, reader, stack)
                files, documents, root = _scan_zip(seekable, budget, listing)
            else:
                files, documents, root = _scan_plain(package.name, reader), {}, ""
                listing.append(Member(package.name, files[package.name].size, 0))
            reader.drain()
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error) as e:
        raise InvalidPackage(f"{package.name}: unreadable package: {e}") from e
    trace = None
    if trace_algorithm is not None and contents is not None:
        whole = reader.extra.hexdigest() if reader.extra else reader.blake3.hexdigest()
        trace = ProductHashes(trace_algorithm, reader.size, whole, contents)
    return PackageScan(
        format=kind,
        size=reader.size,
        md5=reader.md5.hexdigest(),
        blake3=reader.blake3.hexdigest(),
        root=root,
        files=files,
        inventory=documents.get(INVENTORY_FILE),
        manifest=documents.get(MANIFEST_FILE),
        trace=trace,
        members=tuple(listing),
    )


def read_package(package: Package) -> bytes:
    """All of a (small) package's bytes: an OLQC report, parsed whole."""
    if isinstance(package, Path):
        return package.read_bytes()
    with package.open() as stream:
        return stream.read()


def sniff_format(path: Path) -> str:
    with path.open("rb") as f:
        return _sniff(_read_head(f))


def _sniff(head: bytes) -> str:
    if head[:2] == b"\x1f\x8b":
        return TAR_GZ
    if head[:4] == b"PK\x03\x04":
        return ZIP
    if len(head) == 512 and head[257:262] == b"ustar":
        return TAR
    return FILE


def _open(package: Package, stack: ExitStack) -> tuple[IO[bytes], int]:
    """The package's bytes from the first, and how many there are."""
    if isinstance(package, Path):
        raw = stack.enter_context(package.open("rb"))
        return raw, os.fstat(raw.fileno()).st_size
    return stack.enter_context(package.open()), package.size


def _read_head(raw: IO[bytes]) -> bytes:
    """The first 512 bytes (a tar header's worth); a stream may hand them out in parts."""
    head = b""
    while len(head) < 512 and (part := raw.read(512 - len(head))):
        head += part
    return head


class _Prefixed:
    """A stream with the bytes already read from its start put back in front."""

    def __init__(self, head: bytes, raw: IO[bytes]):
        self._head = head
        self._raw = raw

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._raw.read() if n < 0 else self._raw.read(n)
        if n < 0:
            data, self._head = self._head + self._raw.read(), b""
            return data
        data, self._head = self._head[:n], self._head[n:]
        return data


def _seekable(package: Package, reader: _HashingReader, stack: ExitStack) -> Path:
    """A zip is read by seeking: a file is read where it is, a stream is spooled to a file
    (hashed on the way, so it is still read once from its source)."""
    if isinstance(package, Path):
        return package
    package.spool_dir.mkdir(parents=True, exist_ok=True)
    folder = stack.enter_context(tempfile.TemporaryDirectory(dir=package.spool_dir))
    spooled = Path(folder, "package.zip")
    with spooled.open("wb") as spool:
        while chunk := reader.read(CHUNK):
            spool.write(chunk)
    return spooled


def _scan_tar(
    reader: _HashingReader,
    kind: str,
    budget: _Budget,
    listing: list[Member],
    trace_algorithm: str | None = None,
    contents: list[dict[str, str]] | None = None,
) -> tuple[dict[str, FileEntry], dict[str, bytes], str]:
    """``listing`` gets every member with where its bytes start (a Node download reads just
    those); ``contents`` each member's trace hash, named as in the tar (as the trace has it)."""
    mode = "r|gz" if kind == TAR_GZ else "r|"
    members: dict[str, FileEntry] = {}
    documents: dict[str, bytes] = {}
    with tarfile.open(fileobj=reader, mode=mode) as archive:  # type: ignore[call-overload]
        for member in archive:
            path = _safe_path(member.name, member.isdir())
            if member.isdir():
                listing.append(Member(path, 0, None, folder=True))
                continue
            if member.issparse():  # holes unpack to zeros: a few bytes, any size when read
                raise InvalidPackage(f"member {member.name} is a sparse file")
            if not member.isfile():
                raise InvalidPackage(f"member {member.name} is a link or device, not a file")
            budget.admit(member.name, member.size)
            listing.append(Member(path, member.size, member.offset_data))
            stream = archive.extractfile(member)
            assert stream is not None  # a regular file always has a stream
            # SHA3 is the member hash manifest.safe needs anyway: no second digest for it
            extra = hasher(trace_algorithm) if trace_algorithm not in (None, "SHA3") else None
            members[path], document = _hash_member(stream, path, budget, extra)
            if contents is not None:
                digest = extra.hexdigest() if extra else members[path].sha3_256
                contents.append({"path": member.name, "hash": digest})
            if document is not None:
                documents[path] = document
    return _rooted(members, documents)


def _scan_zip(
    path: Path, budget: _Budget, listing: list[Member]
) -> tuple[dict[str, FileEntry], dict[str, bytes], str]:
    """``listing`` gets every member with where its stored bytes start (a Node download reads
    just those, and inflates them if they are deflated)."""
    members: dict[str, FileEntry] = {}
    documents: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            name = _safe_path(info.filename, info.is_dir())
            if info.is_dir():
                listing.append(Member(name, 0, None, folder=True))
                continue
            if (info.external_attr >> 28) == 0o12:  # a symlink stored in the zip
                raise InvalidPackage(f"member {info.filename} is a link, not a file")
            budget.admit(info.filename, info.file_size)
            listing.append(_zip_member(raw, name, info))
            with archive.open(info) as stream:
                members[name], document = _hash_member(stream, name, budget)
            if document is not None:
                documents[name] = document
    return _rooted(members, documents)


def _zip_member(raw: IO[bytes], name: str, info: zipfile.ZipInfo) -> Member:
    """The member with the byte range of its data: past its local header, whose name and
    extra field may differ in length from the central directory's copy, so it is read."""
    if info.flag_bits & 0x1 or info.compress_type not in _SERVED_ZIP_METHODS:
        return Member(name, info.file_size, None)  # encrypted, or not inflatable by zlib
    raw.seek(info.header_offset)
    header = raw.read(_ZIP_LOCAL_HEADER)
    if len(header) < _ZIP_LOCAL_HEADER or header[:4] != b"PK\x03\x04":
        raise InvalidPackage(f"member {info.filename}: no local header where the zip says")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    offset = info.header_offset + _ZIP_LOCAL_HEADER + name_length + extra_length
    deflated = info.compress_size if info.compress_type == zipfile.ZIP_DEFLATED else None
    return Member(name, info.file_size, offset, deflated=deflated)


def _scan_plain(name: str, reader: _HashingReader) -> dict[str, FileEntry]:
    sha3 = hashlib.sha3_256()
    size = 0
    while chunk := reader.read(CHUNK):
        sha3.update(chunk)
        size += len(chunk)
    return {name: FileEntry(size, sha3.hexdigest())}


def _hash_member(
    stream: IO[bytes], path: str, budget: _Budget, extra: Any = None
) -> tuple[FileEntry, bytes | None]:
    keep = PurePosixPath(path).name in (INVENTORY_FILE, MANIFEST_FILE)
    sha3 = hashlib.sha3_256()
    kept = bytearray()
    size = 0
    while chunk := stream.read(CHUNK):
        budget.spend(path, len(chunk))
        sha3.update(chunk)
        if extra is not None:
            extra.update(chunk)
        size += len(chunk)
        if keep and len(kept) <= MAX_DOCUMENT:
            kept += chunk
    if keep and size > MAX_DOCUMENT:
        raise InvalidPackage(f"{path} is {size} bytes, more than a metadata file can be")
    if PurePosixPath(path).name == INVENTORY_FILE and len(PurePosixPath(path).parts) <= 2:
        budget.declare(bytes(kept))  # the PDI's own (at the top, or under its folder)
    return FileEntry(size, sha3.hexdigest()), bytes(kept) if keep else None


def _safe_path(name: str, is_dir: bool) -> str:
    path = PurePosixPath(name)
    if not path.parts:  # "." or "./": the archive's own top folder (``tar -C PDI -cf x .``)
        if is_dir:
            return "."
        raise InvalidPackage(f"member {name!r} is a file without a name")
    if path.is_absolute() or ".." in path.parts or name.startswith("\\") or ":" in path.parts[0]:
        raise InvalidPackage(f"member {name!r} would be written outside the product folder")
    return str(path)


def _rooted(
    members: dict[str, FileEntry], documents: dict[str, bytes]
) -> tuple[dict[str, FileEntry], dict[str, bytes], str]:
    """Strip the PDI folder name when every member sits under one folder."""
    tops = {PurePosixPath(p).parts[0] for p in members}
    nested = all(len(PurePosixPath(p).parts) > 1 for p in members)
    if len(tops) != 1 or not nested:
        return members, _top_documents(documents, ""), ""
    root = tops.pop()
    cut = len(root) + 1
    return {p[cut:]: e for p, e in members.items()}, _top_documents(documents, root), root


def _top_documents(documents: dict[str, bytes], root: str) -> dict[str, bytes]:
    """Only the PDI's own Inventory_Metadata.xml / manifest.safe, not one in a sub-folder."""
    prefix = f"{root}/" if root else ""
    return {
        name: documents[prefix + name]
        for name in (INVENTORY_FILE, MANIFEST_FILE)
        if prefix + name in documents
    }


def write_folder_as_tar(folder: Path, destination: Path, *, accept_hardlinks: bool = False) -> Path:
    """Write ``folder`` as a plain tar holding the folder itself, files sorted (reproducible).
    Links are refused, hard links too unless accepted: either could put a file from outside
    the product (a key of the PRIP) into it."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(destination, "w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(folder, arcname=folder.name, recursive=False)
        for path in _walk(folder):
            if path.is_symlink():
                raise InvalidPackage(f"{path} is a link: PDI folders hold plain files only")
            if not (path.is_file() or path.is_dir()):
                raise InvalidPackage(f"{path} is not a regular file: PDI folders hold files")
            if not accept_hardlinks and path.is_file() and path.stat().st_nlink > 1:
                raise InvalidPackage(f"{path} is a hard link: PDI folders hold their own files")
            archive.add(
                path,
                arcname=f"{folder.name}/{path.relative_to(folder).as_posix()}",
                recursive=False,
            )
    return destination


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        base = Path(dirpath)
        for name in dirnames:
            yield base / name
        for name in sorted(filenames):
            yield base / name


def published_name(source: Path) -> str:
    return source.name + ".tar" if _is_folder(source) else source.name


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def refuse_links(source: Path, *, accept_hardlinks: bool = False) -> None:
    """Raise InvalidPackage if ``source`` is a symbolic link or (unless accepted) a file
    with other names: publishing it would publish whatever it points to; or if it is no
    file at all (a FIFO, a device, a socket)."""
    if source.is_symlink():
        raise InvalidPackage(
            f"{source.name} is a symbolic link (to {os.readlink(source)}): links in the "
            "inbox are not followed"
        )
    mode = source.lstat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        # A FIFO blocks the reader until someone writes (a QC worker would hang for good),
        # a device reads the machine's own memory or disks.
        raise InvalidPackage(f"{source.name} is not a regular file or folder (mode {mode:o})")
    if not accept_hardlinks and not source.is_dir() and source.lstat().st_nlink > 1:
        raise InvalidPackage(
            f"{source.name} is a hard link ({source.lstat().st_nlink} names for one file): "
            "the inbox takes files that are theirs alone"
        )


def remove_source(path: Path) -> None:
    """Remove an ingested inbox entry (file or PDI folder); already gone is fine."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
