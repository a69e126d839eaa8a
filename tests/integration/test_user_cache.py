"""The replicas' user cache on the real PostgreSQL: kept users are served from memory and
dropped when their row changes, by this process, by another, or while it was not listening."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, event

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.db.user_cache import APP_NAME, UserCache
from prip_ray.db.users import UserRepository
from prip_ray.domain.users import User


def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.02)


@pytest.fixture
def cache(clean_pg: Engine, pg_url: str) -> Iterator[tuple[UserCache, UserRepository]]:
    users = UserRepository(clean_pg)
    users.add("alice", "hash", "download")
    kept = UserCache(users, pg_url, retry_s=0.1)
    eventually(lambda: kept.listening)
    yield kept, users
    kept.close()


def user_reads(engine: Engine) -> list[str]:
    """The SELECTs on users this engine runs from now on."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM users" in statement:
            seen.append(statement)

    return seen


def test_a_kept_user_is_not_read_again(
    cache: tuple[UserCache, UserRepository], clean_pg: Engine
) -> None:
    kept, _ = cache
    reads = user_reads(clean_pg)
    assert [kept.get("alice") for _ in range(5)] == [kept.get("alice")] * 5
    assert len(reads) == 1
    assert kept.get("nobody") is None and kept.get("nobody") is None
    assert len(reads) == 3  # unknown names are never kept


def test_changes_by_this_process_apply_at_once(cache: tuple[UserCache, UserRepository]) -> None:
    kept, users = cache
    assert kept.get("alice").disabled is False  # type: ignore[union-attr]
    users.set_disabled("alice", True)
    assert kept.get("alice").disabled is True  # type: ignore[union-attr]
    users.set_role("alice", "catalogue")
    assert kept.get("alice").role == "catalogue"  # type: ignore[union-attr]


def test_changes_by_anyone_else_are_heard(
    cache: tuple[UserCache, UserRepository], pg_url: str
) -> None:
    kept, _ = cache
    assert kept.get("alice").disabled is False  # type: ignore[union-attr]
    with psycopg.connect(pg_url, autocommit=True) as other:  # plain SQL, another process
        other.execute("UPDATE users SET disabled = true WHERE name = 'alice'")
        eventually(lambda: kept.get("alice").disabled is True, seconds=2)  # type: ignore[union-attr]
        other.execute("DELETE FROM users WHERE name = 'alice'")
        eventually(lambda: kept.get("alice") is None, seconds=2)


def test_a_lost_listener_reads_every_time_until_it_listens_again(
    cache: tuple[UserCache, UserRepository], pg_url: str
) -> None:
    kept, _ = cache
    kept.get("alice")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        killed = admin.execute(
            # Only this run's database: other runs on the same server have listeners too.
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (APP_NAME,),
        ).fetchall()
        assert killed == [(True,)]
        eventually(lambda: not kept.listening, seconds=5)
        admin.execute("UPDATE users SET role = 'catalogue' WHERE name = 'alice'")
        assert kept.get("alice").role == "catalogue"  # type: ignore[union-attr]
        eventually(lambda: kept.listening)
        admin.execute("UPDATE users SET role = 'admin' WHERE name = 'alice'")
        eventually(lambda: kept.get("alice").role == "admin", seconds=2)  # type: ignore[union-attr]


def test_a_read_that_raced_a_change_is_not_kept(clean_pg: Engine, pg_url: str) -> None:
    class Racing(UserRepository):
        """A change is heard while the read is under way."""

        reads = 0

        def get(self, name: str) -> User | None:
            Racing.reads += 1
            found = super().get(name)
            kept._changed(name)
            return found

    users = Racing(clean_pg)
    users.add("alice", "hash", "download")
    kept = UserCache(users, pg_url)
    try:
        eventually(lambda: kept.listening)
        kept.get("alice")
        kept.get("alice")
        assert Racing.reads == 2
    finally:
        kept.close()


def test_sqlite_reads_users_every_time(tmp_path: Path) -> None:
    components = Components(load_settings(data_dir=tmp_path / "prip"))
    components.migrate()
    try:
        assert components.user_source is components.users
    finally:
        components.close()
