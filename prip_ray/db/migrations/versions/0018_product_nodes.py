"""each product's package members, for its Nodes

``Products(Id)/Nodes`` walks a product's folders and ``Nodes(...)/$value`` downloads one
file of it, as on CDSE. Ingestion reads every member anyway (QC hashes them): it now keeps
their paths, sizes and tar offsets, one JSON row per product, written in the publication's
transaction. Products published before this migration have no row and answer no Nodes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_nodes",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_nodes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_nodes")),
    )


def downgrade() -> None:
    op.drop_table("product_nodes")
