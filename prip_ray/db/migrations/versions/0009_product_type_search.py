"""productType searches on the products table: one rule, one covering index

A productType any() filter probed the attributes table once per candidate product: for the
benchmark's four-part search (4,145 hits among 33k products of one day) those probes were
most of 40 ms in PostgreSQL. The product_type column always held the same value, so search
now reads it instead (db/search/clauses.py), and this migration makes that rule hold for rows
written before it: a product without a productType attribute gets one from its column, and
a column that disagrees with the attribute (none should) takes the attribute's value, which
is what clients have been served.

The index leads with product type and ContentDate/Start, the usual pair of an LTA or DAS
query, and carries the default sort keys, ContentDate/End, the name and the footprint's box,
so such a search and its count read no table rows on PostgreSQL (15 -> 5.6 ms for the
four-part search on 1M products; 197 MB there). SQLite gets the two key columns alone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "ix_products_product_type_content_start"
INCLUDED = [
    "content_end", "publication_date", "id", "name", "min_lon", "min_lat", "max_lon", "max_lat",
]  # fmt: skip


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE products SET product_type = (SELECT a.string_value FROM attributes a "
            "WHERE a.product_id = products.id AND a.name = 'productType') "
            "WHERE EXISTS (SELECT 1 FROM attributes a WHERE a.product_id = products.id "
            "AND a.name = 'productType' AND a.value_type = 'String' "
            "AND a.string_value IS NOT NULL AND a.string_value <> products.product_type)"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO attributes (product_id, name, value_type, string_value) "
            "SELECT p.id, 'productType', 'String', p.product_type FROM products p "
            "WHERE NOT EXISTS (SELECT 1 FROM attributes a WHERE a.product_id = p.id "
            "AND a.name = 'productType')"
        )
    )
    op.create_index(
        INDEX, "products", ["product_type", "content_start"], postgresql_include=INCLUDED
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="products")
