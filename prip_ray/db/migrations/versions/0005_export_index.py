"""index for the catalogue export's keyset walk over (modification_date, id)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_products_modification_date_id"), "products", ["modification_date", "id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_products_modification_date_id"), table_name="products")
