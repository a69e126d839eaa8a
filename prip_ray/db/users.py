"""UserRepository: the PRIP's user store (names, roles, scrypt password hashes)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from prip_ray.db.tables import users
from prip_ray.domain.users import User
from prip_ray.errors import UserExists, UserNotFound


class UserRepository:
    def __init__(self, engine: Engine):
        self._engine = engine

    def add(self, name: str, password_hash: str, role: str) -> User:
        user = User(name, role, False, datetime.now(UTC), password_hash)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(users).values(
                        name=user.name,
                        password_hash=user.password_hash,
                        role=user.role,
                        disabled=user.disabled,
                        created_at=user.created_at,
                    )
                )
        except IntegrityError as e:
            raise UserExists(f"user {name!r} exists already") from e
        return user

    def get(self, name: str) -> User | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        return User(**row) if row else None

    def all(self) -> list[User]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).mappings().all()
        return [User(**row) for row in rows]

    def set_disabled(self, name: str, disabled: bool) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))
        if done.rowcount == 0:
            raise UserNotFound(f"no user {name!r}")
