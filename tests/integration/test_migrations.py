"""The migrations build exactly the schema of prip_ray/db/tables.py, on both databases."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from prip_ray.db.migrate import upgrade
from prip_ray.db.session import create_db_engine
from prip_ray.db.tables import metadata

# Expression indexes only the migrations know (SQLAlchemy metadata cannot say "box(...)").
EXPRESSION_INDEXES = {"ix_products_bbox"}


def _schema_drift(engine: Engine) -> list[object]:
    def include(
        obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
    ) -> bool:
        return not (kind == "index" and name in EXPRESSION_INDEXES)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include})
        return list(compare_metadata(context, metadata))


def test_postgres_schema_matches_the_tables(pg_engine: Engine) -> None:
    upgrade(pg_engine)  # a second upgrade is a no-op
    assert _schema_drift(pg_engine) == []


def test_sqlite_schema_matches_the_tables(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'prip.db'}")
    upgrade(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= {"products", "attributes", "users"}
    assert _schema_drift(engine) == []


def test_postgres_vacuums_products_after_5000_new_rows(pg_engine: Engine) -> None:
    """Index-only searches need the visibility map of the newest products (migration 0010)."""
    upgrade(pg_engine)
    with pg_engine.connect() as conn:
        options = conn.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'products'"
        ).scalar_one()
    assert set(options) >= {
        "autovacuum_vacuum_insert_threshold=5000",
        "autovacuum_vacuum_insert_scale_factor=0",
    }
