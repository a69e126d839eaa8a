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
from prip_ray.odata.options import QueryOptions
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.samples import SAMPLES_DIR

ADMIN = basic_header("root", "root-pw")
# Digits of every script, and numbers longer than any column or int() holds.
DIGITS = st.one_of(
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=8),
    st.integers(1, 5000).map(lambda n: "9" * n),
)
LEAVES = st.one_of(
    st.sampled_from(
        [
            "Online",
            "contains(Name,'S2B')",
            "Name in ('a')",
            "Name in ('a','b')",
            "PublicationDate gt 2020-01-01T00:00:00Z",
            "PublicationDate lt 9999-12-31T23:59:59-23:59",
            "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'n' and a/Value eq 'v')",
            "Checksum/any(c:c/Algorithm eq 'MD5' and c/Value eq 'ab')",
            "OData.CSC.Intersects(area=geography'SRID=4326;POINT(12 45)')",
        ]
    ),
    DIGITS.map(lambda digits: f"ContentLength gt {digits}"),
    DIGITS.map(lambda digits: f"ContentLength in (-{digits})"),
)
# A leaf inside a run of one wrapper (not, parentheses, a one-element list), as deep as
# the text allows, or leaves joined by and/or/not in any shape.
WRAPPED = st.builds(
    lambda wrapper, n, leaf: wrapper[0] * n + leaf + wrapper[1] * n,
    st.sampled_from([("not ", ""), ("(", ")"), ("not (", ")"), ("Name in (", ")")]),
    st.integers(1, 1500),
    LEAVES,
)
FILTERS = st.one_of(
    WRAPPED,
    st.recursive(
        LEAVES,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map("".join),
            inner.map(lambda text: f"not ({text})"),
        ),
        max_leaves=40,
    ),
)
RANGES = st.builds(
    "bytes={}-{}".format,
    st.one_of(
        st.just(""), st.integers(1, 5000).map(lambda n: "9" * n), st.integers(0, 10**6).map(str)
    ),
    st.one_of(
        st.just(""), st.integers(1, 5000).map(lambda n: "9" * n), st.integers(0, 10**6).map(str)
    ),
)
schemathesis.openapi.format("odata-filter", FILTERS)
schemathesis.openapi.format("byte-range", RANGES)
EXAMPLES = 15  # per route and test: the whole file stays well under a minute
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
    components.users.add("root", cheap_hash("root-pw"), "admin")
    app = create_app(api_services(components))
    app.state.known_key = str(components.products.search(QueryOptions(top=1)).products[0].id)
    yield app
    components.close()


@pytest.fixture(scope="module")
def surface_schema(surface: FastAPI) -> Any:
    loaded = schemathesis.openapi.from_dict(surface.openapi())
    loaded.app = surface
    return loaded


def _each_route(loaded: Any, check: Any) -> None:
    """``check(case)`` on generated cases of every operation, EXAMPLES of each. Hypothesis
    runs here rather than through schemathesis' pytest plugin, which pytest 9 breaks."""
    known = {"key": loaded.app.state.known_key}  # a random key stops at 400: try a real one
    for result in loaded.get_all_operations():
        operation = result.ok()
        # What the document allows, and what it does not (wrong types, missing fields).
        modes = list(schemathesis.GenerationMode)
        strategies = [operation.as_strategy(mode) for mode in modes]
        if "{key}" in operation.path:
            strategies += [operation.as_strategy(mode, path_parameters=known) for mode in modes]
        both = st.one_of(*strategies)

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
