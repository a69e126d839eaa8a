"""Filters, ordering and paging on real SQLite and PostgreSQL, checked against known rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from prip_ray.bootstrap import Components
from prip_ray.db.search import statements
from prip_ray.domain.footprint import footprint_from_points
from prip_ray.domain.products import NEVER, Attribute, Checksum, Product, TimeRange
from prip_ray.odata.options import parse_query_options
from tests.catalogue import insert_products

T0 = datetime(2025, 8, 1, 7, 0, tzinfo=UTC)
FOOTPRINTS = {
    "P0": [(40, 10), (40, 11), (41, 11), (41, 10)],  # lat, lon: Italy-ish
    "P1": [(10, 170), (10, -170), (20, -170), (20, 170)],  # across the antimeridian
    "P2": [(80.0, -180.0 + 30 * i) for i in range(12)],  # round the North Pole
    "P3": [(-40, 150), (-40, 151), (-39, 151), (-39, 150)],
}


def product(index: int) -> Product:
    name = f"P{index}"
    return Product(
        id=uuid.UUID(int=index + 1),
        name=f"S2B_OPER_MSI_L0__GR_2BPS_2025080{index}T000000_N05.11_{name}.tar",
        product_type="MSI_L0__GR" if index % 2 == 0 else "MSI_L2A_TL",
        content_type="application/octet-stream",
        content_length=1000 * (index + 1),
        origin_date=T0,
        publication_date=T0 + timedelta(minutes=index % 3),  # ties on purpose
        eviction_date=NEVER,
        modification_date=T0,
        content_date=TimeRange(T0 + timedelta(hours=index), T0 + timedelta(hours=index, minutes=5)),
        object_key=f"{index}/x",
        production_type="systematic_production" if index != 3 else "on-demand default",
        footprint=footprint_from_points(FOOTPRINTS[name]) if name in FOOTPRINTS else None,
        checksums=(Checksum("MD5", f"{index:032x}", T0),),
        attributes=(
            Attribute("orbitNumber", "Integer", 43890 + index),
            Attribute("cloudCover", "Double", 10.0 * index),
            Attribute("tileId", "String", f"T{index}"),
            Attribute("beginningDateTime", "DateTimeOffset", T0 + timedelta(hours=index)),
            Attribute("degraded", "Boolean", index == 2),
        ),
    )


ALL = [product(i) for i in range(8)]


@pytest.fixture
def catalogue(components: Components) -> Components:
    insert_products(components.engine, ALL)
    return components


def names(catalogue: Components, **params: str) -> list[str]:
    options = parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)
    return [
        p.name.rsplit("_", 1)[1].removesuffix(".tar")
        for p in catalogue.products.search(options).products
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ContentLength gt 6000", {"P6", "P7"}),
        (
            "ContentLength ge 3000 and ContentLength le 4000 or ContentLength eq 8000",
            {"P2", "P3", "P7"},
        ),
        ("not (ContentLength lt 7000)", {"P6", "P7"}),
        ("contains(Name,'_P5')", {"P5"}),
        ("endswith(Name,'P1.tar')", {"P1"}),
        ("contains(Name,'%')", set()),
        ("contains(Name,'\\')", set()),  # a backslash is matched literally too
        ("contains(Name,'N05.11_P3')", {"P3"}),
        ("startswith(Name,'S2B_OPER_MSI_L0__GR_2BPS_2025080')", {f"P{i}" for i in range(8)}),
        ("startswith(Name,'S2B%')", set()),
        ("contains(Name,'_p5')", set()),  # case-sensitive on both databases
        ("Name eq 'x'' or 1=1 --'", set()),
        ("ProductionType eq OData.CSC.ProductionType'on_demand_default'", {"P3"}),
        ("ProductionType ne OData.CSC.ProductionType'systematic_production'", {"P3"}),
        (
            "Id in (00000000-0000-0000-0000-000000000002, 00000000-0000-0000-0000-000000000003)",
            {"P1", "P2"},
        ),
        ("ContentDate/Start ge 2025-08-01T12:00:00.000Z", {"P5", "P6", "P7"}),
        ("ContentDate/End lt 2025-08-01T09:10:00+02:00", {"P0"}),
        (
            "Attributes/OData.CSC.IntegerAttribute/any(a:a/Name eq 'orbitNumber' and a/OData.CSC.IntegerAttribute/Value ge 43896)",
            {"P6", "P7"},
        ),
        (
            "Attributes/OData.CSC.DoubleAttribute/any(a:a/Name eq 'cloudCover' and a/Value lt 15)",
            {"P0", "P1"},
        ),
        (
            "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'tileId' and a/Value in ('T3','T4'))",
            {"P3", "P4"},
        ),
        (
            "Attributes/OData.CSC.BooleanAttribute/any(a:a/Name eq 'degraded' and a/Value eq true)",
            {"P2"},
        ),
        (
            "Attributes/OData.CSC.DateTimeOffsetAttribute/any(a:a/Name eq 'beginningDateTime' and a/Value lt 2025-08-01T08:30:00Z)",
            {"P0", "P1"},
        ),
        ("Attributes/OData.CSC.DoubleAttribute/all(a:a/Value lt 25)", {"P0", "P1", "P2"}),
        (
            "Attributes/OData.CSC.IntegerAttribute/any(a:a/Value eq 43891) or Attributes/OData.CSC.StringAttribute/any(a:a/Value eq 'T6')",
            {"P1", "P6"},
        ),
        (
            "Checksum/any(c:c/Algorithm eq 'MD5' and c/Value eq '00000000000000000000000000000004')",
            {"P4"},
        ),
        (
            "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((10.5 40.5,12 40.5,12 42,10.5 42,10.5 40.5))')",
            {"P0"},
        ),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POINT(179.5 15)')", {"P1"}),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POINT(-179.5 15)')", {"P1"}),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POINT(0 15)')", set()),  # not the long way
        ("OData.CSC.Intersects(area=geography'SRID=4326;POINT(45 89.5)')", {"P2"}),
        ("OData.CSC.Intersects(area=geography'SRID=4326;LINESTRING(100 85,110 86)')", {"P2"}),
        (
            "OData.CSC.Intersects(area=geography'SRID=4326;MULTIPOLYGON(((150.2 -39.8,150.5 -39.8,150.5 -39.5,150.2 -39.8)),((10.2 40.2,10.4 40.2,10.4 40.4,10.2 40.2)))')",
            {"P0", "P3"},
        ),
        (
            "not OData.CSC.Intersects(area=geography'SRID=4326;POINT(179.5 15)') and ContentLength le 4000",
            {"P0", "P2", "P3"},
        ),
    ],
)
def test_filters_select_exactly_the_expected_products(
    catalogue: Components, text: str, expected: set[str]
) -> None:
    assert set(names(catalogue, **{"$filter": text, "$top": "100"})) == expected


def test_ordering_is_total_so_pages_never_repeat_or_skip(catalogue: Components) -> None:
    seen: list[str] = []
    for skip in range(0, 8, 3):
        seen += names(
            catalogue, **{"$orderby": "PublicationDate desc", "$top": "3", "$skip": str(skip)}
        )
    assert sorted(seen) == sorted(f"P{i}" for i in range(8))
    assert names(catalogue, **{"$orderby": "ContentLength desc", "$top": "2"}) == ["P7", "P6"]
    assert names(catalogue, **{"$orderby": "ContentDate/Start", "$top": "2"}) == ["P0", "P1"]


def test_count_and_paging_with_geometry(catalogue: Components) -> None:
    options = parse_query_options(
        {
            "$filter": "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((-180 -90,180 -90,180 90,-180 90,-180 -90))')",
            "$count": "true",
            "$top": "2",
            "$orderby": "Name",
        },
        default_top=20,
        max_top=1000,
        max_skip=10000,
    )
    result = catalogue.products.search(options)
    assert result.count == 4 and len(result.products) == 2 and result.more


AREA = "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((9 39,12 39,12 42,9 42,9 39))')"


def test_kept_statements_answer_each_query_with_its_own_values(catalogue: Components) -> None:
    """A repeated query reuses its built statement; queries of the same shape with other
    values, met in between, neither reuse it nor change its answer."""
    first = parse_query_options(
        {"$filter": "ContentLength gt 6000", "$count": "true"},
        default_top=20, max_top=1000, max_skip=10000,
    )  # fmt: skip
    again = parse_query_options(
        {"$filter": "ContentLength gt 6000", "$count": "true"},
        default_top=20, max_top=1000, max_skip=10000,
    )  # fmt: skip
    assert statements.page_of(first.filter, (), 0, 21) is statements.page_of(
        again.filter, (), 0, 21
    )
    for _ in range(2):
        assert set(names(catalogue, **{"$filter": "ContentLength gt 6000"})) == {"P6", "P7"}
        assert set(names(catalogue, **{"$filter": "ContentLength gt 1000"})) == {
            f"P{i}" for i in range(1, 8)
        }
        assert names(catalogue, **{"$filter": AREA}) == ["P0"]
        assert names(catalogue, **{"$filter": AREA.replace("9 39", "9 39.5")}) == ["P0"]
        assert names(catalogue, **{"$filter": AREA.replace("9 ", "100 ")}) == []
    assert catalogue.products.search(first).count == 2
