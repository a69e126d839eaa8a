"""$filter parsing: the CSC grammar, typed literals, and a clear InvalidQuery for all else."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import UUID

import pytest

from prip_ray.errors import InvalidQuery
from prip_ray.odata import ast
from prip_ray.odata.filter import KEPT_LENGTH, _kept, _rewrite, parse_filter

NAME = ast.Property(("Name",))
LENGTH = ast.Property(("ContentLength",))


def test_precedence_not_and_or() -> None:
    tree = parse_filter("Name eq 'a' or Name eq 'b' and not ContentLength gt 5")
    assert tree == ast.Or(
        ast.Compare("eq", NAME, "a"),
        ast.And(ast.Compare("eq", NAME, "b"), ast.Not(ast.Compare("gt", LENGTH, 5))),
    )
    grouped = parse_filter("(Name eq 'a' or Name eq 'b') and ContentLength gt 5")
    assert isinstance(grouped, ast.And) and isinstance(grouped.left, ast.Or)


@pytest.mark.parametrize(
    "text", ["Name in ('a','b')", "Name in ( 'a' , 'b' )", "Name in ('a', 'b')"]
)
def test_in_lists_with_or_without_spaces(text: str) -> None:
    assert parse_filter(text) == ast.In(NAME, ("a", "b"))


def test_one_element_in_list_and_quotes_inside_strings() -> None:
    assert parse_filter("Name in ('a')") == ast.In(NAME, ("a", "a"))
    assert parse_filter("Name eq 'it''s in (''x'')'") == ast.Compare("eq", NAME, "it's in ('x')")
    tricky = "Name eq 'OData.CSC.ProductionType''x'''"
    assert parse_filter(tricky) == ast.Compare("eq", NAME, "OData.CSC.ProductionType'x'")


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("OData.CSC.ProductionType'systematic_production'", "systematic_production"),
        ("OData.CSC.ProductionType'on-demand default'", "on-demand default"),
        ("OData.CSC.ProductionType'on_demand_non_default'", "on-demand non-default"),
        ("'systematic_production'", "systematic_production"),
    ],
)
def test_production_type_enum_literals(literal: str, expected: str) -> None:
    tree = parse_filter(f"ProductionType eq {literal}")
    assert tree == ast.Compare("eq", ast.Property(("ProductionType",)), expected)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("2020-04-30T12:00:00.000Z", datetime(2020, 4, 30, 12, tzinfo=UTC)),
        ("2020-04-30T12:00:00Z", datetime(2020, 4, 30, 12, tzinfo=UTC)),
        ("2020-04-30T12:00:00.123456Z", datetime(2020, 4, 30, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2020-04-30T14:00:00+02:00", datetime(2020, 4, 30, 12, tzinfo=UTC)),
        ("2020-04-30", datetime(2020, 4, 30, tzinfo=UTC)),
    ],
)
def test_date_time_literals(literal: str, expected: datetime) -> None:
    tree = parse_filter(f"ContentDate/Start ge {literal}")
    assert tree == ast.Compare("ge", ast.Property(("ContentDate", "Start")), expected)


def test_guid_and_reversed_operands() -> None:
    guid = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert parse_filter(f"Id eq {guid}") == ast.Compare("eq", ast.Property(("Id",)), UUID(guid))
    assert parse_filter("5 lt ContentLength") == ast.Compare("gt", LENGTH, 5)


def test_functions_in_positive_and_negative_forms() -> None:
    assert parse_filter("contains(Name,'L0')") == ast.Function("contains", NAME, "L0")
    assert parse_filter("not startswith(Name,'S2A')") == ast.Not(
        ast.Function("startswith", NAME, "S2A")
    )
    assert parse_filter("endswith(Name,'.tar') eq false") == ast.Not(
        ast.Function("endswith", NAME, ".tar")
    )
    assert parse_filter("Online") == ast.Compare("eq", ast.Property(("Online",)), True)


@pytest.mark.parametrize(
    ("cast", "op", "value", "expected"),
    [
        ("String", "eq", "'S2MSI1C'", "S2MSI1C"),
        ("Integer", "ge", "43890", 43890),
        ("Double", "lt", "12.5", 12.5),
        ("Boolean", "eq", "true", True),
        (
            "DateTimeOffset",
            "le",
            "2025-08-01T07:06:20.464Z",
            datetime(2025, 8, 1, 7, 6, 20, 464000, tzinfo=UTC),
        ),
    ],
)
def test_attribute_any_for_every_value_type(
    cast: str, op: str, value: str, expected: object
) -> None:
    text = (
        f"Attributes/OData.CSC.{cast}Attribute/any(att:att/Name eq 'x' and "
        f"att/OData.CSC.{cast}Attribute/Value {op} {value})"
    )
    tree = parse_filter(text)
    assert tree == ast.Lambda(
        "Attributes",
        "any",
        cast,
        ast.And(
            ast.Compare("eq", ast.Property(("Name",)), "x"),
            ast.Compare(op, ast.Property(("Value",)), expected),
        ),
    )


def test_attribute_all_and_combined_lambdas() -> None:
    text = (
        "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'tileId' and a/Value eq '47XMH') "
        "and not Attributes/OData.CSC.DoubleAttribute/all(d:d/Value lt 50)"
    )
    tree = parse_filter(text)
    assert isinstance(tree, ast.And)
    assert isinstance(tree.right, ast.Not) and tree.right.operand.quantifier == "all"


def test_checksum_lambda() -> None:
    tree = parse_filter("Checksum/any(c:c/Algorithm eq 'MD5' and c/Value eq 'abc')")
    assert isinstance(tree, ast.Lambda) and tree.collection == "Checksum"


@pytest.mark.parametrize(
    "area",
    [
        "SRID=4326;POLYGON((10 40,11 40,11 41,10 41,10 40))",
        "SRID=4326;Polygon((10 40,11 40,11 41,10 41,10 40))",
        "SRID=4326;MULTIPOLYGON(((10 40,11 40,11 41,10 40)),((20 40,21 40,21 41,20 40)))",
        "SRID=4326;POINT(10.5 40.5)",
        "SRID=4326;LINESTRING(10 40,11 41)",
        # as CDSE's examples and its own Footprint values write them
        "SRID=4326;POLYGON ((10.655 40.926, 10.651 40.934, 10.66 40.94, 10.655 40.926))",
        "SRID=4326;MULTIPOLYGON (((10 40, 11 40, 11 41, 10 40)))",
        "SRID=4326;POINT (10.5 40.5)",
        "srid=4326;POINT(10.5 40.5)",
    ],
)
def test_intersects_forms(area: str) -> None:
    tree = parse_filter(f"OData.CSC.Intersects(area=geography'{area}')")
    assert isinstance(tree, ast.Intersects)
    assert 10 <= tree.bbox[0] <= tree.bbox[2] <= 21


def test_collection_name_is_the_name_prefix_of_the_mission() -> None:
    sentinel2 = ast.Function("startswith", NAME, "S2")
    assert parse_filter("Collection/Name eq 'SENTINEL-2'") == sentinel2
    assert parse_filter("'SENTINEL-2' eq Collection/Name") == sentinel2
    assert parse_filter("Collection/Name ne 'SENTINEL-2'") == ast.Not(sentinel2)
    assert parse_filter("Collection/Name in ('SENTINEL-2')") == sentinel2
    nothing = ast.In(NAME, ())  # a CDSE collection of no Sentinel mission: no product
    assert parse_filter("Collection/Name in ('SENTINEL-2','LANDSAT-8')") == ast.Or(
        sentinel2, nothing
    )
    cdse_first = parse_filter(
        "Collection/Name eq 'SENTINEL-2' and OData.CSC.Intersects(area=geography'SRID=4326;"
        "POLYGON((12.655 41.926,12.651 41.934,12.66 41.94,12.655 41.926))') and "
        "ContentDate/Start gt 2022-05-03T00:00:00.000Z"
    )
    assert ast.conjuncts(cdse_first)[0] == sentinel2


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("startswith(Collection/Name,'S')", "Collection"),
        ("Collection/Name gt 'S'", "Collection"),
        ("Collection/Name eq 2", "2"),
        ("Foo eq 1", "Foo"),
        ("Name eq 5", "5"),
        ("ContentLength eq 'big'", "big"),
        ("Online gt true", "gt"),
        ("Name eq @", "@"),
        ("Name eq 'x' and", None),
        ("Name eq 'x' )", None),
        ("Name eq 'unterminated", None),
        ("ContentDate/Start gt 2020-13-45T12:00:00Z", "-13"),
        ("ProductionType eq OData.CSC.ProductionType'whenever'", "whenever"),
        ("bogus(Name,'x')", None),
        ("contains(ContentLength,'1')", "ContentLength"),
        ("Attributes/OData.CSC.FancyAttribute/any(a:a/Value eq 1)", None),
        (
            "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'x' and a/OData.CSC.IntegerAttribute/Value eq 3)",
            None,
        ),
        ("Attributes/OData.CSC.StringAttribute/any(a:Name eq 'x')", "Name"),
        ("Checksum/any(c:c/Size eq 1)", "Size"),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((1 2,3 4')", None),
        ("OData.CSC.Intersects(area=geography'SRID=3857;POINT(1 2)')", "SRID=3857"),
        ("OData.CSC.Intersects(area=geography'SRID=4326;POINT(200 95)')", None),
        ("Name eq null", None),
        ("ContentLength add 5 gt 3", None),
        ("", None),
        ("Name eq 'x'" + " or Name eq 'x'" * 700, None),
    ],
)
def test_malformed_filters_are_invalid_queries(text: str, token: str | None) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_filter(text)
    if token is not None:
        assert caught.value.token == token
    assert str(caught.value)


def test_a_repeated_filter_is_parsed_once_and_a_wrong_one_fails_every_time() -> None:
    text = "startswith(Name,'S2B_OPER_MSI_L1C_TL') and ContentLength gt 7"
    before = _kept.cache_info().hits
    first, again = parse_filter(text), parse_filter(text)
    assert again is first
    assert _kept.cache_info().hits == before + 1
    for _ in range(2):
        with pytest.raises(InvalidQuery, match="position"):
            parse_filter("Name eq 'a' and")


def _nested_in(levels: int) -> str:
    text = "Name in ('a')"
    for _ in range(levels):
        text = f"Name in ({text})"
    return text


HOSTILE = [
    _nested_in(30),  # the one-element rewrite doubled the text at each level: 15 MB from 200
    "not " * 1000 + "ContentLength gt 5",  # not before a comparison recursed unbounded
    "not " * 1000 + "contains(Name,'a') eq true",
    "not (" * 150 + "Online" + ")" * 150,
    "Attributes/OData.CSC.StringAttribute/any(a:" + "not " * 500 + "a/Name eq 'x')",
    "ContentLength in (" + ",".join(["1"] * 1990) + ")",
    "(" * 3000 + "Online" + ")" * 3000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:30])
def test_hostile_filters_are_refused_quickly_as_too_complex(text: str) -> None:
    started = time.perf_counter()
    try:
        tree = parse_filter(text)
    except InvalidQuery as e:
        assert "too complex" in str(e) or "unexpected" in str(e)
    else:  # what is accepted stays small however it was written
        assert _depth(tree) <= 100 and sum(1 for _ in ast.walk(tree)) <= 1000
    assert time.perf_counter() - started < 1


def test_one_element_lists_are_rewritten_once_not_per_level() -> None:
    text = _nested_in(30)
    assert len(_rewrite(text)) <= 2 * len(text)
    assert _rewrite("Name in ('a') or Name in ( 'b''c' )") == (
        "Name in ('a','a') or Name in ( 'b''c' , 'b''c' )"
    )


def test_long_chains_of_one_operator_are_balanced_not_refused() -> None:
    tree = parse_filter(" or ".join(f"Name eq '{i}'" for i in range(400)))
    assert _depth(tree) <= 10
    leaves = [n.value for n in ast.walk(tree) if isinstance(n, ast.Compare)]
    assert leaves == [str(i) for i in range(400)]  # in the order written


def test_too_many_conditions_or_values_are_too_complex() -> None:
    with pytest.raises(InvalidQuery, match="too complex: more than 1000"):
        parse_filter("ContentLength in (" + ",".join(["7"] * 1001) + ")")
    with pytest.raises(InvalidQuery, match="too complex: more than 1000"):
        half = "ContentLength in (" + ",".join(["7"] * 500) + ")"
        parse_filter(f"{half} or {half}")  # conditions and values count together
    assert isinstance(parse_filter("ContentLength in (" + ",".join(["7"] * 999) + ")"), ast.In)


def test_long_filters_are_not_kept() -> None:
    long = "Name in (" + ",".join(f"'{i:04}'" for i in range(400)) + ")"
    assert len(long) > KEPT_LENGTH
    assert parse_filter(long) == parse_filter(long) and parse_filter(long) is not parse_filter(long)


def _depth(node: ast.Node) -> int:
    children = {
        ast.And: lambda n: (n.left, n.right),
        ast.Or: lambda n: (n.left, n.right),
        ast.Not: lambda n: (n.operand,),
        ast.Lambda: lambda n: (n.condition,),
    }.get(type(node), lambda n: ())(node)
    return 1 + max((_depth(c) for c in children), default=0)
