from datetime import UTC, datetime

import pytest

from prip_ray.domain.inventory import parse_inventory, parse_time
from prip_ray.domain.manifest import parse_manifest
from prip_ray.errors import InvalidMetadata
from tests.samples import GRANULE, TILE, extract_sample


def test_the_real_inventory_is_read(tmp_path) -> None:
    inventory = parse_inventory(
        (extract_sample(GRANULE, tmp_path) / "Inventory_Metadata.xml").read_bytes()
    )
    assert inventory.file_id == GRANULE
    assert inventory.file_type == "MSI_L0__GR"
    assert inventory.validity_start == datetime(2025, 8, 1, 7, 6, 20, 464000, tzinfo=UTC)
    assert (inventory.start_orbit, inventory.data_size, inventory.detector) == (
        43890,
        18374111,
        "04",
    )
    assert inventory.parent_id is not None and inventory.parent_id.startswith("S2B_OPER_MSI_L0__DS")
    assert inventory.ascending is False and inventory.cloud_percentage == 0
    assert len(inventory.points) >= 4


def test_the_real_manifest_lists_data_objects_with_sha3(tmp_path) -> None:
    objects = parse_manifest((extract_sample(TILE, tmp_path) / "manifest.safe").read_bytes())
    assert len(objects) > 50
    first = objects[0]
    assert first.checksum_name == "SHA3-256" and first.checksum == first.checksum.lower()
    assert all(not o.path.startswith("./") for o in objects)


def test_times_with_any_fraction() -> None:
    assert parse_time("UTC=2025-08-01T07:06:20").microsecond == 0
    assert parse_time("UTC=2025-08-01T07:06:20.5").microsecond == 500000
    assert parse_time("UTC=2025-08-01T07:06:20.000736").microsecond == 736
    with pytest.raises(InvalidMetadata, match="Validity"):
        parse_time("yesterday", "Validity_Start")


INVENTORY = (
    '<Inventory_Metadata xmlns="x"><File_ID>A</File_ID><File_Type>MSI_L0__GR</File_Type>'
    "<Validity_Start>UTC=2025-08-01T07:06:20</Validity_Start>{stop}{extra}</Inventory_Metadata>"
)


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        (b"<Inventory_Metadata><File_ID>", "well-formed"),
        (b"<Other/>", "root <Other>"),
        (INVENTORY.format(stop="", extra="").encode(), "Validity_Stop"),
        (
            INVENTORY.format(stop="<Validity_Stop>UTC=x</Validity_Stop>", extra="").encode(),
            "Validity_Stop",
        ),
        (
            INVENTORY.format(
                stop="<Validity_Stop>UTC=2025-08-01T07:06:21</Validity_Stop>",
                extra="<Data_Size>big</Data_Size>",
            ).encode(),
            "Data_Size",
        ),
        (
            INVENTORY.format(
                stop="<Validity_Stop>UTC=2025-08-01T07:06:21</Validity_Stop>",
                extra="<Geo_Pnt><LATITUDE>91</LATITUDE><LONGITUDE>0</LONGITUDE></Geo_Pnt>",
            ).encode(),
            "outside the globe",
        ),
    ],
)
def test_malformed_inventory_is_refused_with_the_field(document: bytes, complaint: str) -> None:
    with pytest.raises(InvalidMetadata, match=complaint):
        parse_inventory(document)


def test_manifest_paths_outside_the_product_are_refused() -> None:
    document = (
        b'<XFDU><byteStream size="1"><fileLocation href="../../etc/passwd"/></byteStream></XFDU>'
    )
    with pytest.raises(InvalidMetadata, match="outside"):
        parse_manifest(document)
