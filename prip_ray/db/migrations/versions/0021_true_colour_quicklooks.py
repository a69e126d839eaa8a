"""a tile with no preview of its own takes the TC product's image as its quicklook

``assets.source_id``: the product whose package holds an asset's bytes, when it is not the
asset's own product (a tile's borrowed true-colour image). ``true_colour_keys``: TC
products, and tiles still waiting for one, by tile and sensing (domain/true_colour.py), so
whichever of the two is published second finds the other by one indexed lookup. Products
published before this migration are not linked.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:  # batch: SQLite cannot ALTER much in place
        batch.add_column(sa.Column("source_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_assets_source_id_products"),
            "products",
            ["source_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(batch.f("ix_assets_source_id"), ["source_id"])
    op.create_table(
        "true_colour_keys",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("true_colour", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_true_colour_keys_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_true_colour_keys")),
    )
    op.create_index(op.f("ix_true_colour_keys_key"), "true_colour_keys", ["key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_true_colour_keys_key"), table_name="true_colour_keys")
    op.drop_table("true_colour_keys")
    with op.batch_alter_table("assets") as batch:
        batch.drop_index(batch.f("ix_assets_source_id"))
        batch.drop_constraint(batch.f("fk_assets_source_id_products"), type_="foreignkey")
        batch.drop_column("source_id")
