"""Property-based: every route of the OpenAPI document the app generates, called with
generated parameters and bodies (schemathesis), with credentials and without, answers below
500 and in time. In process, on SQLite, with the sample products and one user per role."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password
from prip_ray.serve.app import basic_header, create_app
from tests.samples import SAMPLES_DIR

ADMIN = basic_header("root", "root-pw")
EXAMPLES = 20  # per route and test: the whole file stays well under a minute
IN_TIME_S = 2.0


@pytest.fixture(scope="module")
def surface(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    root: Path = tmp_path_factory.mktemp("surface")
    components = Components.for_api(load_settings(data_dir=root, ingest={"settle_s": 0}))
    components.migrate()
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    for sample in sorted(SAMPLES_DIR.glob("S2B_*.tar")):
        components.ingest.ingest(shutil.copy(sample, inbox / sample.name))
    components.users.add("root", hash_password("root-pw"), "admin")
    yield create_app(components.api_services())
    components.close()


@pytest.fixture(scope="module")
def surface_schema(surface: FastAPI) -> Any:
    loaded = schemathesis.openapi.from_dict(surface.openapi())
    loaded.app = surface
    return loaded


def _each_route(loaded: Any, check: Any) -> None:
    """``check(case)`` on generated cases of every operation, EXAMPLES of each. Hypothesis
    runs here rather than through schemathesis' pytest plugin, which pytest 9 breaks."""
    for result in loaded.get_all_operations():
        operation = result.ok()
        # What the document allows, and what it does not (wrong types, missing fields).
        both = st.one_of(*(operation.as_strategy(mode) for mode in schemathesis.GenerationMode))

        @given(case=both)
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def examples(case: Any) -> None:
            check(case)

        examples()


def _answered_in_time(case: Any, headers: dict[str, str]) -> Any:
    started = time.perf_counter()
    response = case.call(headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    assert elapsed < IN_TIME_S, (case.as_curl_command(), elapsed)
    return response


def test_every_route_with_credentials(surface_schema: Any) -> None:
    _each_route(surface_schema, lambda case: _answered_in_time(case, ADMIN))


def test_every_route_without_credentials(surface_schema: Any) -> None:
    def refused(case: Any) -> None:
        response = _answered_in_time(case, {})
        path = case.operation.path
        if path not in ("/oauth2/token", "/oauth2/certs"):  # the only public routes
            assert response.status_code in (400, 401, 404, 405, 413), (path, response.status_code)

    _each_route(surface_schema, refused)
