"""Password hashing with scrypt (memory-hard), salted, in a self-describing string.

The cost parameters are part of each stored hash, so they can be raised without locking
anyone out: a hash made with less than today's cost still verifies, and
:func:`needs_rehash` says the login that proved the password should store a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# 2**17 x 8 x 1 is 128 MiB per hash (OWASP's minimum for scrypt): an attacker with a GPU
# pays that memory for every guess; we pay it, ~0.4 s, once per login (auth caches it).
N, R, P = 2**17, 8, 1
# scrypt needs 128 * N * r bytes plus a little: leave room for twice today's cost, and no
# more, so a tampered hash cannot make a replica allocate without bound.
_MAXMEM = 2 * 128 * N * R + 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64 parts). Lower ``n`` only in tests."""
    if not password:
        raise ValueError("empty password")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str, *, n: int = N) -> bool:
    """True if ``stored`` was made with less than today's cost, ``n`` (hash it again at
    login)."""
    try:
        scheme, stored_n, r, p, _, _ = stored.split("$")
        return scheme == "scrypt" and (int(stored_n) < n or int(r) < R or int(p) < P)
    except ValueError:
        return False
