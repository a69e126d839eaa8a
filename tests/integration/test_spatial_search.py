"""Spatial search on a few hundred footprints, on SQLite and PostgreSQL, against an oracle
computed here with shapely: rectangles (ordered and counted mostly in SQL), polygons and
wide areas, with ordering, paging and $count."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from prip_ray.bootstrap import Components
from prip_ray.db.search.rectangles import rectangle_of
from prip_ray.domain.footprint import footprint_from_points
from prip_ray.domain.products import NEVER, Attribute, Product, TimeRange
from prip_ray.odata.geography import parse_geography
from prip_ray.odata.options import parse_query_options
from tests.catalogue import insert_products

T0 = datetime(2025, 8, 1, tzinfo=UTC)
AREAS = [
    "POLYGON((10 40,11 40,11 41,10 41,10 40))",  # 1°x1°
    "POLYGON((-20 -10,30 -10,30 35,-20 35,-20 -10))",  # wide: many boxes inside
    "POLYGON((170 -30,180 -30,180 30,170 30,170 -30))",  # along the antimeridian
    "POLYGON((-180 -90,180 -90,180 90,-180 90,-180 -90))",  # the whole Earth
    "POLYGON((0 0,20 0,10 20,0 0))",  # a triangle: not a rectangle
    "POLYGON((-180 -20,180 -20,180 30,-180 30,-180 -20))",  # a band round the Earth
]
ORDERS = ["PublicationDate desc", "Name asc", "ContentLength desc,PublicationDate asc", ""]


def _catalogue() -> list[Product]:
    rng = random.Random(7)
    made = []
    for index in range(300):
        lat, lon = rng.uniform(-60, 60), rng.uniform(-180, 180)
        size = rng.choice([0.2, 1.0, 5.0])
        corners = [(lat, lon), (lat + size, lon), (lat + size, lon + size), (lat, lon + size)]
        corners = [(a, (b + 180) % 360 - 180) for a, b in corners]  # some cross 180°
        made.append(
            Product(
                id=uuid.UUID(int=index + 1),
                name=f"S2B_OPER_MSI_L1C_TL_2BPS_{index % 17:04d}_{index:04d}.tar",
                product_type="MSI_L1C_TL",
                content_type="application/octet-stream",
                content_length=1000 * (index % 11),  # ties on purpose
                origin_date=T0,
                publication_date=T0 + timedelta(minutes=index % 13),
                eviction_date=NEVER,
                modification_date=T0,
                content_date=TimeRange(T0, T0 + timedelta(minutes=5)),
                object_key=f"{index}/x",
                footprint=None if index % 50 == 0 else footprint_from_points(corners),
                attributes=(Attribute("tileId", "String", f"T{index % 5}"),),
            )
        )
    return made


ALL = _catalogue()


@pytest.fixture
def catalogue(components: Components) -> Components:
    insert_products(components.engine, ALL)
    return components


def _oracle(area: BaseGeometry, orderby: str, tile: str | None) -> list[Product]:
    hits = [
        p
        for p in ALL
        if p.footprint is not None
        and shape(p.footprint.geojson).intersects(area)
        and (tile is None or p.attributes[0].value == tile)
    ]
    return _sorted(hits, orderby)


def _sorted(items: list[Product], orderby: str) -> list[Product]:
    keys = [k.split() for k in orderby.split(",")] if orderby else [["PublicationDate", "asc"]]
    value = {
        "PublicationDate": "publication_date",
        "Name": "name",
        "ContentLength": "content_length",
    }
    ordered = sorted(items, key=lambda p: p.id)
    for name, direction in reversed(keys):
        ordered.sort(key=lambda p, n=name: getattr(p, value[n]), reverse=direction == "desc")
    return ordered


@pytest.mark.parametrize("wkt", AREAS)
def test_spatial_pages_and_counts_match_the_oracle(catalogue: Components, wkt: str) -> None:
    area, _ = parse_geography(f"SRID=4326;{wkt}")
    for orderby in ORDERS:
        for tile in (None, "T3"):
            expected = _oracle(area, orderby, tile)
            text = f"OData.CSC.Intersects(area=geography'SRID=4326;{wkt}')"
            if tile:
                text += (
                    " and Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'tileId' "
                    f"and att/OData.CSC.StringAttribute/Value eq '{tile}')"
                )
            for skip, top in ((0, 7), (5, 20), (0, 1000)):
                params = {"$filter": text, "$count": "true", "$skip": str(skip), "$top": str(top)}
                if orderby:
                    params["$orderby"] = orderby
                options = parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)
                found = catalogue.products.search(options)
                assert found.count == len(expected), (wkt, orderby, tile)
                assert [p.name for p in found.products] == [
                    p.name for p in expected[skip : skip + top]
                ], (wkt, orderby, tile, skip)
                assert found.more == (len(expected) > skip + top)


def test_rectangles_are_recognised_and_other_shapes_are_not() -> None:
    assert rectangle_of(parse_geography(f"SRID=4326;{AREAS[0]}")[0]) == (10, 40, 11, 41)
    assert rectangle_of(parse_geography(f"SRID=4326;{AREAS[4]}")[0]) is None
    point, _ = parse_geography("SRID=4326;POINT(10 40)")
    assert rectangle_of(point) is None


def test_an_area_or_another_condition_matches_the_oracle(catalogue: Components) -> None:
    """Spatial under ``or``: SQL cannot narrow by box, every candidate is tested in Python."""
    wkt = AREAS[1]
    area, _ = parse_geography(f"SRID=4326;{wkt}")
    text = f"OData.CSC.Intersects(area=geography'SRID=4326;{wkt}') or ContentLength eq 3000"
    for orderby in ORDERS:
        expected = [
            p
            for p in ALL
            if p.content_length == 3000
            or (p.footprint is not None and shape(p.footprint.geojson).intersects(area))
        ]
        ranked = _sorted(expected, orderby)
        params = {"$filter": text, "$count": "true", "$top": "25", "$skip": "3"}
        if orderby:
            params["$orderby"] = orderby
        options = parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)
        found = catalogue.products.search(options)
        assert found.count == len(ranked)
        assert [p.name for p in found.products] == [p.name for p in ranked[3:28]], orderby
