"""catalogue search indexes: name prefix, footprint boxes (GiST on PostgreSQL)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Must match prip_ray.db.search.boxes.PG_BOX, the expression queries use.
BOX = "box(point(min_lon, min_lat), point(max_lon, max_lat))"


def upgrade() -> None:
    op.create_index(
        "ix_products_name_pattern",
        "products",
        ["name"],
        postgresql_ops={"name": "text_pattern_ops"},
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_products_bbox ON products USING gist (({BOX}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_products_bbox")
    op.drop_index("ix_products_name_pattern", table_name="products")
