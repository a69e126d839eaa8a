"""Who is calling, and may they: HTTP Basic and bearer-token logins, failed-login
throttling, the per-minute request quota, and role checks.

scrypt is deliberately slow, so a verified password is remembered for a short while, keyed
by a hash of the credentials (never the password itself); throttling applies to the logins
that must be verified, which every guess is. A login that proves a password stored with
less than today's scrypt cost stores it again at today's cost (the only moment the
cleartext is at hand). scrypt takes 128 MiB while it runs, so only a few run at once in a
process (``SCRYPT_AT_ONCE``): a burst of logins for many names waits its turn instead of
taking a replica's memory. The user is looked up on every request all
the same (from the replica's user cache on PostgreSQL, which drops a user the moment their
row changes: db/user_cache.py), so disabling a user or changing their role takes effect at
once, for tokens already issued too.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from prip_ray.domain.passwords import N as SCRYPT_N
from prip_ray.domain.passwords import hash_password, needs_rehash, verify_password
from prip_ray.domain.quotas import QuotaLimits, check_request
from prip_ray.domain.users import User, is_user_name
from prip_ray.errors import AuthenticationFailed, PermissionDenied, QuotaExceeded
from prip_ray.ports import MinuteCounters
from prip_ray.services.request_counter import BatchedCounter
from prip_ray.services.tokens import TokenService

SCRYPT_AT_ONCE = 2  # x 128 MiB per process at most


class UserSource(Protocol):
    def get(self, name: str) -> User | None: ...


class PasswordStore(Protocol):
    def replace_password_hash(self, name: str, old: str, new: str) -> bool: ...


class Authenticator:
    def __init__(
        self,
        users: UserSource,
        *,
        counters: MinuteCounters | None = None,
        tokens: TokenService | None = None,
        failed_logins_per_minute: int = 10,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        verify: Callable[[str, str], bool] = verify_password,
        passwords: PasswordStore | None = None,  # where upgraded hashes go; None: not upgraded
        scrypt_n: int = SCRYPT_N,  # today's cost: hashes below it are upgraded at login
    ):
        self._users = users
        self._counters = counters
        self._tokens = tokens
        self._failures_allowed = failed_logins_per_minute
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._now = now
        self._verified: dict[bytes, tuple[str, float]] = {}  # credentials hash -> password hash
        self._requests = BatchedCounter(counters) if counters is not None else None
        self._lock = threading.Lock()
        self._verify = verify
        self._passwords = passwords
        self._scrypt_n = scrypt_n
        self._scrypt = threading.BoundedSemaphore(SCRYPT_AT_ONCE)
        self._verifying = [threading.Lock() for _ in range(64)]  # striped by credentials hash

    def login(self, name: str, password: str, address: str = "") -> User:
        if not is_user_name(name):
            # No user has it, and a NUL or a 5,000-character name is no DB key (PostgreSQL
            # refuses NUL, the failure counter's subject is 128 characters): a wrong login
            # like any other, counted against the address.
            self._refuse_if_throttled("", address)
            self._count_failure("", address)
            raise AuthenticationFailed("unknown user or wrong password")
        key = hashlib.sha256(f"{name}\0{password}".encode()).digest()
        user = self._users.get(name)
        if user is not None and self._remembered(key, user.password_hash):
            # Verified moments ago: a guesser's attempts never get here (wrong passwords are
            # never remembered), so throttling need not cost this request two DB reads, and
            # an attack on a user's name does not lock out the user already logged in.
            return _enabled(user)
        # One verification per credentials at a time: when the remembered login expires
        # under load, the other requests with it wait for that one scrypt instead of each
        # running their own (8 at once stalled a replica for 0.5 s every 30 s).
        with self._verifying[key[0] % len(self._verifying)]:
            if user is not None and self._remembered(key, user.password_hash):
                return _enabled(user)
            self._refuse_if_throttled(name, address)
            if user is None or not self._verified_now(password, user.password_hash):
                self._count_failure(name, address)
                raise AuthenticationFailed("unknown user or wrong password")
            stored = self._upgraded(user, password)
            with self._lock:
                self._verified[key] = (stored, self._clock() + self._cache_seconds)
        return _enabled(user)

    def bearer(self, token: str, address: str = "") -> User:
        if self._tokens is None:
            raise AuthenticationFailed("bearer tokens are not accepted here")
        self._refuse_if_throttled("", address)
        try:
            name = self._tokens.user_name(token)
        except AuthenticationFailed:
            self._count_failure("", address)
            raise
        user = self._users.get(name)
        if user is None:
            raise AuthenticationFailed(f"token names user {name!r}, who is not known here")
        return _enabled(user)

    def count_request(self, user: User, limits: QuotaLimits) -> None:
        if self._requests is not None:
            check_request(limits, self._requests.hit(f"req:{user.name}", self._now()))

    def _verified_now(self, password: str, password_hash: str) -> bool:
        with self._scrypt:
            return self._verify(password, password_hash)

    def _upgraded(self, user: User, password: str) -> str:
        """The password hash stored for ``user`` now, at today's cost if it was lower."""
        if self._passwords is None or not needs_rehash(user.password_hash, n=self._scrypt_n):
            return user.password_hash
        with self._scrypt:
            new = hash_password(password, n=self._scrypt_n)
        if self._passwords.replace_password_hash(user.name, user.password_hash, new):
            return new
        return user.password_hash  # changed meanwhile: the next login sees the new one

    def _remembered(self, key: bytes, password_hash: str) -> bool:
        with self._lock:
            cached = self._verified.get(key)
        return (
            cached is not None
            and cached[1] > self._clock()
            and hmac.compare_digest(cached[0], password_hash)  # a changed password invalidates
        )

    def _refuse_if_throttled(self, name: str, address: str) -> None:
        if self._counters is None:
            return
        now = self._now()
        for subject in _failure_subjects(name, address):
            if self._counters.count(subject, now) >= self._failures_allowed:
                raise QuotaExceeded(
                    "too many failed logins; wait a minute before trying again", retry_after=60
                )

    def _count_failure(self, name: str, address: str) -> None:
        if self._counters is not None:
            for subject in _failure_subjects(name, address):
                self._counters.hit(subject, self._now())


def _failure_subjects(name: str, address: str) -> list[str]:
    subjects = [f"fail-user:{name}"] if name else []
    return subjects + ([f"fail-addr:{address}"] if address else [])


def _enabled(user: User) -> User:
    if user.disabled:
        raise AuthenticationFailed(f"user {user.name!r} is disabled")
    return user


def authorise(user: User, action: str) -> User:
    if not user.may(action):
        raise PermissionDenied(f"role {user.role!r} of user {user.name!r} may not {action}")
    return user
