"""access control and quotas: per-user quota overrides, download history, request counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:  # batch: SQLite cannot ALTER much in place
        batch.add_column(sa.Column("max_parallel", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("volume_bytes", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("window_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("requests_per_minute", sa.Integer(), nullable=True))
    op.create_table(
        "downloads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_name", sa.String(length=255), nullable=False),
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("progress_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downloads")),
    )
    op.create_index(op.f("ix_downloads_user_name_status"), "downloads", ["user_name", "status"])
    op.create_index(
        op.f("ix_downloads_user_name_started_at"), "downloads", ["user_name", "started_at"]
    )
    op.create_index(op.f("ix_downloads_started_at"), "downloads", ["started_at"])
    op.create_table(
        "request_counts",
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "minute", name=op.f("pk_request_counts")),
    )


def downgrade() -> None:
    op.drop_table("request_counts")
    op.drop_index(op.f("ix_downloads_started_at"))
    op.drop_index(op.f("ix_downloads_user_name_started_at"))
    op.drop_index(op.f("ix_downloads_user_name_status"))
    op.drop_table("downloads")
    with op.batch_alter_table("users") as batch:
        for column in ("requests_per_minute", "window_days", "volume_bytes", "max_parallel"):
            batch.drop_column(column)
