"""pull subscriptions' queues of notifications

A subscription created without a NotificationEndpoint is a pull subscription (as on CDSE):
the notifier queues its notifications in ``pull_queue`` and its owner reads and
acknowledges them. ``pull_queues`` keeps each queue's length (bounding it then costs no
count) and how many notifications a full queue dropped.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_queue",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_pull_queue_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_queue")),
    )
    op.create_index(
        op.f("ix_pull_queue_subscription_id_id"), "pull_queue", ["subscription_id", "id"]
    )
    op.create_table(
        "pull_queues",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_pull_queues_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_pull_queues")),
    )


def downgrade() -> None:
    op.drop_table("pull_queues")
    op.drop_index(op.f("ix_pull_queue_subscription_id_id"), table_name="pull_queue")
    op.drop_table("pull_queue")
