"""OLQC outcomes by inspected product

OLQC reports (~500k a day) were published as opaque files. Each report's outcome is now
counted here under the name of the product it inspects, in the report's publication
transaction, so that product's qualityStatus reflects its reports whichever of the two
arrives first (db/olqc.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "olqc_outcomes",
        sa.Column("inspected", sa.String(length=255), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("inspected", name=op.f("pk_olqc_outcomes")),
    )


def downgrade() -> None:
    op.drop_table("olqc_outcomes")
