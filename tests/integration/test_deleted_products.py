"""DeletedProducts (CDSE's entity set): evicted products appear there with when and why, and
are searched with the same options as Products (one filter translator, moved onto the
deleted tables), on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.domain.products import RETENTION_EXPIRED, STORAGE_WATERMARK
from prip_ray.serve.app import basic_header
from tests.samples import DATASTRIP, GRANULE, TILE

ALICE = basic_header("alice", "alice-pw")
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
LATER = datetime.now(UTC) + timedelta(days=8)  # past the 7-day retention of every sample
NAMES = sorted(f"{s}.tar" for s in (GRANULE, DATASTRIP, TILE))


def get(api: TestClient, path: str, **params: str) -> httpx.Response:
    return api.get(f"/odata/v1/{path}", params=params, headers=ALICE)


def deleted(api: TestClient, **params: str) -> dict[str, Any]:
    response = get(api, "DeletedProducts", **params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_evicted_products_are_deleted_products_with_date_and_cause(
    api: TestClient, components: Components
) -> None:
    assert deleted(api)["value"] == []
    components.roller(now=lambda: LATER).run_once()
    body = deleted(api, **{"$count": "true", "$orderby": "Name"})
    assert body["@odata.context"] == "$metadata#DeletedProducts" and body["@odata.count"] == 3
    assert [e["Name"] for e in body["value"]] == NAMES
    entry = body["value"][0]
    assert entry["DeletionCause"] == RETENTION_EXPIRED and entry["Online"] is False
    assert entry["DeletionDate"].startswith(LATER.strftime("%Y-%m-%dT%H:%M"))
    product = get(api, f"Products({entry['Id']})").json()
    assert {k: v for k, v in entry.items() if k in product and k != "@odata.context"} == {
        k: v for k, v in product.items() if k != "@odata.context"
    }  # the product as it was, taken offline
    one = get(api, f"DeletedProducts({entry['Id']})", **{"$expand": "Attributes"}).json()
    assert one["@odata.context"] == "$metadata#DeletedProducts(Attributes())/$entity"
    assert one["Name"] == entry["Name"] and one["DeletionCause"] == RETENTION_EXPIRED
    assert any(a["Name"] == "productType" for a in one["Attributes"])
    unknown = get(api, "DeletedProducts(00000000-0000-0000-0000-000000000000)")
    assert unknown.status_code == 404


def test_deleted_products_take_the_products_query_options(
    api: TestClient, components: Components
) -> None:
    components.roller(now=lambda: LATER).run_once()
    page = deleted(api, **{"$top": "2", "$orderby": "Name desc", "$count": "true"})
    assert [e["Name"] for e in page["value"]] == NAMES[::-1][:2] and page["@odata.count"] == 3
    rest = api.get(page["@odata.nextLink"], headers=ALICE).json()
    assert [e["Name"] for e in rest["value"]] == NAMES[:1]
    by_cause = deleted(api, **{"$filter": f"DeletionCause eq '{RETENTION_EXPIRED}'"})
    assert len(by_cause["value"]) == 3
    since = (LATER - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = deleted(api, **{"$filter": f"DeletionDate gt {since} and contains(Name,'_TL_')"})
    assert [e["Name"] for e in recent["value"]] == [f"{TILE}.tar"]
    assert deleted(api, **{"$filter": f"DeletionDate lt {since}"})["value"] == []
    tiles = deleted(
        api,
        **{
            "$filter": "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' "
            "and att/OData.CSC.StringAttribute/Value eq 'MSI_L2A_TL')",
            "$select": "Name,DeletionCause",
        },
    )["value"]
    assert tiles == [
        {
            "@odata.mediaContentType": "application/octet-stream",
            "Id": tiles[0]["Id"],
            "Name": f"{TILE}.tar",
            "DeletionCause": RETENTION_EXPIRED,
        }
    ]
    ordered = deleted(api, **{"$orderby": "DeletionDate desc,Name"})["value"]
    assert [e["Name"] for e in ordered] == NAMES  # one round: one DeletionDate
    refused = get(api, "Products", **{"$filter": "DeletionCause eq 'x'"})
    assert refused.status_code == 400  # only DeletedProducts has it


def test_deleted_products_by_area(api: TestClient, components: Components) -> None:
    components.roller(now=lambda: LATER).run_once()
    found = [e for e in deleted(api)["value"] if e["GeoFootprint"]]
    assert found
    lons, lats = zip(*_points(found[0]["GeoFootprint"]), strict=True)
    box = (min(lons) - 0.1, min(lats) - 0.1, max(lons) + 0.1, max(lats) + 0.1)
    near = _area(*box)
    hits = deleted(api, **{"$filter": f"{near} and Online eq false", "$count": "true"})
    assert found[0]["Name"] in [e["Name"] for e in hits["value"]]
    assert hits["@odata.count"] == len(hits["value"])
    far = _area(-10.0, -40.0, 10.0, -30.0)  # the samples lie in the Arctic
    assert deleted(api, **{"$filter": far})["value"] == []
    others = deleted(api, **{"$filter": f"not {near}"})["value"]
    assert {e["Name"] for e in others} == set(NAMES) - {e["Name"] for e in hits["value"]}
    mixed = get(api, "DeletedProducts", **{"$filter": f"{near} or ContentLength eq 1"})
    assert mixed.status_code == 400  # an area under or: SQL cannot give the superset


def test_watermark_evictions_say_so(api: TestClient, components: Components) -> None:
    components.settings.roller.watermark_gb = 1 / 1000**3  # one byte: everything goes
    components.roller().run_once()
    causes = {e["DeletionCause"] for e in deleted(api)["value"]}
    assert causes == {STORAGE_WATERMARK}


def test_metadata_and_service_document_declare_deleted_products(api: TestClient) -> None:
    schema = ET.fromstring(get(api, "$metadata").content).find(f".//{EDM}Schema")
    assert schema is not None
    entity = schema.find(f"{EDM}EntityType[@Name='DeletedProduct']")
    assert entity is not None and entity.get("BaseType") == "OData.CSC.Product"
    assert {p.get("Name") for p in entity.findall(f"{EDM}Property")} == {
        "DeletionDate",
        "DeletionCause",
    }
    sets = schema.find(f".//{EDM}EntitySet[@Name='DeletedProducts']")
    assert sets is not None and sets.get("EntityType") == "OData.CSC.DeletedProduct"
    names = [s["name"] for s in api.get("/odata/v1/", headers=ALICE).json()["value"]]
    assert "DeletedProducts" in names


def _points(geojson: dict[str, Any]) -> list[tuple[float, float]]:
    coordinates = geojson["coordinates"]
    while isinstance(coordinates[0][0], list):
        coordinates = [p for ring in coordinates for p in ring]
    return [(p[0], p[1]) for p in coordinates]


def _area(west: float, south: float, east: float, north: float) -> str:
    ring = f"{west} {south},{east} {south},{east} {north},{west} {north},{west} {south}"
    return f"OData.CSC.Intersects(area=geography'SRID=4326;POLYGON(({ring}))')"
