"""Property-based: thousands of generated filters, valid and broken, only ever give an AST or
an InvalidQuery; and valid ones translate to SQL whose literals are bound, never inlined."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from prip_ray.db.search.clauses import filter_clause
from prip_ray.errors import InvalidQuery
from prip_ray.odata.filter import parse_filter

PROPERTIES = [
    "Name",
    "ContentLength",
    "PublicationDate",
    "ContentDate/Start",
    "Online",
    "Id",
    "ProductionType",
    "Foo",
    "ContentDate/Middle",
]
OPERATORS = ["eq", "ne", "lt", "le", "gt", "ge", "in", "has", "like"]
LITERALS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).map(
        lambda s: "'" + s.replace("'", "''") + "'"
    ),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(
        [
            "true",
            "false",
            "null",
            "2020-04-30T12:00:00.000Z",
            "2020-04-30T12:00:00+02:00",
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "OData.CSC.ProductionType'systematic_production'",
            "('a','b')",
            "('x')",
            "'; DROP TABLE products; --'",
            "'x'' or 1=1 --'",
        ]
    ),
)


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    return (
        f"{draw(st.sampled_from(PROPERTIES))} {draw(st.sampled_from(OPERATORS))} {draw(LITERALS)}"
    )


@st.composite
def attribute_filters(draw: st.DrawFn) -> str:
    cast = draw(
        st.sampled_from(["String", "Integer", "Double", "Boolean", "DateTimeOffset", "Odd"])
    )
    quantifier = draw(st.sampled_from(["any", "all"]))
    op = draw(st.sampled_from(OPERATORS[:6]))
    return (
        f"Attributes/OData.CSC.{cast}Attribute/{quantifier}(a:a/Name eq 'x' and "
        f"a/OData.CSC.{cast}Attribute/Value {op} {draw(LITERALS)})"
    )


FUNCTIONS = st.builds(
    lambda f, p, v: f"{f}({p},{v})",
    st.sampled_from(["contains", "startswith", "endswith", "substringof", "OData.CSC.Intersects"]),
    st.sampled_from(PROPERTIES),
    LITERALS,
)
SPATIAL = st.sampled_from(
    [
        "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((1 2,3 4,3 2,1 2))')",
        "OData.CSC.Intersects(area=geography'SRID=4326;POINT(1 2)')",
        "OData.CSC.Intersects(area=geography'POLYGON((1 2')",
    ]
)
ATOMS = st.one_of(comparisons(), attribute_filters(), FUNCTIONS, SPATIAL)
FILTERS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["and", "or", "an", ""]), inner
        ),
        st.builds(lambda a: f"not {a}", inner),
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda a, cut: a[:cut], inner, st.integers(0, 40)),
    ),
    max_leaves=6,
)


def _check(text: str) -> None:
    try:
        tree = parse_filter(text)
    except InvalidQuery as e:
        assert str(e)
        return
    clause = filter_clause(tree)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(clause.compile(dialect=dialect))
        assert "DROP TABLE" not in sql and "1=1" not in sql  # literals are bound parameters


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FILTERS)
def test_generated_filters_never_escape_as_other_errors(text: str) -> None:
    _check(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_escapes_as_other_errors(text: str) -> None:
    _check(text)
