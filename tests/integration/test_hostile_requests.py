"""Requests meant to hurt: oversized bodies, malformed parameters, costly filters. Each is
answered 4xx, quickly, without reading more than it must; never 500."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.loopback import served

ALICE = basic_header("alice", "alice-pw")
# A public address literal: this machine resolves no outside names, and endpoints that
# reach inside are refused before any other check.
PUBLIC_ENDPOINT = "https://93.184.215.14/n"
SUB = basic_header("sub", "sub-pw")
FILTER_LIST = "/odata/v1/Products/OData.CSC.FilterList"


@pytest.fixture
def hostile(api: TestClient, components: Components) -> TestClient:
    components.users.add("sub", cheap_hash("sub-pw"), "subscriptions")
    return api


def _subscription(api: TestClient) -> str:
    made = api.post(
        "/odata/v1/Subscriptions",
        json={"FilterParam": "Online", "NotificationEndpoint": PUBLIC_ENDPOINT},
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
    ever finishing the body: a server that waits for the rest times out. The answer is read
    as soon as it comes, between parts too: a server that stops reading closes with bytes
    unread, and the reset that follows may cut off an answer left waiting in the socket.
    The server must also close the connection: with it left open, uvicorn would wait for the
    rest of the body until its 5 s keep-alive timeout, so 2 s here tells the two apart."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname or "", where.port or 80), timeout=2) as conn:
        answer = b""
        try:
            conn.sendall(head.encode())
            for part in parts:
                conn.sendall(part)
                answer += _ready(conn)
            while chunk := conn.recv(65536):  # the server closes after a 413
                answer += chunk
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading, as it should: what it answered is what counts
        return answer


def _ready(conn: socket.socket) -> bytes:
    """What the server has sent so far, without waiting for more."""
    got = b""
    while select.select([conn], [], [], 0)[0]:
        try:
            chunk = conn.recv(65536)
        except ConnectionResetError:
            break  # the reset after the answer: keep what came before it
        if not chunk:
            break
        got += chunk
    return got


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


MALFORMED_QUERIES = [
    {"$top": "٣"},  # Arabic-Indic three: int() takes it, OData does not
    {"$top": "²"},  # isdigit() says yes, int() raises
    {"$skip": "٣"},
    {"$skip": "²"},
    {"$top": "9" * 5000},  # more digits than int() converts
    {"$skip": "9" * 5000},
    {"$top": "99999999999999999999999"},
    {"$top": "-1"},
    {"$top": "1e3"},
    {"$count": "yes"},
    {"$filter": "ContentLength gt " + "9" * 30},  # no 64-bit column holds it
    {"$filter": "ContentLength gt -" + "9" * 30},
    {"$filter": "ContentLength in (" + "9" * 25 + ")"},
    {"$filter": "Attributes/OData.CSC.IntegerAttribute/any(a:a/Value gt 1" + "0" * 25 + ")"},
    {"$filter": "ContentLength gt " + "9" * 5000},
    {"$filter": "ContentLength gt 1e999"},
    {"$filter": "PublicationDate gt 0000-01-01T00:00:00Z"},
    {"$filter": "PublicationDate gt 9999-12-31T23:59:59-23:59"},
]


@pytest.mark.parametrize("params", MALFORMED_QUERIES, ids=lambda p: str(p)[:40])
def test_malformed_query_options_get_400(hostile: TestClient, params: dict[str, str]) -> None:
    answer = hostile.get("/odata/v1/Products", params=params, headers=ALICE)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "InvalidQuery"


def _product_id(api: TestClient) -> str:
    found = api.get("/odata/v1/Products", params={"$top": "1"}, headers=ALICE).json()["value"]
    return str(found[0]["Id"])


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=" + "9" * 5000 + "-", 416),  # starts after the end, however far
        ("bytes=0-" + "9" * 5000, 206),  # ends after the end: up to the end
        ("bytes=-" + "9" * 5000, 206),  # a suffix longer than the product: all of it
        ("bytes=٣-٤", 200),  # not a range of ASCII digits: ignored, the whole product
        ("bytes=²-", 200),
    ],
)
def test_malformed_ranges_get_416_or_are_ignored(
    hostile: TestClient, header: str, status: int
) -> None:
    key = _product_id(hostile)
    range_header = {"Range": header.encode()}  # as the bytes a client may send
    answer = hostile.get(f"/odata/v1/Products({key})/$value", headers={**ALICE, **range_header})
    assert answer.status_code == status, answer.text[:300]


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "x" * 5000, "é" * 70, "\ud800"],
    ids=["nul", "long", "accented", "surrogate"],
)
def test_odd_user_names_are_refused_as_wrong_credentials(hostile: TestClient, name: str) -> None:
    header = basic_header(name.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "pw")
    answer = hostile.get("/odata/v1/Products", headers=header)
    assert answer.status_code == 401, answer.text
    form = {"grant_type": "password", "username": name, "password": "pw"}
    token = hostile.post("/oauth2/token", content=_form(form))
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant", token.text


def _form(fields: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 50_000,
        b'{"FilterProducts": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
        b"\xff\xfe",
        b'{"FilterProducts": [{"Name": "\\u0000"}]}',
    ],
    ids=["deep-array", "deep-in-object", "not-utf8", "nul-name"],
)
def test_malformed_json_bodies_get_400(hostile: TestClient, body: bytes) -> None:
    for path, headers in [(FILTER_LIST, ALICE), ("/odata/v1/Subscriptions", SUB)]:
        answer = hostile.post(path, content=body, headers=headers)
        assert answer.status_code == 400, (path, answer.text)


@pytest.mark.parametrize(
    "fields",
    [
        {"NotificationEpUsername": "lta\x00"},
        {"NotificationEndpoint": PUBLIC_ENDPOINT + "\x00"},
        {"NotificationEndpoint": "https://[::1"},
        {"SubscriptionEvent": "created\x00"},
        {"FilterParam": "Name eq 'a\x00'"},
        {"FilterParam": "not " * 1000 + "ContentLength gt 5"},
    ],
    ids=str,
)
def test_malformed_subscriptions_get_400(hostile: TestClient, fields: dict[str, str]) -> None:
    body = {"FilterParam": "Online", "NotificationEndpoint": PUBLIC_ENDPOINT, **fields}
    answer = hostile.post("/odata/v1/Subscriptions", json=body, headers=SUB)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize(
    "params",
    [
        {"since": "0001-01-01T00:00:00"},
        {"until": "0001-01-01T00:00:00"},
        {"since": "9999-12-31T23:59:59-23:59"},
        {"until": "x" * 5000},
    ],
    ids=str,
)
def test_malformed_kpi_windows_get_400(
    hostile: TestClient, components: Components, params: dict[str, str]
) -> None:
    components.users.add("root", cheap_hash("root-pw"), "admin")
    answer = hostile.get("/kpi", params=params, headers=basic_header("root", "root-pw"))
    assert answer.status_code in (200, 400), answer.text


@pytest.mark.parametrize(
    "path", ["/kpi", "/console", "/console/export.csv", "/console/export.json"]
)
def test_kpi_windows_longer_than_the_history_get_400_at_once(
    hostile: TestClient, components: Components, path: str
) -> None:
    """Hours and days of a window are worked out one by one: from year 1 they took the
    process's memory (GBs within seconds) before this limit."""
    components.users.add("root", cheap_hash("root-pw"), "admin")
    early = "0001-01-01T00:00:00"  # the console reads until only in a custom period
    for params in ({"since": early}, {"period": "custom", "until": early}):
        started = time.monotonic()
        answer = hostile.get(path, params=params, headers=basic_header("root", "root-pw"))
        assert answer.status_code == 400, answer.text
        assert time.monotonic() - started < 2


def test_hostile_filters_get_400_on_every_route_that_takes_one(hostile: TestClient) -> None:
    nested = "Name in ('a')"
    for _ in range(30):
        nested = f"Name in ({nested})"
    for expression in [nested, "not " * 1000 + "ContentLength gt 5"]:
        params = {"$filter": expression}
        search = hostile.get("/odata/v1/Products", params=params, headers=ALICE)
        listed = hostile.post(
            FILTER_LIST, params=params, json={"FilterProducts": []}, headers=ALICE
        )
        for answer in (search, listed):
            assert answer.status_code == 400, answer.text


MANY_PRODUCTS = """
INSERT INTO products (id, name, product_type, content_type, content_length, origin_date,
    publication_date, eviction_date, modification_date, content_start, content_end, online,
    production_type, object_key, checksums, md5)
SELECT gen_random_uuid(), 'S2B_GENERATED_' || g, 'MSI_L0__GR', 'application/octet-stream', g,
    now(), now(), now(), now(), now(), now(), true, 'systematic_production', 'k' || g,
    '[]', md5(g::text)
FROM generate_series(1, 300000) AS g
"""


def test_a_costly_query_is_stopped_by_the_statement_timeout_with_503(
    clean_pg: Engine, tmp_path: Path
) -> None:
    url = clean_pg.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path, db={"url": url}, api={"statement_timeout_s": 0.05})
    with clean_pg.begin() as conn:
        conn.execute(text(MANY_PRODUCTS))
    components = Components.for_api(settings)
    components.users.add("alice", cheap_hash("alice-pw"), "download")
    try:
        with TestClient(create_app(api_services(components))) as client:
            params = {"$filter": "contains(Name,'%_%zz')", "$count": "true"}
            started = time.monotonic()
            answer = client.get("/odata/v1/Products", params=params, headers=ALICE)
            assert time.monotonic() - started < 1
            assert answer.status_code == 503, answer.text
            assert (
                answer.headers["Retry-After"] and answer.json()["error"]["code"] == "QueryTimeout"
            )
            assert "SELECT" not in answer.text and "statement timeout" not in answer.text
            quick = client.get("/odata/v1/Products", params={"$top": "1"}, headers=ALICE)
            assert quick.status_code == 200
    finally:
        components.close()
        with clean_pg.begin() as conn:
            conn.execute(text("TRUNCATE products CASCADE"))


def test_a_store_failure_is_503_without_paths_keys_or_buckets(
    hostile: TestClient, components: Components, caplog: pytest.LogCaptureFixture
) -> None:
    key = _product_id(hostile)
    root = components.settings.store_root
    for stored in [p for p in root.rglob("*") if p.is_file()]:
        stored.unlink()  # the catalogue still lists them: reading one fails
    answer = hostile.get(f"/odata/v1/Products({key})/$value", headers=ALICE)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json()["error"]["code"] == "StorageError"
    assert str(root) not in answer.text and "prip" not in answer.json()["error"]["message"]
    assert any(str(root) in r.getMessage() for r in caplog.records)  # the operator's copy


def test_a_database_outage_is_503_without_host_password_or_driver_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://prip:hunter2@127.0.0.1:{port}/prip"
    components = Components.for_api(load_settings(data_dir=tmp_path, db={"url": url}))
    try:
        with TestClient(create_app(api_services(components))) as client:
            answer = client.get("/odata/v1/Products", headers=ALICE)
    finally:
        components.close()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "DatabaseUnavailable"
    for secret in ("hunter2", "127.0.0.1", str(port), "psycopg", "connection"):
        assert secret not in answer.text
    assert any(str(port) in r.getMessage() for r in caplog.records)
