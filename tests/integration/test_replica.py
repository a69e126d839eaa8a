"""The API replica as Serve builds it: what it does once, before serving."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime, timedelta
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


def test_the_replica_reads_the_console_month_in_the_background(tmp_path: Path) -> None:
    """So that the first operator after a deploy or a scale-up finds the past hours read."""
    replica = ODataReplica(load_settings(data_dir=tmp_path / "prip"))
    replica._components.migrate()
    try:
        app = replica.__serve_build_asgi_app__()
        (warm,) = [t for t in threading.enumerate() if t.name == "kpi-warm"]
        warm.join(60)
        kpi = app.state.services.kpi
        hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        _, missing = kpi._cache.split([hour - timedelta(hours=h) for h in range(2, 24 * 29)])
        assert not missing  # every past hour of the month held (none published: empty)
    finally:
        gc.unfreeze()
        replica._components.close()
