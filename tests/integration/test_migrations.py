"""The migrations build exactly the schema of prip_ray/db/tables.py, on both databases."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from prip_ray.db.migrate import upgrade
from prip_ray.db.session import create_db_engine
from prip_ray.db.tables import metadata


def _schema_drift(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_postgres_schema_matches_the_tables(pg_engine: Engine) -> None:
    upgrade(pg_engine)  # a second upgrade is a no-op
    assert _schema_drift(pg_engine) == []


def test_sqlite_schema_matches_the_tables(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'prip.db'}")
    upgrade(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= {"products", "attributes", "users"}
    assert _schema_drift(engine) == []
