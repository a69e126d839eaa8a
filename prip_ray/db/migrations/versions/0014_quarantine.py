"""quarantine: the products the QC refused, for operators and the completeness KPI

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=2048), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_quarantine")),
    )
    op.create_index(op.f("ix_quarantine_last_seen"), "quarantine", ["last_seen"])


def downgrade() -> None:
    op.drop_table("quarantine")
