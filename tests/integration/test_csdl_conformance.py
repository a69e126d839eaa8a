"""Every JSON answer of the main routes holds to the CSDL that ``$metadata`` declares: each
property of each entity is declared for its type (or a base type), with a value of that
type, and each enum value is a declared member. Then CDSE's usual first query runs end to
end. One catalogue for the module, on SQLite: the CSDL does not depend on the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.samples import drop, publish_samples

ROOT = basic_header("root", "root-pw")
NAMESPACE = "OData.CSC."
BROKEN = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMX_N05.11.tar"
SUBSCRIPTION = {
    "FilterParam": "Collection/Name eq 'SENTINEL-2'",
    "NotificationEndpoint": "https://93.184.215.14/notify",  # public, and no DNS needed
}
# Python values a JSON answer may hold for each primitive type (None where Nullable).
PRIMITIVES: dict[str, Any] = {
    "Edm.String": str,
    "Edm.Int64": int,
    "Edm.Double": (int, float),
    "Edm.Boolean": bool,
    "Edm.DateTimeOffset": str,
    "Edm.Guid": str,
    "Edm.Geography": str,
    "Edm.Untyped": object,
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Components]:
    root = tmp_path_factory.mktemp("csdl")
    settings = load_settings(data_dir=root / "prip", ingest={"settle_s": 0})
    built = Components(settings)
    built.migrate()
    publish_samples(built)
    (root / BROKEN).write_bytes(b"not a tar")
    assert built.ingest.ingest(drop(root / BROKEN, settings.inbox)).status == "rejected"
    built.users.add("root", cheap_hash("root-pw"), "admin")
    built.exporter().export()
    yield built
    built.close()


@pytest.fixture(scope="module")
def api(catalogue: Components) -> Iterator[TestClient]:
    with TestClient(create_app(api_services(catalogue))) as client:
        yield client


def get(api: TestClient, path: str, **params: str) -> Any:
    answer = api.get(f"/odata/v1/{path}", params=params, headers=ROOT)
    assert answer.status_code == 200, answer.text
    return answer.json()


class Schema:
    """The CSDL JSON of ``$metadata``, asked what a type declares."""

    def __init__(self, document: dict[str, Any]):
        self.types = {k: v for k, v in document["OData.CSC"].items() if isinstance(v, dict)}

    def properties(self, type_name: str) -> dict[str, dict[str, Any]]:
        spec = self.types[type_name.removeprefix(NAMESPACE)]
        own = {k: v for k, v in spec.items() if not k.startswith("$")}
        base = spec.get("$BaseType")
        return {**(self.properties(base) if base else {}), **own}

    def check(self, type_name: str, entity: dict[str, Any], where: str) -> int:
        """Checks ``entity`` against ``type_name``; returns how many values it checked."""
        declared = self.properties(type_name)
        checked = 0
        for name, value in entity.items():
            if name.startswith("@"):
                assert name.startswith("@odata."), f"{where}: annotation {name}"
                continue
            assert name in declared, f"{where}: {name} is not declared for {type_name}"
            checked += self.check_value(declared[name], value, f"{where}/{name}")
        return checked

    def check_value(self, facets: dict[str, Any], value: Any, where: str) -> int:
        type_name = facets.get("$Type", "Edm.String")
        if value is None:
            assert facets.get("$Nullable", True), f"{where} is null but not Nullable"
            return 1
        if facets.get("$Collection"):
            assert isinstance(value, list), f"{where} should be a collection"
            items = [self.check_value({"$Type": type_name}, v, f"{where}[]") for v in value]
            return 1 + sum(items)
        if type_name in PRIMITIVES:
            assert isinstance(value, PRIMITIVES[type_name]), f"{where}: {value!r}"
            assert type_name != "Edm.Int64" or not isinstance(value, bool), where
            if type_name == "Edm.DateTimeOffset":
                assert datetime.fromisoformat(value).tzinfo is not None, where
            if type_name == "Edm.Guid":
                UUID(value)
            return 1
        spec = self.types[type_name.removeprefix(NAMESPACE)]
        if spec["$Kind"] == "EnumType":
            members = [k for k in spec if not k.startswith("$")]
            assert value in members, f"{where}: {value!r} is not one of {members}"
            return 1
        if spec["$Kind"] == "NavigationProperty":
            raise AssertionError(f"{where}: navigation typed as a property")
        assert isinstance(value, dict), f"{where} should be an object"
        actual = value.get("@odata.type", "#" + type_name).removeprefix("#")
        return self.check(actual, value, where)

    def check_navigation(self, type_name: str, entity: dict[str, Any], name: str) -> int:
        target = self.properties(type_name)[name]
        assert target["$Kind"] == "NavigationProperty"
        item = target["$Type"]
        return sum(self.check_value({"$Type": item}, v, f"{name}[]") for v in entity[name])


def test_every_answer_holds_to_the_declared_model(api: TestClient, catalogue: Components) -> None:
    schema = Schema(get(api, "$metadata", **{"$format": "json"}))
    created = api.post("/odata/v1/Subscriptions", json=SUBSCRIPTION, headers=ROOT)
    assert created.status_code == 201, created.text
    gone = api.post("/odata/v1/Subscriptions", json=SUBSCRIPTION, headers=ROOT).json()
    catalogue.subscriptions.failing(UUID(gone["Id"]), datetime.now(UTC), "HTTP 500", True)
    products = get(api, "Products", **{"$expand": "Attributes", "$count": "true"})["value"]
    withdrawn = products[0]["Id"]
    answer = api.post(
        f"/odata/v1/Products({withdrawn})/OData.CSC.Withdraw",
        json={"DeletionCause": "test"},
        headers=ROOT,
    )
    assert answer.status_code == 200, answer.text

    checked = 0
    listings = {
        "Products": ("Product", get(api, "Products", **{"$expand": "Attributes"})),
        "DeletedProducts": ("DeletedProduct", get(api, "DeletedProducts")),
        "Subscriptions": ("Subscription", get(api, "Subscriptions")),
        "Quarantine": ("QuarantineEntry", get(api, "Quarantine")),
        "Quotas": ("Quota", get(api, "Quotas")),
        "CatalogueExports": ("CatalogueExport", get(api, "CatalogueExports")),
    }
    for entity_set, (type_name, body) in listings.items():
        assert body["value"], f"{entity_set} is empty: nothing was checked"
        for entity in body["value"]:
            checked += schema.check(type_name, _without(entity, "Attributes"), entity_set)
            if "Attributes" in entity:
                checked += schema.check_navigation(type_name, entity, "Attributes")
    one = get(api, f"Products({products[1]['Id']})", **{"$expand": "Attributes"})
    checked += schema.check("Product", _without(one, "Attributes"), "Products(Id)")
    checked += schema.check_navigation("Product", one, "Attributes")
    checked += schema.check("DeletedProduct", get(api, f"DeletedProducts({withdrawn})"), "one")
    checked += schema.check("Subscription", get(api, f"Subscriptions({gone['Id']})"), "one")
    statuses = {s["Status"] for s in listings["Subscriptions"][1]["value"]}
    assert statuses == {"running", "failed"}
    assert checked > 100


def test_cdse_first_query_finds_the_sentinel2_products_over_an_area(api: TestClient) -> None:
    everything = get(api, "Products", **{"$count": "true"})["@odata.count"]
    # The footprints of the samples lie at 88-101°E, 73-79°N (tile T47XMH and its granule).
    area = "POLYGON ((95 75, 100 75, 100 78, 95 78, 95 75))"
    cdse = (
        "Collection/Name eq 'SENTINEL-2' and "
        f"OData.CSC.Intersects(area=geography'SRID=4326;{area}') and "
        "ContentDate/Start gt 2025-07-31T00:00:00.000Z"
    )
    found = get(api, "Products", **{"$filter": cdse, "$count": "true"})
    assert 0 < found["@odata.count"] <= everything
    assert all(p["Name"].startswith("S2") for p in found["value"])
    elsewhere = "OData.CSC.Intersects(area=geography'SRID=4326;POINT (12.4 41.9)')"
    assert get(api, "Products", **{"$filter": elsewhere})["value"] == []
    sentinel1 = get(api, "Products", **{"$filter": "Collection/Name eq 'SENTINEL-1'"})
    assert sentinel1["value"] == []
    unknown = "Collection/Name in ('LANDSAT-8','SENTINEL-2')"
    assert len(get(api, "Products", **{"$filter": unknown})["value"]) == everything
    refused = api.get(
        "/odata/v1/Products",
        params={"$filter": "contains(Collection/Name,'2')"},
        headers=ROOT,
    )
    assert refused.status_code == 400 and "Collection/Name" in refused.json()["error"]["message"]


def _without(entity: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k != name}
