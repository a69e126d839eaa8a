from shapely.geometry import Point

from prip_ray.domain.footprint import footprint_from_points, geometry_of, to_ewkt
from prip_ray.domain.inventory import parse_inventory
from tests.samples import TILE, extract_sample


def test_simple_footprint_keeps_the_points_in_order(tmp_path) -> None:
    inventory = parse_inventory(
        (extract_sample(TILE, tmp_path) / "Inventory_Metadata.xml").read_bytes()
    )
    footprint = footprint_from_points(inventory.points)
    assert footprint is not None
    assert footprint.geojson["type"] == "Polygon"
    ring = footprint.geojson["coordinates"][0]
    assert ring[0] == [94.198240551472423, 79.232285901835922]
    assert to_ewkt(footprint).startswith(
        "geography'SRID=4326;POLYGON((94.19824055147242 79.23228590183592,"
    )
    assert footprint.bbox[0] < 94.2 and footprint.bbox[2] > 99.4


def test_a_footprint_across_the_antimeridian_is_cut_in_two() -> None:
    footprint = footprint_from_points([(10, 170), (10, -170), (20, -170), (20, 170), (10, 170)])
    assert footprint is not None
    assert footprint.geojson["type"] == "MultiPolygon"
    assert footprint.bbox == (170.0, 10.0, 190.0, 20.0)  # unwrapped: small and indexable
    shape = geometry_of(footprint)
    assert shape.contains(Point(179, 15)) and shape.contains(Point(-179, 15))
    assert not shape.intersects(Point(0, 15))  # not the long way round the globe
    assert abs(shape.area - 200) < 1e-9
    assert to_ewkt(footprint).startswith("geography'SRID=4326;MULTIPOLYGON(((")


def test_a_footprint_round_the_pole_covers_the_pole() -> None:
    ring = [(80.0, -180.0 + 30 * i) for i in range(12)]
    footprint = footprint_from_points(ring)
    assert footprint is not None
    shape = geometry_of(footprint)
    assert shape.contains(Point(0, 85)) and shape.contains(Point(179, 89))
    assert not shape.contains(Point(0, 70))
    assert footprint.bbox == (-180.0, 80.0, 180.0, 90.0)


def test_a_south_polar_footprint_closes_through_the_south_pole() -> None:
    ring = [(-75.0, 170.0 - 40 * i) for i in range(9)]
    shape = geometry_of(footprint_from_points(ring))
    assert shape.contains(Point(10, -85)) and not shape.contains(Point(10, 60))


def test_too_few_points_give_no_footprint() -> None:
    assert footprint_from_points([]) is None
    assert footprint_from_points([(1, 1), (2, 2), (1, 1)]) is None
