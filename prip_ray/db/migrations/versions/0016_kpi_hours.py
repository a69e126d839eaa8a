"""the KPIs of each hour and product type, rolled up (the console reads a month from them)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_hours",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("product_type", sa.String(64), nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("p50_s", sa.Float(), nullable=False),
        sa.Column("p95_s", sa.Float(), nullable=False),
        sa.Column("max_s", sa.Float(), nullable=False),
        sa.Column("bins", sa.JSON(), nullable=False),
        sa.Column("buckets", sa.JSON(), nullable=False),
        sa.Column("strips", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "product_type", name=op.f("pk_kpi_hours")),
    )


def downgrade() -> None:
    op.drop_table("kpi_hours")
