"""Every route guarded by a role, and hostile input that must never give a 5xx or leak data."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.domain.users import ROLES, User
from prip_ray.serve.app import basic_header
from tests.cheap_passwords import cheap_hash

PUBLIC = {"/health", "/oauth2/token", "/oauth2/certs"}
SOME_ID = "00000000-0000-0000-0000-000000000001"
INJECTIONS = [
    "'; DROP TABLE products; --",
    "' OR '1'='1",
    "x') or 1=1 --",
    "%27%20OR%201=1",
    "\u0000",
    "../../../../etc/passwd",
    "${jndi:ldap://127.0.0.1/x}",
    "<script>alert(1)</script>",
    "A" * 9000,
]


def _actions(route: APIRoute) -> set[str]:
    found: set[str] = set()

    def walk(dependant: Any) -> None:
        action = getattr(dependant.call, "required_action", None)
        if action:
            found.add(action)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def _routes(api: TestClient) -> list[APIRoute]:
    return [r for r in api.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]


def _path(route: APIRoute) -> str:
    return re.sub(r"\{[^}]+\}", SOME_ID, route.path)


def test_every_route_declares_the_action_it_needs(api: TestClient) -> None:
    for route in _routes(api):
        if route.path in PUBLIC:
            continue
        assert len(_actions(route)) == 1, f"{route.path} declares no (or several) actions"


def test_no_route_answers_2xx_without_credentials(api: TestClient) -> None:
    for route in _routes(api):
        if route.path in PUBLIC:
            continue
        for method in route.methods:
            answer = api.request(method, _path(route))
            assert answer.status_code == 401, (method, route.path, answer.status_code)
            assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_each_route_refuses_the_roles_that_may_not(api: TestClient, components: Components) -> None:
    for role in ROLES:
        components.users.add(f"r-{role}", cheap_hash("pw"), role)
    for route in _routes(api):
        if route.path in PUBLIC:
            continue
        (action,) = _actions(route)
        for role in ROLES:
            allowed = User("x", role, False, components.users.get("alice").created_at, "").may(
                action
            )  # type: ignore[union-attr]
            for method in route.methods:
                answer = api.request(method, _path(route), headers=basic_header(f"r-{role}", "pw"))
                if allowed:
                    assert answer.status_code not in (401, 403), (role, route.path)
                else:
                    assert answer.status_code == 403, (role, method, route.path, answer.status_code)


@pytest.mark.parametrize("evil", INJECTIONS)
def test_hostile_strings_in_every_parameter(api: TestClient, evil: str) -> None:
    headers = basic_header("alice", "alice-pw")
    for option in (
        "$filter",
        "$orderby",
        "$select",
        "$expand",
        "$top",
        "$skip",
        "$count",
        "$format",
        "custom",
    ):
        answer = api.get("/odata/v1/Products", params={option: evil}, headers=headers)
        assert answer.status_code < 500, (option, answer.text[:200])
        if answer.status_code == 200:
            assert len(answer.json()["value"]) <= 3
    for template in (
        "Name eq '{}'",
        "contains(Name,'{}')",
        "Attributes/OData.CSC.StringAttribute/any(a:a/Name eq 'x' and a/Value eq '{}')",
    ):
        quoted = evil.replace("'", "''")
        answer = api.get(
            "/odata/v1/Products", params={"$filter": template.format(quoted)}, headers=headers
        )
        assert answer.status_code in (200, 400)
        if answer.status_code == 200:
            assert answer.json()["value"] == []  # nothing matches, nothing leaks
    in_path = quote(evil, safe="")
    for path in (f"/odata/v1/Products({in_path})", f"/odata/v1/Products('{in_path}')/$value"):
        assert api.get(path, headers=headers).status_code in (400, 404)
    listed = api.post(
        "/odata/v1/Products/OData.CSC.FilterList",
        json={"FilterProducts": [{"Name": evil}]},
        headers=headers,
    )
    assert listed.status_code in (200, 400)
    if listed.status_code == 200:
        assert listed.json()["value"] == []


def test_oversized_headers_and_bodies_are_refused_cleanly(api: TestClient) -> None:
    headers = basic_header("alice", "alice-pw")
    big = api.get("/odata/v1/Products", headers={**headers, "X-Padding": "x" * 100_000})
    assert big.status_code < 500
    huge_auth = api.get("/odata/v1/Products", headers={"Authorization": "Basic " + "A" * 100_000})
    assert huge_auth.status_code == 401
    body = {"FilterProducts": [{"Name": "x" * 1000} for _ in range(2000)]}
    listed = api.post("/odata/v1/Products/OData.CSC.FilterList", json=body, headers=headers)
    assert listed.status_code == 413  # refused before it is read (serve/bodies.py)
    form = api.post("/oauth2/token", content=b"grant_type=password&" + b"x" * 100_000)
    assert form.status_code == 413


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer a.b",
        "Bearer ...",
        "Bearer eyJ.eyJ.sig",
        "Basic",
        "Basic !!!",
        "Basic " + "Og==",
        "Digest x",
        "Bearer " + "a" * 10,
    ],
)
def test_malformed_credentials_get_401(api: TestClient, authorization: str) -> None:
    answer = api.get("/odata/v1/Products", headers={"Authorization": authorization})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "Unauthorized"
