import hashlib
import tarfile
import zipfile

import blake3
import pytest

from prip_ray.domain.hashing import hash_product
from prip_ray.domain.package import FILE, TAR, TAR_GZ, ZIP
from prip_ray.errors import InvalidPackage
from prip_ray.pdi import scan_package, write_folder_as_tar
from tests.samples import SAMPLES_DIR, TILE, extract_sample, retar, sample, tar_with


def test_gzip_tar_named_tar_is_detected_and_hashed_in_one_pass() -> None:
    scan = scan_package(sample(TILE))
    data = sample(TILE).read_bytes()
    assert scan.format == TAR_GZ
    assert (scan.size, scan.md5) == (len(data), hashlib.md5(data).hexdigest())
    assert scan.blake3 == blake3.blake3(data).hexdigest()
    assert scan.root == TILE
    assert scan.inventory is not None and b"<File_ID>" + TILE.encode() in scan.inventory
    assert scan.manifest is not None
    assert scan.files["MTD_TL.xml"].size > 0


def test_folder_written_as_tar_scans_to_the_same_files(tmp_path) -> None:
    folder = extract_sample(TILE, tmp_path / "x")
    packed = write_folder_as_tar(folder, tmp_path / "out" / f"{TILE}.tar")
    plain, original = scan_package(packed), scan_package(sample(TILE))
    assert plain.format == TAR
    assert plain.files == original.files
    assert write_folder_as_tar(folder, tmp_path / "again.tar").read_bytes() == packed.read_bytes()


def test_zip_packages_are_read(tmp_path) -> None:
    folder = extract_sample(TILE, tmp_path / "x")
    target = tmp_path / f"{TILE}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder.parent).as_posix())
    scan = scan_package(target)
    assert scan.format == ZIP and scan.root == TILE
    assert scan.files == scan_package(sample(TILE)).files


def test_plain_file_is_one_file(tmp_path) -> None:
    target = tmp_path / "S2B_OPER_MSI_L1C_TC_2BPS_20231015T123456_A043890_T39UWP_N02.08.jp2"
    target.write_bytes(b"\x00\x00\x00\x0cjP  " + b"x" * 1000)
    scan = scan_package(target)
    assert scan.format == FILE and list(scan.files) == [target.name]
    assert scan.files[target.name].sha3_256 == hashlib.sha3_256(target.read_bytes()).hexdigest()


@pytest.mark.parametrize("member", ["../evil", "/etc/evil", "a/../../evil"])
def test_members_escaping_the_folder_are_refused(tmp_path, member: str) -> None:
    with pytest.raises(InvalidPackage, match="outside"):
        scan_package(tar_with(tmp_path / "p.tar", {"PDI/ok": b"1", member: b"2"}))


def test_links_are_refused(tmp_path) -> None:
    folder = tmp_path / "PDI"
    folder.mkdir()
    (folder / "link").symlink_to("/etc/passwd")
    target = retar(folder, tmp_path / "p.tar")
    with pytest.raises(InvalidPackage, match="link"):
        scan_package(target)
    with pytest.raises(InvalidPackage, match="link"):
        write_folder_as_tar(folder, tmp_path / "q.tar")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_archive_is_unreadable(tmp_path, keep: float) -> None:
    data = sample(TILE).read_bytes()
    target = tmp_path / f"{TILE}.tar"
    target.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InvalidPackage, match="unreadable"):
        scan_package(target)


def test_a_dot_slash_top_folder_is_read_and_a_nameless_file_refused(tmp_path) -> None:
    folder = extract_sample(TILE, tmp_path / "x")
    target = tmp_path / "dot.tar"
    with tarfile.open(target, "w") as archive:
        archive.add(folder, arcname=".")  # "./" first, then "./MTD_TL.xml", ...
    assert scan_package(target).files == scan_package(sample(TILE)).files
    with pytest.raises(InvalidPackage, match="without a name"):
        scan_package(tar_with(tmp_path / "p.tar", {"PDI/ok": b"1", "./": b"2"}))


def test_hardlink_and_symlink_members_pointing_outside_are_refused(tmp_path) -> None:
    for kind in (tarfile.LNKTYPE, tarfile.SYMTYPE):
        target = tmp_path / f"{kind!r}.tar"
        with tarfile.open(target, "w") as archive:
            info = tarfile.TarInfo("PDI/key.pem")
            info.type, info.linkname = kind, "/data/prip/token-key.pem"
            archive.addfile(info)
        with pytest.raises(InvalidPackage, match="link"):
            scan_package(target)


def _packages(tmp_path) -> list:
    """Every kind of package: the samples as they come (plain and gzip'd tars), a folder
    packed by the ingestor, a zip and a plain file."""
    folder = extract_sample(TILE, tmp_path / "x")
    zipped = tmp_path / f"{TILE}.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder.parent).as_posix())
    plain = tmp_path / "report.xml"
    plain.write_bytes(b"<report>" + b"x" * 5000 + b"</report>")
    return [
        *sorted(SAMPLES_DIR.glob("S2B_*.tar")),
        write_folder_as_tar(folder, tmp_path / "packed" / f"{TILE}.tar"),
        retar(folder, tmp_path / f"{TILE}.tar.gz", gzip=True),
        zipped,
        plain,
    ]


@pytest.mark.parametrize("algorithm", ["BLAKE3", "SHA256", "SHA3"])
def test_trace_digests_are_what_hashing_the_stored_bytes_gives(tmp_path, algorithm) -> None:
    """The Tracer certifies the scan's digests instead of reading the product again: they
    must be exactly what ``hash_product`` computes from the bytes, members included."""
    for package in _packages(tmp_path):
        scan = scan_package(package, algorithm)
        with package.open("rb") as f:
            expected = hash_product(iter(lambda: f.read(65536), b""), algorithm)
        assert scan.trace == expected, package.name
        assert scan.md5 == hashlib.md5(package.read_bytes()).hexdigest()
    assert scan_package(sample(TILE)).trace is None  # not asked for: not computed
