"""STAC without HTTP: search parameters become the OData search's AST and options,
collections come from the product type registry, products become Items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from prip_ray.domain.product_types import default_registry
from prip_ray.domain.products import Attribute, Footprint, Product, TimeRange
from prip_ray.errors import InvalidQuery
from prip_ray.odata import ast
from prip_ray.odata.evaluate import matches
from prip_ray.stac.collections import collection_of, stac_collections
from prip_ray.stac.items import EO, SAT, item_json
from prip_ray.stac.search import (
    NOTHING,
    ItemSearch,
    Limits,
    parse_interval,
    query_options,
    search_from_body,
    search_from_query,
)

LIMITS = Limits()
COLLECTIONS = stac_collections(default_registry())
START = ast.Property(("ContentDate", "Start"))
END = ast.Property(("ContentDate", "End"))
T0 = datetime(2025, 8, 1, 7, 6, 20, tzinfo=UTC)
TILE = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMH_N05.11.tar"


def product(name: str = TILE, product_type: str = "MSI_L2A_TL", **changes: object) -> Product:
    values: dict[str, object] = dict(
        id=uuid4(),
        name=name,
        product_type=product_type,
        content_type="application/octet-stream",
        content_length=10,
        origin_date=T0,
        publication_date=T0 + timedelta(hours=1),
        eviction_date=T0 + timedelta(days=7),
        modification_date=T0 + timedelta(hours=1),
        content_date=TimeRange(T0, T0 + timedelta(seconds=5)),
        object_key="k",
        footprint=Footprint(
            {"type": "Polygon", "coordinates": [[[10, 40], [11, 40], [11, 41], [10, 40]]]},
            (10.0, 40.0, 11.0, 41.0),
        ),
        attributes=(
            Attribute("productType", "String", product_type),
            Attribute("platformShortName", "String", "SENTINEL-2"),
            Attribute("platformSerialIdentifier", "String", "B"),
            Attribute("instrumentShortName", "String", "MSI"),
            Attribute("processingLevel", "String", "Level-2A"),
            Attribute("orbitNumber", "Integer", 43890),
            Attribute("orbitDirection", "String", "DESCENDING"),
        ),
    )
    values.update(changes)
    return Product(**values)  # type: ignore[arg-type]


def test_collections_are_product_families_of_the_registry() -> None:
    assert {"sentinel-2-granule", "sentinel-2-tile", "sentinel-2-auxiliary"} <= set(COLLECTIONS)
    tiles = COLLECTIONS["sentinel-2-tile"]
    assert tiles.levels == ("Level-1B", "Level-1C", "Level-2A")
    assert collection_of(COLLECTIONS, TILE, "MSI_L2A_TL") is tiles
    aux = "S2B_OPER_AUX_UT1UTC_PDMC_20250801T000000_V20250801T000000_20260801T000000"
    assert collection_of(COLLECTIONS, aux, "AUX_UT1UTC") is COLLECTIONS["sentinel-2-auxiliary"]
    # the collection's filter finds what it holds, evaluated as a subscription would
    assert matches(tiles.condition(), product())
    assert not matches(tiles.condition(), product(product_type="MSI_L0__GR"))
    assert not matches(tiles.condition(), product(name="S1A" + TILE[3:]))
    assert matches(COLLECTIONS["sentinel-2-auxiliary"].condition(), product(aux, "AUX_UT1UTC"))


def test_get_parameters_become_one_conjunction_of_odata_conditions() -> None:
    search = search_from_query(
        {
            "bbox": "10,40,11,41",
            "datetime": "2025-08-01T00:00:00Z/2025-08-02T00:00:00Z",
            "collections": "sentinel-2-tile,landsat-8",
            "ids": f"{TILE},other",
            "limit": "5",
            "token": "next:10",
        },
        LIMITS,
    )
    options = query_options(search, COLLECTIONS)
    assert (options.top, options.skip, options.orderby) == (5, 10, ())
    assert options.filter is not None
    tree = options.filter
    assert isinstance(tree, ast.And) and isinstance(tree.left, ast.And)
    assert isinstance(tree.left.left, ast.And)
    (collections, ids), area, time = (
        (tree.left.left.left, tree.left.left.right),
        tree.left.right,
        tree.right,
    )
    assert collections == COLLECTIONS["sentinel-2-tile"].condition()  # landsat-8: nothing
    assert ids == ast.In(ast.Property(("Name",)), (TILE, "other"))
    assert isinstance(area, ast.Intersects) and area.bbox == (10.0, 40.0, 11.0, 41.0)
    assert time == ast.And(
        ast.Compare("le", START, datetime(2025, 8, 2, tzinfo=UTC)),
        ast.Compare("ge", END, datetime(2025, 8, 1, tzinfo=UTC)),
    )
    assert matches(options.filter, product())
    assert not matches(
        options.filter,
        product(content_date=TimeRange(T0 - timedelta(days=9), T0 - timedelta(days=8))),
    )


def test_post_body_is_the_same_search_and_next_pages_carry_a_token() -> None:
    body = {"bbox": [10, 40, 11, 41], "collections": ["sentinel-2-tile"], "limit": 2}
    search = search_from_body(body, LIMITS)
    assert search == search_from_query(
        {"bbox": "10,40,11,41", "collections": "sentinel-2-tile", "limit": "2"}, LIMITS
    )
    following = search.following()
    assert following.offset == 2 and following.as_body()["token"] == "next:2"
    assert search_from_body(following.as_body(), LIMITS) == following
    assert search_from_query(following.as_query(), LIMITS) == following
    assert query_options(ItemSearch(collections=()), COLLECTIONS).filter == NOTHING


def test_datetime_keeps_stac_meaning_of_instants_and_open_intervals() -> None:
    assert parse_interval("2025-08-01T07:06:22Z") == (T0 + timedelta(seconds=2),) * 2
    assert parse_interval("../2025-08-01T00:00:00+02:00") == (
        None,
        datetime(2025, 7, 31, 22, tzinfo=UTC),
    )
    assert parse_interval("2025-08-01T00:00:00Z/")[1] is None
    inside = search_from_query({"datetime": "2025-08-01T07:06:22Z"}, LIMITS)
    assert matches(query_options(inside, COLLECTIONS).filter, product())  # type: ignore[arg-type]
    later = search_from_query({"datetime": "2025-08-01T07:06:26Z/.."}, LIMITS)
    assert not matches(query_options(later, COLLECTIONS).filter, product())  # type: ignore[arg-type]


def test_a_bbox_across_the_antimeridian_is_both_sides() -> None:
    search = search_from_query({"bbox": "170,-10,-170,10"}, LIMITS)
    (area,) = ast.conjuncts(query_options(search, COLLECTIONS).filter)  # type: ignore[arg-type]
    assert isinstance(area, ast.Intersects)
    assert area.geometry.geom_type == "MultiPolygon" and area.geometry.area == 20 * 20


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "0,50,1,40"},
        {"bbox": "0,0,1,1", "intersects": '{"type":"Point","coordinates":[0,0]}'},
        {"intersects": '{"type":"Point","coordinates":[0]}'},
        {"intersects": '{"type":"Point","coordinates":[200,0]}'},
        {"intersects": "[]"},
        {"datetime": "2025-13-01T00:00:00Z"},
        {"datetime": "../.."},
        {"datetime": "2025-08-02T00:00:00Z/2025-08-01T00:00:00Z"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "²"},
        {"token": "20"},
        {"token": "next:10001"},
    ],
)
def test_mistakes_are_invalid_queries(params: dict[str, str]) -> None:
    with pytest.raises(InvalidQuery):
        search_from_query(params, LIMITS)


def test_a_product_becomes_an_item_with_its_download_and_metadata_as_assets() -> None:
    tile = product()
    item = item_json("https://prip.example", tile, COLLECTIONS["sentinel-2-tile"])
    assert item["id"] == TILE and item["collection"] == "sentinel-2-tile"
    assert item["bbox"] == [10.0, 40.0, 11.0, 41.0] and item["geometry"]["type"] == "Polygon"
    properties = item["properties"]
    assert properties["datetime"] == properties["start_datetime"] == "2025-08-01T07:06:20.000Z"
    assert properties["end_datetime"] == "2025-08-01T07:06:25.000Z"
    assert properties["platform"] == "sentinel-2b" and properties["constellation"] == "sentinel-2"
    assert properties["instruments"] == ["msi"] and properties["processing:level"] == "L2A"
    assert properties["sat:absolute_orbit"] == 43890
    assert properties["sat:orbit_state"] == "descending"
    assert SAT in item["stac_extensions"] and EO not in item["stac_extensions"]
    assets = item["assets"]
    odata = f"https://prip.example/odata/v1/Products({tile.id})"
    assert assets["product"]["href"] == f"{odata}/$value" and assets["product"]["roles"] == ["data"]
    assert assets["metadata"]["href"] == f"{odata}?$expand=Attributes"
    cloudy = product(attributes=(Attribute("cloudCover", "Double", 12.5),), footprint=None)
    cloudy_item = item_json("https://prip.example", cloudy, None)
    assert cloudy_item["properties"]["eo:cloud_cover"] == 12.5
    assert cloudy_item["stac_extensions"] == [EO]
    assert cloudy_item["geometry"] is None and "bbox" not in cloudy_item


def test_an_unwrapped_footprint_box_is_written_west_above_east() -> None:
    across = Footprint({"type": "MultiPolygon", "coordinates": []}, (179.0, -1.0, 181.0, 1.0))
    item = item_json("https://prip.example", product(footprint=across), None)
    assert item["bbox"] == [179.0, -1.0, -179.0, 1.0]


def test_datetime_is_bounded_below_by_the_longest_period_of_the_types_searched() -> None:
    """Start >= start - longest lets the ContentDate/Start index answer the overlap; it
    must never lose a product whose period meets the interval."""
    long_one = product(content_date=TimeRange(T0 - timedelta(days=300), T0 + timedelta(days=60)))
    spans = {"MSI_L2A_TL": 5.0, "AUX_UT1UTC": 360 * 86400.0}
    everything = search_from_query({"datetime": "2025-08-01T07:06:22Z/.."}, LIMITS)
    options = query_options(everything, COLLECTIONS, spans)
    assert matches(options.filter, product())  # type: ignore[arg-type]
    assert matches(options.filter, long_one)  # type: ignore[arg-type]  # bound: 360 days
    bound = ast.Compare("ge", START, T0 + timedelta(seconds=2) - timedelta(days=360))
    assert _conjuncts(options.filter) >= {bound}
    tile = next(c for c in COLLECTIONS.values() if c.holds_type("MSI_L2A_TL"))
    tiles = search_from_query(
        {"datetime": "2025-08-01T07:06:22Z/..", "collections": tile.id}, LIMITS
    )
    bounded = query_options(tiles, COLLECTIONS, spans).filter
    assert ast.Compare("ge", START, T0 + timedelta(seconds=2 - 5)) in _conjuncts(bounded)
    assert matches(bounded, product())  # type: ignore[arg-type]
    none_yet = query_options(tiles, COLLECTIONS, {}).filter  # no tile published: no period
    assert ast.Compare("ge", START, T0 + timedelta(seconds=2)) in _conjuncts(none_yet)
    from_the_start = search_from_query({"datetime": "0001-01-01T00:00:00Z/.."}, LIMITS)
    assert query_options(from_the_start, COLLECTIONS, spans).filter is not None  # no overflow


def _conjuncts(node: ast.Node | None) -> set[ast.Node]:
    if isinstance(node, ast.And):
        return _conjuncts(node.left) | _conjuncts(node.right)
    return {node} if node is not None else set()
