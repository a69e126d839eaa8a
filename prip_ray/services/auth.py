"""Authenticator: checks a user name and password against the user store.

scrypt is deliberately slow, so a successful check is remembered for a short while, keyed by
a hash of the credentials (never the password itself).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from prip_ray.db.users import UserRepository
from prip_ray.domain.passwords import verify_password
from prip_ray.domain.users import User
from prip_ray.errors import AuthenticationFailed, PermissionDenied


class Authenticator:
    def __init__(
        self,
        users: UserRepository,
        *,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._users = users
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[bytes, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def login(self, name: str, password: str) -> User:
        key = hashlib.sha256(f"{name}\0{password}".encode()).digest()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[1] > self._clock():
            return cached[0]
        user = self._users.get(name)
        if user is None or not verify_password(password, user.password_hash):
            raise AuthenticationFailed("unknown user or wrong password")
        if user.disabled:
            raise AuthenticationFailed(f"user {name!r} is disabled")
        with self._lock:
            self._cache[key] = (user, self._clock() + self._cache_seconds)
        return user


def authorise(user: User, action: str) -> User:
    if not user.may(action):
        raise PermissionDenied(f"role {user.role!r} of user {user.name!r} may not {action}")
    return user
