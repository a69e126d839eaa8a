"""Bring a PRIP DB to the newest schema (alembic ``upgrade head``), from code, not an ini file."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

_SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine) -> None:
    """Idempotent: safe to run at every start, by every process (PostgreSQL locks the DDL)."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together must not both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(7301)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
