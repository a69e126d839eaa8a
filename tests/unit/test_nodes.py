"""A product's Nodes from its package: the members a scan records, the tree a client walks,
and one member's bytes read from the stored object (a byte range of a plain tar, a
decompressed stream of a gzip'd one)."""

import gzip
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from prip_ray.db.rows import listing_from_row, listing_row
from prip_ray.domain.nodes import NodeTree
from prip_ray.domain.package import TAR, TAR_GZ, ZIP, Member, PackageListing
from prip_ray.errors import InvalidQuery, ProductNotFound, StorageError
from prip_ray.odata.csdl import metadata_json, metadata_xml
from prip_ray.pdi import scan_package
from prip_ray.serve.nodes import node_json, parse_node_path
from prip_ray.services.nodes import member_bytes
from tests.samples import DATASTRIP, GRANULE, TILE, sample, zip_sample
from tests.unit.fakes import FakeObjectStore

MTD = "S2B_OPER_MTD_L0__GR_2BPS_20250801T074015_S20250801T070620_D04.xml"


class ChunkedStore(FakeObjectStore):
    """Hands out its objects in small chunks, as a store streams a large one, and counts
    the bytes it was asked for."""

    def __init__(self, chunk: int = 997) -> None:
        super().__init__()
        self.chunk = chunk
        self.asked = 0

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        data = self.objects[key][start : None if end is None else end + 1]
        self.asked += len(data)
        return iter([data[i : i + self.chunk] for i in range(0, len(data), self.chunk)])


def _plain_copy(stem: str, directory: Path) -> Path:
    """The real sample as a plain tar: the same tar stream, not gzip'd."""
    target = directory / f"{stem}.tar"
    target.write_bytes(gzip.decompress(sample(stem).read_bytes()))
    return target


def _members_by_tarfile(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive
            if m.isfile()
        }


def test_the_granule_tree_has_its_pdi_folder_at_the_root_and_empty_folders_too() -> None:
    listing = scan_package(sample(GRANULE)).listing
    tree = NodeTree(listing.members)
    [root] = tree.children()
    assert (root.name, root.content_length, root.member) == (GRANULE, 0, None)
    inside = {n.name: n for n in tree.children((GRANULE,))}
    assert set(inside) == {
        "Inventory_Metadata.xml", "manifest.safe", "rep_info", "IMG_DATA", "QI_DATA", MTD
    }  # fmt: skip
    assert root.children_number == 6
    assert (inside["IMG_DATA"].children_number, inside["rep_info"].children_number) == (0, 3)
    assert inside["manifest.safe"].content_length == 11677
    assert tree.children((GRANULE, "IMG_DATA")) == []


def test_files_and_folders_are_told_apart_and_unknown_names_are_not_found() -> None:
    tree = NodeTree(scan_package(sample(GRANULE)).members)
    with pytest.raises(ProductNotFound, match="is a file"):
        tree.children((GRANULE, "manifest.safe"))
    with pytest.raises(ProductNotFound, match="is a folder"):
        tree.file((GRANULE, "rep_info"))
    with pytest.raises(ProductNotFound, match="no node"):
        tree.node((GRANULE, "nothing.xml"))


def test_folders_named_only_by_their_files_paths_are_nodes() -> None:
    tree = NodeTree([Member("P/A/B/x.jp2", 5, 1536), Member("P/y.xml", 2, 2560)])
    assert [n.name for n in tree.children(("P",))] == ["A", "y.xml"]
    assert tree.node(("P", "A")).children_number == 1
    assert tree.file(("P", "A", "B", "x.jp2")).offset == 1536


@pytest.mark.parametrize("stem", [GRANULE, TILE])
def test_a_plain_tar_member_is_a_byte_range_of_the_stored_object(tmp_path, stem) -> None:
    package = _plain_copy(stem, tmp_path)
    scan = scan_package(package)
    assert scan.format == TAR
    store = ChunkedStore()
    store.objects["k"] = package.read_bytes()
    tree = NodeTree(scan.members)
    for name, content in _members_by_tarfile(package).items():
        member = tree.file(tuple(name.split("/")))
        store.asked = 0
        got = b"".join(member_bytes(store, "k", TAR, member, 0, member.size - 1))
        assert got == content
        assert store.asked == len(content)  # the member's bytes, nothing around them


def test_a_gzip_tar_member_is_inflated_from_the_stream_up_to_its_end(tmp_path) -> None:
    scan = scan_package(sample(TILE))
    assert scan.format == TAR_GZ
    store = ChunkedStore(chunk=4096)
    store.objects["k"] = sample(TILE).read_bytes()
    members = _members_by_tarfile(_plain_copy(TILE, tmp_path))
    tree = NodeTree(scan.members)
    mtd = tree.file((TILE, "MTD_TL.xml"))
    content = members[f"{TILE}/MTD_TL.xml"]
    assert b"".join(member_bytes(store, "k", TAR_GZ, mtd, 0, mtd.size - 1)) == content
    assert b"".join(member_bytes(store, "k", TAR_GZ, mtd, 100, 299)) == content[100:300]
    last = mtd.size - 1
    assert b"".join(member_bytes(store, "k", TAR_GZ, mtd, last, last)) == content[-1:]


@pytest.mark.parametrize(
    ("rest", "path", "listed"),
    [
        ("", (), True),
        ("(P)/Nodes", ("P",), True),
        ("('P')/Nodes(a.xml)", ("P", "a.xml"), False),
        ("(P)/Nodes('it''s')/Nodes", ("P", "it's"), True),
    ],
)
def test_node_paths_are_parsed_from_the_url(rest, path, listed) -> None:
    assert parse_node_path(rest) == (path, listed)


@pytest.mark.parametrize("rest", ["P/Nodes", "(P)Nodes", "(P)/Nodes/", "(P)/x", "()"])
def test_malformed_node_paths_are_a_bad_query(rest) -> None:
    with pytest.raises(InvalidQuery):
        parse_node_path(rest)


@pytest.mark.parametrize("stem", [GRANULE, DATASTRIP])
def test_a_zip_member_is_a_byte_range_stored_or_deflated(tmp_path, stem) -> None:
    package = zip_sample(stem, tmp_path, stored=(".xsd",))  # some members stored, some not
    scan = scan_package(package)
    assert scan.format == ZIP
    store = ChunkedStore(chunk=4096)
    store.objects["k"] = package.read_bytes()
    tree = NodeTree(scan.members)
    with zipfile.ZipFile(package) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        contents = {i.filename: archive.read(i) for i in infos}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    for info in infos:
        member = tree.file(tuple(info.filename.split("/")))
        assert (member.deflated is None) == (info.compress_type == zipfile.ZIP_STORED)
        store.asked = 0
        got = b"".join(member_bytes(store, "k", ZIP, member, 0, member.size - 1))
        assert got == contents[info.filename]
        assert store.asked == info.compress_size  # that member's bytes, nothing around them
        middle = b"".join(member_bytes(store, "k", ZIP, member, 100, 299))
        assert middle == contents[info.filename][100:300]


def test_zip_members_no_byte_range_reaches_are_listed_but_not_served() -> None:
    with pytest.raises(InvalidQuery, match="not served one by one"):
        member_bytes(FakeObjectStore(), "k", ZIP, Member("P/a.xml", 3, None), 0, 2)


def test_a_damaged_deflated_member_is_a_storage_error() -> None:
    store = FakeObjectStore()
    store.objects["k"] = b"PK" + b"\xff" * 64
    member = Member("P/a.xml", 300, 2, deflated=64)
    with pytest.raises(StorageError, match="damaged"):
        b"".join(member_bytes(store, "k", ZIP, member, 0, 299))


def test_the_node_json_is_what_metadata_declares() -> None:
    tree = NodeTree(scan_package(sample(GRANULE)).members)
    served = node_json(tree.node((GRANULE,)), "https://prip/odata/v1/Products(x)/Nodes(a)/Nodes")
    node = metadata_json()["OData.CSC"]["Node"]
    assert set(served) == {name for name in node if not name.startswith("$")}
    assert node["Nodes"] == {
        "$Kind": "NavigationProperty", "$Collection": True, "$Type": "OData.CSC.Node"
    }  # fmt: skip
    assert metadata_json()["OData.CSC"]["Product"]["Nodes"]["$Type"] == "OData.CSC.Node"
    assert '<EntityType Name="Node" HasStream="true">' in metadata_xml()


def test_listing_rows_keep_the_deflated_length_and_read_rows_written_before_it() -> None:
    members = (Member("P", 0, None, True), Member("P/a.xml", 9, 40, deflated=5))
    row = listing_row(uuid.uuid4(), PackageListing(ZIP, members))
    assert row["members"] == [["P", 0, None, True], ["P/a.xml", 9, 40, False, 5]]
    assert listing_from_row(row).members == members
    older = {"format": TAR, "members": [["P/a.xml", 9, 512, False]]}
    assert listing_from_row(older).members == (Member("P/a.xml", 9, 512),)


def test_a_zip_members_data_starts_after_its_own_local_header(tmp_path) -> None:
    """A streamed zip64 member's local header carries an extra field its central directory
    entry lacks: the data starts where the local header says, not the central one."""
    package = tmp_path / f"{GRANULE}.zip"
    content = b"<?xml version='1.0'?><x/>" * 400
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{GRANULE}/a.xml", "w", force_zip64=True) as member:
            member.write(content)
        archive.writestr(f"{GRANULE}/b.xml", content, compress_type=zipfile.ZIP_STORED)
    with zipfile.ZipFile(package) as archive:
        [first, _] = archive.infolist()
        assert len(first.extra) < 20  # the central entry has no zip64 field; the local one has
    store = FakeObjectStore()
    store.objects["k"] = package.read_bytes()
    tree = NodeTree(scan_package(package).members)
    for name in ("a.xml", "b.xml"):
        member = tree.file((GRANULE, name))
        assert b"".join(member_bytes(store, "k", ZIP, member, 0, member.size - 1)) == content
