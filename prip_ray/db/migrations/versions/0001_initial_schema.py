"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingestions",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ingestions")),
    )
    op.create_table(
        "products",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("name", name=op.f("uq_products_name")),
    )
    op.create_index(op.f("ix_products_content_end"), "products", ["content_end"], unique=False)
    op.create_index(op.f("ix_products_content_start"), "products", ["content_start"], unique=False)
    op.create_index(op.f("ix_products_eviction_date"), "products", ["eviction_date"], unique=False)
    op.create_index(op.f("ix_products_product_type"), "products", ["product_type"], unique=False)
    op.create_index(
        op.f("ix_products_publication_date_id"),
        "products",
        ["publication_date", "id"],
        unique=False,
    )

    op.create_table(
        "users",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_users")),
    )
    op.create_table(
        "attributes",
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
            ["products.id"],
            name=op.f("fk_attributes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "name", name=op.f("pk_attributes")),
    )
    op.create_index(
        op.f("ix_attributes_name_datetime_value"),
        "attributes",
        ["name", "datetime_value"],
        unique=False,
    )
    op.create_index(
        op.f("ix_attributes_name_double_value"),
        "attributes",
        ["name", "double_value"],
        unique=False,
    )
    op.create_index(
        op.f("ix_attributes_name_integer_value"),
        "attributes",
        ["name", "integer_value"],
        unique=False,
    )
    op.create_index(
        op.f("ix_attributes_name_string_value"),
        "attributes",
        ["name", "string_value"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_attributes_name_string_value"))
    op.drop_index(op.f("ix_attributes_name_integer_value"))
    op.drop_index(op.f("ix_attributes_name_double_value"))
    op.drop_index(op.f("ix_attributes_name_datetime_value"))

    op.drop_table("attributes")
    op.drop_table("users")
    op.drop_index(op.f("ix_products_publication_date_id"))
    op.drop_index(op.f("ix_products_product_type"))
    op.drop_index(op.f("ix_products_eviction_date"))
    op.drop_index(op.f("ix_products_content_start"))
    op.drop_index(op.f("ix_products_content_end"))

    op.drop_table("products")
    op.drop_table("ingestions")
