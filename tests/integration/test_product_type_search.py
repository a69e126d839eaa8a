"""productType filters are answered from the product_type column (db/search/clauses.py): the same
answers as the attribute rows give, checked against the in-memory evaluator on real SQLite and
PostgreSQL, including products written without a productType attribute of their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select

from prip_ray.bootstrap import Components
from prip_ray.db.migrate import alembic_config
from prip_ray.db.rows import attribute_rows, product_row
from prip_ray.db.search.clauses import filter_clause
from prip_ray.db.tables import attributes, products
from prip_ray.domain.products import NEVER, Attribute, Checksum, Product, TimeRange
from prip_ray.odata.evaluate import matches
from prip_ray.odata.filter import parse_filter
from prip_ray.odata.options import parse_query_options
from tests.catalogue import insert_products

T0 = datetime(2025, 8, 1, tzinfo=UTC)
TYPES = ["MSI_L0__GR", "MSI_L1C_TL", "MSI_L2A_TL", "MSI_L2A_DS"]
STRING = "Attributes/OData.CSC.StringAttribute"
VALUE = "att/OData.CSC.StringAttribute/Value"
FILTERS = [
    f"{STRING}/any(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L2A_TL')",
    f"{STRING}/any(att:{VALUE} eq 'MSI_L2A_TL' and att/Name eq 'productType')",
    f"{STRING}/any(att:att/Name eq 'productType' and {VALUE} ne 'MSI_L2A_TL')",
    f"{STRING}/any(att:att/Name eq 'productType' and {VALUE} in ('MSI_L0__GR','MSI_L2A_DS'))",
    f"{STRING}/any(att:att/Name eq 'productType' and startswith({VALUE},'MSI_L2A'))",
    f"{STRING}/any(att:att/Name eq 'productType' and not contains({VALUE},'TL'))",
    f"{STRING}/any(att:att/Name eq 'productType' and ({VALUE} eq 'MSI_L0__GR' or "
    f"{VALUE} lt 'MSI_L1D'))",
    f"Attributes/any(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L1C_TL')",
    f"not {STRING}/any(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L2A_TL')",
    f"{STRING}/any(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L2A_TL') and "
    f"{STRING}/any(att:att/Name eq 'tileId' and {VALUE} eq 'T2')",
    f"{STRING}/any(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L2A_TL') or "
    "ContentLength lt 3000",
    # shapes that stay on the attribute rows
    f"{STRING}/all(att:att/Name eq 'productType' and {VALUE} eq 'MSI_L2A_TL')",
    f"{STRING}/any(att:att/Name eq 'productType')",
    f"{STRING}/any(att:att/Name eq 'productType' or {VALUE} eq 'T3')",
    f"{STRING}/any(att:(att/Name eq 'productType' or att/Name eq 'tileId') and {VALUE} eq 'T2')",
]


def product(index: int) -> Product:
    """Every third product comes without a productType attribute: the catalogue adds it."""
    product_type = TYPES[index % len(TYPES)]
    given = (Attribute("tileId", "String", f"T{index % 4}"),)
    if index % 3:
        given += (Attribute("productType", "String", product_type),)
    return Product(
        id=uuid.UUID(int=index + 1),
        name=f"S2B_OPER_{product_type}_2BPS_20250801T{index:06d}_N05.11.tar",
        product_type=product_type,
        content_type="application/octet-stream",
        content_length=1000 * (index + 1),
        origin_date=T0,
        publication_date=T0 + timedelta(seconds=index),
        eviction_date=NEVER,
        modification_date=T0,
        content_date=TimeRange(T0, T0 + timedelta(seconds=5)),
        object_key=f"{index}/x",
        checksums=(Checksum("MD5", f"{index:032x}", T0),),
        attributes=given,
    )


ALL = [product(i) for i in range(24)]


@pytest.mark.parametrize("text", FILTERS)
def test_product_type_filters_agree_with_the_attributes(components: Components, text: str) -> None:
    insert_products(components.engine, ALL)
    stored = components.products.by_ids([p.id for p in ALL])
    expected = sorted(p.name for p in stored if matches(parse_filter(text), p))
    params = {"$filter": text, "$top": "1000"}
    options = parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)
    found = components.products.search(options).products
    assert sorted(p.name for p in found) == expected
    assert expected or "/all(" in text  # not a comparison of two empty lists


def test_every_stored_product_has_its_product_type_attribute(components: Components) -> None:
    insert_products(components.engine, ALL[:6])
    for stored in components.products.by_ids([p.id for p in ALL[:6]]):
        assert Attribute("productType", "String", stored.product_type) in stored.attributes


def test_a_product_type_attribute_that_disagrees_is_refused() -> None:
    wrong = product(2)  # an MSI_L2A_TL
    wrong.attributes = (Attribute("productType", "String", "MSI_L1C_TL"),)
    with pytest.raises(ValueError, match="MSI_L1C_TL"):
        attribute_rows(wrong)


@pytest.mark.parametrize(
    ("text", "probes_attributes"),
    [
        (FILTERS[0], False),
        (FILTERS[7], False),
        (FILTERS[11], True),  # all()
        (FILTERS[12], True),  # no test of the value
        (FILTERS[13], True),  # or of the name
        (f"{STRING}/any(att:att/Name eq 'tileId' and {VALUE} eq 'T1')", True),
        (
            "Attributes/OData.CSC.IntegerAttribute/any(att:att/Name eq 'productType' and "
            "att/OData.CSC.IntegerAttribute/Value eq 3)",
            True,
        ),
    ],
)
def test_only_the_product_type_shape_skips_the_attribute_rows(
    text: str, probes_attributes: bool
) -> None:
    sql = str(select(products.c.id).where(filter_clause(parse_filter(text))))
    assert ("attributes" in sql) == probes_attributes


def test_migration_gives_old_rows_their_product_type(components: Components) -> None:
    """Rows written before 0009 without the attribute get it; a column that disagreed with
    the attribute takes the attribute's value (what clients were served)."""
    engine: Engine = components.engine
    command_on(engine, "downgrade", "0008")
    missing, disagreeing = product(0), product(1)
    with engine.begin() as conn:
        conn.execute(insert(products), [product_row(missing), product_row(disagreeing)])
        conn.execute(
            insert(attributes),
            [
                {
                    "product_id": disagreeing.id,
                    "name": "productType",
                    "value_type": "String",
                    "string_value": "MSI_L2A_DS",
                },
            ],
        )
    command_on(engine, "upgrade", "head")
    found = {p.id: p for p in components.products.by_ids([missing.id, disagreeing.id])}
    assert found[disagreeing.id].product_type == "MSI_L2A_DS"
    for stored in found.values():
        assert Attribute("productType", "String", stored.product_type) in stored.attributes


def command_on(engine: Engine, verb: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, revision)
