"""Components on a real database: each test runs on SQLite and on the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.samples import SAMPLES_DIR, publish_samples

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))


@pytest.fixture(params=["sqlite", "postgresql"])
def components(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Components]:
    db_url = None
    if request.param == "postgresql":
        db_url = request.getfixturevalue("clean_pg").url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path / "prip", db={"url": db_url}, ingest={"settle_s": 0})
    built = Components(settings)
    built.migrate()
    yield built
    built.close()


@pytest.fixture
def api(components: Components) -> Iterator[TestClient]:
    publish_samples(components)
    components.users.add("alice", cheap_hash("alice-pw"), "download")
    components.users.add("carol", cheap_hash("carol-pw"), "catalogue")
    with TestClient(create_app(api_services(components))) as client:
        yield client
