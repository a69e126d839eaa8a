"""The OData API in-process (no Ray): FastAPI app on a real DB and store, real samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from prip_ray.serve.app import basic_header
from tests.samples import SAMPLES_DIR

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
ALICE = basic_header("alice", "alice-pw")
CAROL = basic_header("carol", "carol-pw")  # catalogue role: search only


def _products(api: TestClient, **params: str) -> dict[str, Any]:
    response = api.get("/odata/v1/Products", params=params, headers=ALICE)
    assert response.status_code == 200, response.text
    assert response.headers["OData-Version"] == "4.0"
    body: dict[str, Any] = response.json()
    return body


def test_requests_without_valid_credentials_get_401(api: TestClient) -> None:
    for headers in ({}, basic_header("alice", "wrong"), basic_header("nobody", "x")):
        response = api.get("/odata/v1/Products", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert response.json()["error"]["code"] == "Unauthorized"
    garbled = api.get("/odata/v1/Products", headers={"Authorization": "Basic !!notbase64"})
    assert garbled.status_code == 401


def test_list_products_as_the_interface_shows_them(api: TestClient) -> None:
    body = _products(api, **{"$count": "true", "$orderby": "PublicationDate asc"})
    assert body["@odata.context"] == "$metadata#Products"
    assert body["@odata.count"] == 3
    names = {p["Name"] for p in body["value"]}
    assert names == {s.name for s in SAMPLES}
    product = body["value"][0]
    for key in (
        "Id",
        "ContentType",
        "ContentLength",
        "OriginDate",
        "PublicationDate",
        "EvictionDate",
        "Checksum",
        "ContentDate",
        "Footprint",
        "ProductionType",
    ):
        assert key in product
    assert product["PublicationDate"].endswith("Z")
    assert product["Footprint"].startswith("geography'SRID=4326;")
    assert product["Checksum"][0]["Algorithm"] == "MD5"


def test_filter_paging_and_next_link(api: TestClient) -> None:
    granules = _products(api, **{"$filter": "startswith(Name,'S2B_OPER_MSI_L0__')"})
    assert len(granules["value"]) == 2
    page = _products(api, **{"$top": "2", "$orderby": "Name"})
    assert len(page["value"]) == 2
    assert "$skip=2" in page["@odata.nextLink"]
    rest = _products(api, **{"$top": "2", "$skip": "2", "$orderby": "Name"})
    assert len(rest["value"]) == 1 and "@odata.nextLink" not in rest
    assert rest["value"][0]["Name"] not in {p["Name"] for p in page["value"]}
    dated = _products(api, **{"$filter": "ContentDate/Start gt 2025-08-01T07:06:30.000Z"})
    assert [p["Name"] for p in dated["value"]] == [SAMPLES[2].name]
    expanded = _products(api, **{"$expand": "Attributes", "$top": "1"})
    assert expanded["@odata.context"] == "$metadata#Products(Attributes())"
    assert expanded["value"][0]["Attributes"][0]["@odata.type"].startswith("#OData.CSC.")


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "Name eq"},
        {"$filter": "Nope eq 'x'"},
        {"$top": "-1"},
        {"$top": "abc"},
        {"$top": "100000"},
        {"$orderby": "Name sideways"},
        {"$filter": "Name eq 'a' or"},
        {"$filter": "'; DROP TABLE products; --"},
    ],
)
def test_bad_queries_are_400_with_an_odata_error(api: TestClient, params: dict[str, str]) -> None:
    response = api.get("/odata/v1/Products", params=params, headers=ALICE)
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message"}
    assert _products(api, **{"$count": "true"})["@odata.count"] == 3  # nothing was dropped


def test_one_product_and_its_bytes(api: TestClient) -> None:
    listed = {p["Name"]: p for p in _products(api)["value"]}
    for sample in SAMPLES:
        product_id = listed[sample.name]["Id"]
        entity = api.get(f"/odata/v1/Products({product_id})", headers=ALICE)
        assert entity.status_code == 200
        assert entity.json()["@odata.context"] == "$metadata#Products/$entity"
        download = api.get(f"/odata/v1/Products({product_id})/$value", headers=ALICE)
        assert download.status_code == 200
        assert download.content == sample.read_bytes()
        assert download.headers["Content-Length"] == str(sample.stat().st_size)
        assert sample.name in download.headers["Content-Disposition"]


def test_range_requests(api: TestClient) -> None:
    product = _products(api, **{"$filter": f"Name eq '{SAMPLES[0].name}'"})["value"][0]
    url = f"/odata/v1/Products({product['Id']})/$value"
    data = SAMPLES[0].read_bytes()
    part = api.get(url, headers={**ALICE, "Range": "bytes=0-1023"})
    assert part.status_code == 206
    assert part.content == data[:1024]
    assert part.headers["Content-Range"] == f"bytes 0-1023/{len(data)}"
    tail = api.get(url, headers={**ALICE, "Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    quoted = api.get(
        f"/odata/v1/Products('{product['Id']}')/$value", headers={**ALICE, "Range": "bytes=10-19"}
    )
    assert quoted.content == data[10:20]
    beyond = api.get(url, headers={**ALICE, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"


def test_unknown_and_malformed_ids(api: TestClient) -> None:
    missing = api.get("/odata/v1/Products(00000000-0000-0000-0000-000000000000)", headers=ALICE)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ProductNotFound"
    malformed = api.get("/odata/v1/Products(not-a-guid)/$value", headers=ALICE)
    assert malformed.status_code == 400
    nowhere = api.get("/odata/v1/Nowhere", headers=ALICE)
    assert nowhere.status_code == 404 and "error" in nowhere.json()


def test_catalogue_role_may_search_but_not_download(api: TestClient) -> None:
    found = api.get("/odata/v1/Products", headers=CAROL)
    assert found.status_code == 200
    product_id = found.json()["value"][0]["Id"]
    refused = api.get(f"/odata/v1/Products({product_id})/$value", headers=CAROL)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Forbidden"


def test_service_document_and_metadata(api: TestClient) -> None:
    root = api.get("/odata/v1/", headers=ALICE).json()
    assert {"name": "Products", "kind": "EntitySet", "url": "Products"} in root["value"]
    xml = api.get("/odata/v1/$metadata", headers=ALICE)
    assert xml.headers["content-type"].startswith("application/xml")
    schema = ET.fromstring(xml.content)
    namespaces = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
    assert schema.find(".//edm:Schema[@Namespace='OData.CSC']", namespaces) is not None
    assert schema.find(".//edm:EntityType[@Name='Product']", namespaces) is not None
