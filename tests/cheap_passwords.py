"""Password hashes at a cheap scrypt cost, for test users.

scrypt's real cost (2**17: 128 MiB and 0.4-1 s per hash) paid in every fixture dominated
the suite's time. The test session runs the PRIP at ``CHEAP_LOG2_N`` (tests/conftest.py
sets ``PRIP_AUTH__SCRYPT_LOG2_N`` before anything reads the settings), so these hashes are
not upgraded at login either. The tests of the real cost ask for it explicitly.
"""

from __future__ import annotations

from prip_ray.domain.passwords import hash_password

CHEAP_LOG2_N = 10
CHEAP_N = 1 << CHEAP_LOG2_N


def cheap_hash(password: str) -> str:
    return hash_password(password, n=CHEAP_N)
