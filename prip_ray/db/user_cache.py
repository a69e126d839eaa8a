"""Users as authentication reads them: kept in memory, dropped the moment their row changes.

Every request reads its user's row, so that disabling a user, changing a role or a quota
takes effect at once. On PostgreSQL that read was a round trip per request: 0.21 ms of a
replica's CPU and a pool checkout, about 8% of the four-part benchmark search and 20% of a
name search. PostgreSQL announces every change of ``users`` on a channel (a trigger,
migration 0011) and each replica LISTENs to it on a connection of its own: a kept user is
dropped within milliseconds of the commit that changed it, whoever made the change (the
API, the CLI, plain SQL), and at once when this process made it.

A user is kept only while the listening connection is up: from its loss until it is back
(and the kept users dropped, since changes may have gone unheard) every read goes to the
database, as without this cache. A read that raced a change is not kept: each change
moves a generation counter, and a user read under an older generation is only returned.
SQLite has no notifications; there the repository is read directly (bootstrap.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg

from prip_ray.db.users import UserRepository
from prip_ray.domain.users import User

log = logging.getLogger(__name__)

CHANNEL = "prip_users"  # migration 0011 notifies it with the changed user's name
EVERYONE = ""  # the payload of a TRUNCATE: every user changed
MAX_KEPT = 10_000
APP_NAME = "prip-user-cache"  # its listening connection, as pg_stat_activity shows it


class UserCache:
    """``get(name)`` as UserRepository answers it, from memory while PostgreSQL can say
    what changed. ``conninfo`` is a libpq URL of the database (its own connection)."""

    def __init__(
        self,
        users: UserRepository,
        conninfo: str,
        *,
        max_age_s: float = 60.0,
        check_every_s: float = 5.0,
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._users = users
        self._conninfo = conninfo
        self._max_age = max_age_s  # a bound even if a notification were ever missed
        self._check_every = check_every_s
        self._retry = retry_s
        self._clock = clock
        self._kept: dict[str, tuple[User, float]] = {}
        self._generation = 0
        self._listening = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        users.on_change(self._changed)  # this process's own changes: forgotten at once
        self._thread = threading.Thread(target=self._listen, name="prip-user-cache", daemon=True)
        self._thread.start()

    @property
    def listening(self) -> bool:
        return self._listening

    def get(self, name: str) -> User | None:
        with self._lock:
            kept = self._kept.get(name) if self._listening else None
            if kept is not None and kept[1] > self._clock():
                return kept[0]
            generation = self._generation
        user = self._users.get(name)
        with self._lock:
            if user is not None and self._listening and self._generation == generation:
                if len(self._kept) >= MAX_KEPT:
                    self._kept.clear()
                self._kept[name] = (user, self._clock() + self._max_age)
        return user

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._check_every + 5)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, connect_timeout=10, application_name=APP_NAME
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._changed(EVERYONE, listening=True)  # changes before now went unheard
                    self._hear(conn)
            except psycopg.Error as e:
                log.warning("user cache: not listening (%s); reading users every time", e)
            finally:
                self._changed(EVERYONE, listening=False)
            self._stop.wait(self._retry)

    def _hear(self, conn: psycopg.Connection[object]) -> None:
        checked = self._clock()
        while not self._stop.is_set():
            for note in conn.notifies(timeout=1.0):
                self._changed(note.payload)
            if self._clock() - checked >= self._check_every:
                conn.execute("SELECT 1")  # a connection that died quietly raises here
                checked = self._clock()

    def _changed(self, name: str, listening: bool | None = None) -> None:
        with self._lock:
            self._generation += 1
            if name == EVERYONE:
                self._kept.clear()
            else:
                self._kept.pop(name, None)
            if listening is not None:
                self._listening = listening
