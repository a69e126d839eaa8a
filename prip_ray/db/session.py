"""Engines for the PRIP DB: PostgreSQL (psycopg 3) in production, SQLite embedded."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import orjson
from psycopg.errors import QueryCanceled
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import ExceptionContext, make_url

from prip_ray.errors import ConfigurationError, DatabaseUnavailable, QueryTimeout


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default driver is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(
    url: str, *, pool_size: int = 5, echo: bool = False, statement_timeout_s: float = 0
) -> Engine:
    """``statement_timeout_s``: PostgreSQL cancels a statement running longer (0: never);
    the API's engine sets it, so one costly query cannot hold a connection and a core of the
    DB for long. SQLite has no such limit."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, echo)
    if backend == "postgresql":
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            echo=echo,
            connect_args={"options": session_options(statement_timeout_s)},
            json_deserializer=orjson.loads,  # footprints and checksums of every result row
        )
        event.listen(engine, "handle_error", _translate_outage)
        event.listen(engine.pool, "checkout", _ping_if_idle)
        event.listen(engine.pool, "checkin", _note_checkin)
        event.listen(engine.pool, "connect", _note_checkin)
        return engine
    raise ConfigurationError(f"unsupported database {backend!r}: use PostgreSQL or SQLite")


# Many short concurrent queries: a parallel plan forks worker processes for each one (on
# the 1M benchmark catalogue an attribute search took 7 ms that way, 1 ms without).
SESSION_OPTIONS = "-c max_parallel_workers_per_gather=0"


def session_options(statement_timeout_s: float = 0) -> str:
    if statement_timeout_s <= 0:
        return SESSION_OPTIONS
    milliseconds = max(1, round(statement_timeout_s * 1000))
    return f"{SESSION_OPTIONS} -c statement_timeout={milliseconds}"


def reader(engine: Engine) -> Engine:
    """The same engine and pool for statements that only read: in autocommit, so a read
    costs one round trip, without the BEGIN before it and the ROLLBACK after. Each
    statement still sees one consistent snapshot (READ COMMITTED gives no more inside a
    transaction); writes must keep ``engine.begin()``."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


PING_AFTER_IDLE_S = 2.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Pessimistic disconnect handling, but only for connections that sat idle: one that
    was in use a moment ago is alive, and a ping on every checkout would cost busy
    replicas a round trip per statement. A dead connection is replaced by the pool (it
    retries the checkout on DisconnectionError); one that dies in use is caught by
    ``_translate_outage``, and SQLAlchemy then drops every older connection of the pool."""
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_S:
        return
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SELECT 1")
    except Exception as e:
        raise exc.DisconnectionError(f"stale PRIP DB connection: {e}") from e
    finally:
        with contextlib.suppress(Exception):  # a broken connection is discarded anyway
            dbapi_connection.autocommit = autocommit


def _translate_outage(context: ExceptionContext) -> None:
    """PostgreSQL away (refused, restarting, connection dropped; also psycopg's transient
    OperationalErrors: serialization failure, deadlock) becomes DatabaseUnavailable: callers
    retry, the API answers 503. A statement cancelled (the statement timeout) becomes
    QueryTimeout, also 503, which nobody retries as is. Other errors pass unchanged."""
    error = context.sqlalchemy_exception
    if isinstance(context.original_exception, QueryCanceled):
        raise QueryTimeout(
            "the query took too long and was stopped; narrow it (a more selective $filter, "
            "or without $count=true) rather than repeat it"
        ) from error
    if context.is_disconnect or isinstance(error, exc.OperationalError):
        raise DatabaseUnavailable(f"PRIP DB unavailable: {context.original_exception}") from error


def _sqlite_engine(url: str, echo: bool) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": 30}, json_deserializer=orjson.loads
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the API read while an ingestor writes; FKs give attribute cascades.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA case_sensitive_like=ON")  # OData contains() is case-sensitive
        cursor.close()

    return engine
