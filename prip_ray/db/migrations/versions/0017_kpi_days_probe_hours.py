"""whole days' delay buckets and each past hour's probes, rolled up: a fresh process reads a
month of KPIs without 900k hourly delay buckets or 86,000 probes

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_days",
        sa.Column("day", sa.DateTime(), nullable=False),
        sa.Column("product_type", sa.String(64), nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("buckets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day", "product_type", name=op.f("pk_kpi_days")),
    )
    op.create_table(
        "kpi_probe_hours",
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("good", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("hour", name=op.f("pk_kpi_probe_hours")),
    )


def downgrade() -> None:
    op.drop_table("kpi_probe_hours")
    op.drop_table("kpi_days")
