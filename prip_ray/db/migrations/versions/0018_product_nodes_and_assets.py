"""each product's package members, for its Nodes, and its assets (the quicklook)

``Products(Id)/Nodes`` walks a product's folders and ``Nodes(...)/$value`` downloads one
file of it, as on CDSE. Ingestion reads every member anyway (QC hashes them): it now keeps
their paths, sizes and tar offsets, one JSON row per product, written in the publication's
transaction. Its quicklook, found among them, is an Asset (``$expand=Assets``,
``Assets(<Id>)/$value``): one ``assets`` row, looked up by Id. Products published before
this migration have neither and answer no Nodes and no Assets.

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
    op.create_table(
        "assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_assets_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_index(op.f("ix_assets_product_id"), "assets", ["product_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_assets_product_id"), table_name="assets")
    op.drop_table("assets")
    op.drop_table("product_nodes")
