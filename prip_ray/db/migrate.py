"""Bring a PRIP DB to the newest schema (alembic ``upgrade head``), from code, not an ini file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from alembic.config import Config

_SCRIPTS = Path(__file__).with_name("migrations")


# alembic is imported where it runs: every actor and replica process imports this module
# (through bootstrap) and only the command that starts the PRIP migrates; importing alembic
# cost each of them ~0.3 s of CPU while they all start at once.


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def upgrade(engine: Engine) -> None:
    """Idempotent: safe to run at every start, by every process (PostgreSQL locks the DDL)."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes starting together must not both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(7301)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
