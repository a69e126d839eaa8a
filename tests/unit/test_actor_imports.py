"""Every Ray worker process pays for what its module imports, in start time and memory:
the actors that neither serve HTTP nor talk SFTP, S3 or Parquet must not load those
libraries just by being imported (they are imported where they are used)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("asyncssh", "boto3", "pyarrow", "fastapi", "uvicorn", "alembic")


@pytest.mark.parametrize(
    "module",
    ["prip_ray.actors.service_host", "prip_ray.actors.ingest_shard", "prip_ray.actors.qc_worker"],
)
def test_an_actor_module_loads_no_heavy_library(module: str) -> None:
    script = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
