"""Session-wide fixtures: one PostgreSQL database, one S3 server, one Ray instance per run."""

import os

from tests.cheap_passwords import CHEAP_LOG2_N

# Before any settings are read, and inherited by Ray's workers and the CLI subprocesses:
# the PRIP hashes passwords at a cheap cost in tests (see tests/cheap_passwords.py).
os.environ.setdefault("PRIP_AUTH__SCRYPT_LOG2_N", str(CHEAP_LOG2_N))

pytest_plugins = [
    "tests.fixtures.components",
    "tests.fixtures.postgres",
    "tests.fixtures.ray_cluster",
    "tests.fixtures.s3",
]
