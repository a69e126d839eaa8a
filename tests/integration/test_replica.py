"""The API replica as Serve builds it: what it does once, before serving."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from prip_ray.config import load_settings
from prip_ray.serve.deployment import ODataReplica


def test_the_replica_freezes_what_it_built_and_still_serves(tmp_path: Path) -> None:
    """A full garbage collection walked every object of the built app (~90 ms per
    collection, two per 500 searches); frozen, they are left out of it."""
    replica = ODataReplica(load_settings(data_dir=tmp_path / "prip"))
    replica._components.migrate()
    try:
        app = replica.__serve_build_asgi_app__()
        assert gc.get_freeze_count() > 10_000
        with TestClient(app) as client:
            assert client.get("/health").json() == {"status": "ok"}
    finally:
        gc.unfreeze()
        replica._components.close()
