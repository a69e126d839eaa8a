"""DeletedProducts: the products evicted or withdrawn, with when and why

Same columns as products/attributes (db/deleted.py moves a Products search onto them), plus
deletion_date and deletion_cause; a name is not unique here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("product_type", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("content_length", sa.BigInteger(), nullable=False),
        sa.Column("origin_date", sa.DateTime(), nullable=False),
        sa.Column("publication_date", sa.DateTime(), nullable=False),
        sa.Column("eviction_date", sa.DateTime(), nullable=False),
        sa.Column("modification_date", sa.DateTime(), nullable=False),
        sa.Column("content_start", sa.DateTime(), nullable=False),
        sa.Column("content_end", sa.DateTime(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("production_type", sa.String(length=32), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("checksums", sa.JSON(), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("footprint", sa.JSON(), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.Column("deletion_date", sa.DateTime(), nullable=False),
        sa.Column("deletion_cause", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deleted_products")),
    )
    op.create_index(
        op.f("ix_deleted_products_deletion_date_id"),
        "deleted_products",
        ["deletion_date", "id"],
    )
    op.create_index(op.f("ix_deleted_products_name"), "deleted_products", ["name"])
    op.create_index(
        op.f("ix_deleted_products_publication_date_id"),
        "deleted_products",
        ["publication_date", "id"],
    )
    op.create_table(
        "deleted_attributes",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value_type", sa.String(length=16), nullable=False),
        sa.Column("string_value", sa.Text(), nullable=True),
        sa.Column("integer_value", sa.BigInteger(), nullable=True),
        sa.Column("double_value", sa.Float(), nullable=True),
        sa.Column("boolean_value", sa.Boolean(), nullable=True),
        sa.Column("datetime_value", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["deleted_products.id"],
            name=op.f("fk_deleted_attributes_product_id_deleted_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "name", name=op.f("pk_deleted_attributes")),
    )


def downgrade() -> None:
    op.drop_table("deleted_attributes")
    op.drop_table("deleted_products")
