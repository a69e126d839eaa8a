"""subscriptions and the publication outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("filter_param", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("endpoint_username", sa.String(length=256), nullable=True),
        sa.Column("endpoint_password", sa.Text(), nullable=True),
        sa.Column("submission_date", sa.DateTime(), nullable=False),
        sa.Column("last_notification_date", sa.DateTime(), nullable=True),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("failing_since", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_owner"), "subscriptions", ["owner"])
    op.create_index(op.f("ix_subscriptions_status"), "subscriptions", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subscriptions_status"))
    op.drop_index(op.f("ix_subscriptions_owner"))
    op.drop_table("subscriptions")
    op.drop_table("outbox")
