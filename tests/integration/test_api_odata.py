"""The OData surface generic clients rely on: contexts, $expand/$select, FilterList,
$metadata in both forms, download headers, evicted products, presigned redirects."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, load_settings
from prip_ray.db.eviction import EvictionRepository
from prip_ray.db.tables import products
from prip_ray.domain.users import QuotaOverrides
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.samples import DATASTRIP, GRANULE, TILE, drop, sample

ALICE = basic_header("alice", "alice-pw")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def get(api: TestClient, path: str, **params: str) -> httpx.Response:
    return api.get(f"/odata/v1/{path}", params=params, headers=ALICE)


def one(api: TestClient, name: str) -> dict[str, Any]:
    found = get(api, "Products", **{"$filter": f"Name eq '{name}.tar'"}).json()["value"]
    assert len(found) == 1
    return found[0]


def test_contexts_for_select_and_expand(api: TestClient) -> None:
    body = get(
        api, "Products", **{"$select": "Id,Name", "$expand": "Attributes,Quicklooks,Assets"}
    ).json()
    assert (
        body["@odata.context"] == "$metadata#Products(Id,Name,Assets(),Attributes(),Quicklooks())"
    )
    item = body["value"][0]
    assert set(item) == {
        "@odata.mediaContentType",
        "Id",
        "Name",
        "Attributes",
        "Quicklooks",
        "Assets",
    }
    assert item["Quicklooks"] == [] and item["Assets"] == [] and item["Attributes"]


def test_single_entity_with_expand_select_and_bad_options(api: TestClient) -> None:
    product_id = one(api, TILE)["Id"]
    body = get(api, f"Products({product_id})", **{"$expand": "Attributes"}).json()
    assert body["@odata.context"] == "$metadata#Products(Attributes())/$entity"
    assert {a["Name"] for a in body["Attributes"]} >= {"tileId", "productType"}
    slim = get(api, f"Products({product_id})", **{"$select": "Name"}).json()
    assert (
        slim["@odata.context"] == "$metadata#Products(Name)/$entity" and "ContentLength" not in slim
    )
    bad = get(api, f"Products({product_id})", **{"$top": "1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidQuery"
    missing = get(api, "Products(00000000-0000-0000-0000-000000000000)")
    assert missing.status_code == 404 and "error" in missing.json()
    assert get(api, "Products(not-a-guid)").status_code == 400


def test_filter_list_returns_the_named_products_in_order(api: TestClient) -> None:
    names = [f"{TILE}.tar", "S2B_UNKNOWN.tar", f"{GRANULE}.tar"]
    response = api.post(
        "/odata/v1/Products/OData.CSC.FilterList",
        json={"FilterProducts": [{"Name": n} for n in names]},
        headers=ALICE,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"] == "$metadata#Products"
    assert [p["Name"] for p in body["value"]] == [names[0], names[2]]
    for broken in ({"FilterProducts": "x"}, {"Names": []}, {"FilterProducts": [{"Name": 5}]}):
        answer = api.post("/odata/v1/Products/OData.CSC.FilterList", json=broken, headers=ALICE)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidQuery"
    not_json = api.post("/odata/v1/Products/OData.CSC.FilterList", content=b"{", headers=ALICE)
    assert not_json.status_code == 400


def test_metadata_declares_every_type_in_xml_and_json(api: TestClient) -> None:
    xml = get(api, "$metadata")
    assert xml.headers["content-type"].startswith("application/xml")
    schema = ET.fromstring(xml.content).find(f".//{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == "OData.CSC"
    declared = {e.get("Name") for e in schema}
    assert declared >= {
        "Product",
        "Attribute",
        "StringAttribute",
        "IntegerAttribute",
        "DoubleAttribute",
        "BooleanAttribute",
        "DateTimeOffsetAttribute",
        "Checksum",
        "TimeRange",
        "Subscription",
        "ProductionType",
        "FilterList",
        "Intersects",
        "Container",
    }
    product = schema.find(f"{EDM}EntityType[@Name='Product']")
    assert product is not None and product.get("HasStream") == "true"
    served = set(one(api, TILE)) - {"@odata.mediaContentType"}
    assert served <= {p.get("Name") for p in product.findall(f"{EDM}Property")}
    document = json.loads(get(api, "$metadata", **{"$format": "json"}).content)
    assert document["$EntityContainer"] == "OData.CSC.Container"
    assert document["OData.CSC"]["Product"]["$Key"] == ["Id"]
    assert get(api, "$metadata", **{"$format": "atom"}).status_code == 400


def test_download_headers_carry_name_and_checksum(api: TestClient) -> None:
    product = one(api, DATASTRIP)
    response = get(api, f"Products({product['Id']})/$value")
    data = sample(DATASTRIP).read_bytes()
    assert response.content == data
    md5 = hashlib.md5(data).digest()
    assert response.headers["Digest"] == "md5=" + base64.b64encode(md5).decode()
    assert response.headers["ETag"] == f'"{md5.hex()}"'
    assert f'filename="{DATASTRIP}.tar"' in response.headers["Content-Disposition"]
    assert response.headers["Content-Length"] == str(len(data))


def test_evicted_product_stays_in_the_catalogue_but_has_no_bytes(
    api: TestClient, components: Components
) -> None:
    with components.engine.begin() as conn:
        conn.execute(
            update(products).where(products.c.name == f"{GRANULE}.tar").values(online=False)
        )
    product = one(api, GRANULE)
    assert product["Online"] is False
    gone = get(api, f"Products({product['Id']})/$value")
    assert gone.status_code == 404 and "evicted" in gone.json()["error"]["message"]
    offline = get(api, "Products", **{"$filter": "Online eq false"}).json()["value"]
    assert [p["Name"] for p in offline] == [f"{GRANULE}.tar"]


def test_a_product_evicted_after_it_was_served_is_never_served_stale(
    api: TestClient, components: Components
) -> None:
    """The replica keeps encoded products (odata/entity_cache.py) by version: eviction
    makes a new one, so every form of a search shows the product offline at once."""
    forms = [{}, {"$select": "Name,Online"}, {"$expand": "Attributes"}]
    name = {"$filter": f"Name eq '{GRANULE}.tar'"}
    before = [get(api, "Products", **name, **form).json()["value"][0] for form in forms]
    assert all(p["Online"] is True for p in before)
    evicted_at = datetime(2030, 1, 1, tzinfo=UTC)
    assert EvictionRepository(components.engine).mark_evicted(UUID(before[0]["Id"]), evicted_at)
    after = [get(api, "Products", **name, **form).json()["value"][0] for form in forms]
    assert all(p["Online"] is False for p in after)
    assert after[0]["ModificationDate"] == "2030-01-01T00:00:00.000Z"
    listed = api.post(
        "/odata/v1/Products/OData.CSC.FilterList",
        json={"FilterProducts": [{"Name": f"{GRANULE}.tar"}]},
        headers=ALICE,
    ).json()["value"]
    assert listed == [after[0]]


@pytest.mark.s3
def test_s3_downloads_can_redirect_to_a_presigned_url(
    tmp_path: Path, s3_settings: S3Settings, built_components: BuildComponents
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        store={"kind": "s3", "s3": s3_settings.model_dump()},
        api={"download_redirect": True, "redirect_ttl_s": 60},
        ingest={"settle_s": 0},
    )
    components = built_components(settings)
    components.migrate()
    components.users.add("alice", cheap_hash("alice-pw"), "download")
    components.users.set_quotas("alice", QuotaOverrides(max_parallel=1))
    assert components.ingest.ingest(drop(sample(TILE), settings.inbox)).status == "published"
    app = create_app(api_services(components))
    with TestClient(app) as api:
        product = one(api, TILE)
        url = f"/odata/v1/Products({product['Id']})/$value"
        redirect = api.get(url, headers=ALICE, follow_redirects=False)
        # The URL is a download the client may start until it expires: it holds the slot.
        assert api.get(url, headers=ALICE, follow_redirects=False).status_code == 429
    assert redirect.status_code == 307
    alice = components.users.get("alice")
    assert alice is not None
    limits = components.quotas.limits_for(alice)
    expired = datetime.now(UTC) + timedelta(seconds=61)
    usage = components.downloads.usage("alice", limits, expired)
    assert (usage.active_downloads, usage.window_bytes) == (0, product["ContentLength"])
    location = redirect.headers["location"]
    assert location.startswith(s3_settings.endpoint_url or "") and "Expires=" in location
    fetched = httpx.get(location)
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == sample(TILE).read_bytes()  # no credentials needed
