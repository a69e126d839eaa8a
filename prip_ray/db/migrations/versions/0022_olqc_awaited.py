"""products still waiting for their OLQC report

The console counted the products without an OLQC report by reading every product of the
window against its attributes: 1-2.6 s for a month of 1M products. The products of the
types ``kpi.olqc_types`` names are now listed here at publication until a report reaches
them (db/olqc.py), so only those still waiting are read. Products published before this
migration, or before their type was listed, are not tracked.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "olqc_awaited",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("product_type", sa.String(length=64), nullable=False),
        sa.Column("publication_date", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_olqc_awaited_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_olqc_awaited")),
    )
    op.create_index(
        op.f("ix_olqc_awaited_publication_date"),
        "olqc_awaited",
        ["publication_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_olqc_awaited_publication_date"), table_name="olqc_awaited")
    op.drop_table("olqc_awaited")
