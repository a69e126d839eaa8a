"""trace digests stored with each product at publication

The Tracer read every stored byte back from the object store and hashed it again, one
product at a time, although ingestion had just read the same bytes for QC. Ingestion now
computes the trace algorithm's hash of the object and of each tar member in that read and
stores them here, in the publication's transaction; the Tracer signs them without reading
the product. Products published before this migration have no row: the Tracer hashes their
stored bytes once, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_digests",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=128), nullable=False),
        sa.Column("contents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_trace_digests_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_trace_digests")),
    )


def downgrade() -> None:
    op.drop_table("trace_digests")
