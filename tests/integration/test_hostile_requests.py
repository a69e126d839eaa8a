"""Requests meant to hurt: oversized bodies, malformed parameters, costly filters. Each is
answered 4xx, quickly, without reading more than it must; never 500."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.domain.passwords import hash_password
from prip_ray.serve.app import basic_header
from tests.loopback import served

ALICE = basic_header("alice", "alice-pw")
SUB = basic_header("sub", "sub-pw")
FILTER_LIST = "/odata/v1/Products/OData.CSC.FilterList"


@pytest.fixture
def hostile(api: TestClient, components: Components) -> TestClient:
    components.users.add("sub", hash_password("sub-pw"), "subscriptions")
    return api


def _subscription(api: TestClient) -> str:
    made = api.post(
        "/odata/v1/Subscriptions",
        json={"FilterParam": "Online", "NotificationEndpoint": "https://lta.example.org/n"},
        headers=SUB,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["Id"])


def _oversized(api: TestClient) -> list[tuple[str, str, int, dict[str, str]]]:
    """(method, path, limit, headers) of every route that takes a body."""
    key = _subscription(api)
    return [
        ("POST", "/oauth2/token", 8192, {}),
        ("POST", "/odata/v1/Subscriptions", 65536, SUB),
        ("PATCH", f"/odata/v1/Subscriptions({key})", 65536, SUB),
        ("POST", FILTER_LIST, 1000 * 1024, ALICE),
    ]


def test_bodies_over_the_limit_get_413_with_content_length(hostile: TestClient) -> None:
    for method, path, limit, headers in _oversized(hostile):
        body = b'{"x": "' + b"a" * limit + b'"}'
        answer = hostile.request(method, path, content=body, headers=headers)
        assert answer.status_code == 413, (path, answer.text)
        assert answer.json()["error"]["code"] == "PayloadTooLarge"
        at_limit = hostile.request(method, path, content=b" " * limit, headers=headers)
        assert at_limit.status_code != 413, path


def test_bodies_over_the_limit_get_413_when_chunked(hostile: TestClient) -> None:
    for method, path, limit, headers in _oversized(hostile):

        def chunks(total: int = limit + 1) -> Iterator[bytes]:
            for _ in range(0, total, 4096):
                yield b"a" * 4096

        answer = hostile.request(method, path, content=chunks(), headers=headers)
        assert answer.status_code == 413, (path, answer.text)


def _raw(url: str, head: str, parts: list[bytes]) -> bytes:
    """Send a request head and body parts on one socket, then read what comes back, without
    ever finishing the body: a server that waits for the rest times out."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname or "", where.port or 80), timeout=5) as conn:
        conn.sendall(head.encode())
        for part in parts:
            conn.sendall(part)
        return conn.recv(65536)


def test_the_token_endpoint_stops_reading_at_the_limit(
    hostile: TestClient, components: Components
) -> None:
    """Unauthenticated, so anyone can try: the answer comes before the body is complete."""
    app = hostile.app
    with served(app) as url:
        chunked = "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"400\r\n" + b"a" * 1024 + b"\r\n"
        answer = _raw(url, chunked, [chunk] * 9)  # 9 KiB of a body that never ends
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        declared = "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
        answer = _raw(url, declared, [b"grant_type=password"])
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body["error"]["code"] == "PayloadTooLarge"
