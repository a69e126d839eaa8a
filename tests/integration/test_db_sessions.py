"""PRIP DB sessions on the real PostgreSQL: what happens to pooled connections the server
dropped, and how reads and writes use their connections."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import Engine, text

from prip_ray.db import session
from prip_ray.db.session import create_db_engine, reader
from prip_ray.errors import DatabaseUnavailable, QueryTimeout


def _backend_pid(engine: Engine) -> int:
    with reader(engine).connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg_url: str, pid: int) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_an_idle_connection_the_server_dropped_is_replaced_unseen(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_db_engine(pg_url, pool_size=1)
    try:
        dropped = _backend_pid(engine)
        _terminate(pg_url, dropped)
        monkeypatch.setattr(session, "PING_AFTER_IDLE_S", 0.0)  # it has been idle long enough
        assert _backend_pid(engine) != dropped  # pinged, found dead, replaced: no error
    finally:
        engine.dispose()


def test_a_busy_connection_the_server_dropped_fails_once_then_the_pool_recovers(
    pg_url: str,
) -> None:
    engine = create_db_engine(pg_url, pool_size=1)
    try:
        dropped = _backend_pid(engine)
        _terminate(pg_url, dropped)  # used a moment ago: not pinged
        with pytest.raises(DatabaseUnavailable):
            _backend_pid(engine)
        assert _backend_pid(engine) != dropped
    finally:
        engine.dispose()


def test_reads_leave_no_transaction_and_writes_keep_theirs(pg_url: str) -> None:
    engine = create_db_engine(pg_url, pool_size=1)
    try:
        with reader(engine).connect() as conn:
            conn.execute(text("SELECT 1"))
            status = conn.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status == psycopg.pq.TransactionStatus.IDLE  # autocommit: no BEGIN sent
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            status = conn.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status == psycopg.pq.TransactionStatus.INTRANS
        with engine.connect() as conn:  # the pooled connection is back to transactions
            conn.execute(text("SELECT 1"))
            status = conn.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
            assert status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        engine.dispose()


def test_the_statement_timeout_stops_a_long_statement_and_the_pool_goes_on(pg_url: str) -> None:
    limited = create_db_engine(pg_url, pool_size=1, statement_timeout_s=0.2)
    unlimited = create_db_engine(pg_url, pool_size=1)
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeout) as caught, reader(limited).connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2
        assert "pg_sleep" not in str(caught.value) and "statement" not in str(caught.value)
        with reader(limited).connect() as conn:  # the connection is fine for the next one
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        with reader(unlimited).connect() as conn:  # engines without the limit: no limit
            conn.execute(text("SELECT pg_sleep(0.4)"))
    finally:
        limited.dispose()
        unlimited.dispose()
