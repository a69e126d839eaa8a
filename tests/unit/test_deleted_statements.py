"""A Products search statement moved onto DeletedProducts keeps its shape and leaves no
reference to ``products`` behind; on ``products`` the area test stays the GiST index's
expression."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from prip_ray.db.deleted import on_deleted
from prip_ray.db.search import statements
from prip_ray.db.search.boxes import PG_BOX
from prip_ray.odata.filter import parse_filter

AREA = "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((1 1,2 1,2 2,1 2,1 1))')"
FILTER = (
    f"{AREA} and startswith(Name,'S2') and DeletionDate gt 2026-01-01T00:00:00Z and "
    "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'tileId' "
    "and att/OData.CSC.StringAttribute/Value eq 'T1')"
)


def test_the_area_test_on_products_is_the_index_expression() -> None:
    node = parse_filter(AREA)
    sql = str(statements.matching(node).compile(dialect=postgresql.dialect()))
    assert PG_BOX in sql


def test_a_statement_moved_onto_deleted_products_names_only_deleted_tables() -> None:
    node = parse_filter(FILTER, "DeletedProducts")
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        for statement in (
            statements.count_of(node),
            statements.page_of(node, (("DeletionDate", True),), 0, 10),
        ):
            sql = str(on_deleted(statement).compile(dialect=dialect))
            words = sql.replace("(", " ").replace(",", " ").split()
            assert not any(w.startswith(("products.", "attributes.")) for w in words), sql
            assert "deleted_products.deletion_date" in sql
            assert "deleted_attributes.string_value" in sql
            assert "deleted_products.min_lon" in sql
