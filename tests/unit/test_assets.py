"""A product's quicklook, found among its package's members: the tile's PVI, else its
coarsest true-colour image, else nothing."""

import uuid

from prip_ray.domain.assets import QUICKLOOK, asset_id, quicklook
from prip_ray.domain.package import Member
from prip_ray.pdi import scan_package
from tests.samples import GRANULE, TILE, sample, tile_with_preview

PVI = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(range(256))


def test_the_tiles_pvi_is_its_quicklook(tmp_path) -> None:
    members = scan_package(tile_with_preview(tmp_path, PVI)).members
    product_id = uuid.uuid4()
    found = quicklook(product_id, members)
    assert found is not None
    assert found.type == QUICKLOOK
    assert found.path == f"{TILE}/QI_DATA/T47XMH_20250801T070619_PVI.jp2"
    assert found.id == asset_id(product_id, found.path) == quicklook(product_id, members).id  # type: ignore[union-attr]


def test_products_without_a_preview_have_no_quicklook() -> None:
    assert quicklook(uuid.uuid4(), scan_package(sample(TILE)).members) is None  # stripped
    assert quicklook(uuid.uuid4(), scan_package(sample(GRANULE)).members) is None


def test_without_a_pvi_the_coarsest_true_colour_image_is_taken() -> None:
    members = [
        Member(f"P/IMG_DATA/R{r}/T47XMH_20250801T070619_TCI_{r}.jp2", 9, 512 * i)
        for i, r in enumerate(["10m", "20m", "60m"], start=1)
    ] + [Member("P/QI_DATA/T47XMH_20250801T070619_PVI.jp2", 0, 4096)]  # an empty PVI
    found = quicklook(uuid.uuid4(), members)
    assert found is not None and found.path.endswith("_TCI_60m.jp2")
