"""Which tile and true-colour product pair (the same tile and sensing), and the quicklook a
TC product is to itself and lends to its tile."""

import uuid

from prip_ray.domain.assets import QUICKLOOK, asset_id, borrowed, quicklook
from prip_ray.domain.naming import parse_name
from prip_ray.domain.package import Member
from prip_ray.domain.true_colour import is_true_colour, sensing_key
from tests.samples import GRANULE, TILE, TRUE_COLOUR


def test_a_tile_and_its_true_colour_product_share_a_sensing_key() -> None:
    tile, image = parse_name(f"{TILE}.tar"), parse_name(TRUE_COLOUR)
    assert sensing_key(tile) == sensing_key(image) == "S2B_L2A_T47XMH_A043890"
    assert (is_true_colour(tile), is_true_colour(image)) == (False, True)


def test_other_levels_orbits_and_products_do_not_pair() -> None:
    l1c = parse_name(TRUE_COLOUR.replace("MSI_L2A_TC", "MSI_L1C_TC"))
    other_orbit = parse_name(TRUE_COLOUR.replace("A043890", "A043891"))
    keys = {sensing_key(l1c), sensing_key(other_orbit), sensing_key(parse_name(f"{TILE}.tar"))}
    assert len(keys) == 3
    reprocessed = parse_name(TRUE_COLOUR.replace("N05.11", "N05.12"))
    assert sensing_key(reprocessed) == "S2B_L2A_T47XMH_A043890"  # the same scene
    assert sensing_key(parse_name(f"{GRANULE}.tar")) is None
    assert sensing_key(parse_name(f"{TILE.replace('MSI_L2A_TL', 'MSI_L1B_TL')}.tar")) is None


def test_a_true_colour_product_is_its_own_quicklook_and_lends_it() -> None:
    image_id, tile_id = uuid.uuid4(), uuid.uuid4()
    own = quicklook(image_id, [Member(TRUE_COLOUR, 1000, 0)])
    assert own is not None
    assert (own.type, own.path, own.source) == (QUICKLOOK, TRUE_COLOUR, None)
    lent = borrowed(tile_id, image_id, own)
    assert (lent.type, lent.path, lent.source) == (QUICKLOOK, TRUE_COLOUR, image_id)
    assert lent.id == asset_id(tile_id, f"{image_id}/{TRUE_COLOUR}") != own.id
    assert quicklook(image_id, [Member("S2B_OPER_MSI_L1C_DS_x.jp2", 1000, 0)]) is None
