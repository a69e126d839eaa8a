"""Components on a real database: each test runs on SQLite and on the session's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings


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
