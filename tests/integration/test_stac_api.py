"""The STAC API over the sample catalogue: its documents validate against STAC's JSON
schemas (the core schemas pystac ships, offline), pystac-client searches and pages through
it unchanged over a real socket, and it answers what OData answers for the same search.
One catalogue for the module, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from pystac.validation.local_validator import get_local_schema_cache
from pystac_client import Client
from referencing import Registry, Resource
from sqlalchemy import text

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.db.tables import metadata
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from tests.cheap_passwords import cheap_hash
from tests.loopback import served
from tests.samples import SAMPLES_DIR, TILE, publish_samples

ALICE = basic_header("alice", "alice-pw")
SCHEMAS = get_local_schema_cache()
REGISTRY: Registry[Any] = Registry().with_resources(
    [(uri, Resource.from_contents(schema)) for uri, schema in SCHEMAS.items()]
)


def validator(kind: str) -> Draft7Validator:
    uri = f"https://schemas.stacspec.org/v1.1.0/{kind}-spec/json-schema/{kind}.json"
    return Draft7Validator(SCHEMAS[uri], registry=REGISTRY)


def valid(kind: str, document: dict[str, Any]) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator(kind).iter_errors(document)
    ]
    assert not errors, errors


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalogue(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Components]:
    db_url = None
    if request.param == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        names = ", ".join(t.name for t in metadata.sorted_tables)
        with engine.begin() as conn:  # clean_pg's emptying, once for the module
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        db_url = engine.url.render_as_string(hide_password=False)
    root = tmp_path_factory.mktemp("stac")
    settings = load_settings(data_dir=root / "prip", db={"url": db_url}, ingest={"settle_s": 0})
    built = Components(settings)
    built.migrate()
    publish_samples(built)
    built.users.add("alice", cheap_hash("alice-pw"), "download")
    yield built
    built.close()


@pytest.fixture(scope="module")
def api(catalogue: Components) -> Iterator[TestClient]:
    with TestClient(create_app(api_services(catalogue))) as client:
        yield client


def get(api: TestClient, path: str, **params: Any) -> Any:
    answer = api.get(path, params=params, headers=ALICE)
    assert answer.status_code == 200, answer.text
    return answer.json()


def odata_names(api: TestClient, odata_filter: str | None = None) -> set[str]:
    params = {"$top": "1000", **({"$filter": odata_filter} if odata_filter else {})}
    return {p["Name"] for p in get(api, "/odata/v1/Products", **params)["value"]}


def test_documents_validate_and_link_to_each_other(api: TestClient) -> None:
    landing = get(api, "/stac/")
    valid("catalog", landing)
    assert "https://api.stacspec.org/v1.0.0/item-search" in landing["conformsTo"]
    assert get(api, "/stac/conformance")["conformsTo"] == landing["conformsTo"]
    collections = get(api, "/stac/collections")["collections"]
    for collection in collections:
        valid("collection", collection)
    ids = [c["id"] for c in collections]
    assert {"sentinel-2-granule", "sentinel-2-datastrip", "sentinel-2-tile"} <= set(ids)
    assert get(api, "/stac/collections/sentinel-2-tile")["id"] == "sentinel-2-tile"

    tiles = get(api, "/stac/collections/sentinel-2-tile/items")
    assert tiles["type"] == "FeatureCollection"
    (tile,) = tiles["features"]
    valid("item", tile)
    assert tile["id"] == f"{TILE}.tar" and tile["collection"] == "sentinel-2-tile"
    properties = tile["properties"]
    assert properties["platform"] == "sentinel-2b" and properties["instruments"] == ["msi"]
    assert properties["processing:level"] == "L2A"
    assert properties["sat:absolute_orbit"] == 43890
    assert properties["start_datetime"] <= properties["end_datetime"]
    self_link = next(link["href"] for link in tile["links"] if link["rel"] == "self")
    assert api.get(self_link, headers=ALICE).json() == tile
    metadata = api.get(tile["assets"]["metadata"]["href"], headers=ALICE).json()
    assert metadata["Name"] == tile["id"] and metadata["Attributes"]
    data = api.get(tile["assets"]["product"]["href"], headers=ALICE)
    assert data.status_code == 200 and data.content == (SAMPLES_DIR / f"{TILE}.tar").read_bytes()

    for item in get(api, "/stac/search", limit=100)["features"]:
        valid("item", item)
    assert api.get("/stac/collections/sentinel-2-tile/items/nope", headers=ALICE).status_code == 404
    assert api.get("/stac/collections/landsat/items", headers=ALICE).status_code == 404
    assert api.get("/stac/search").status_code == 401


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pystac_client_searches_and_pages_as_odata_answers(
    api: TestClient, catalogue: Components, method: str
) -> None:
    everything = get(api, "/stac/search", limit=100)["features"]
    west, south, east, north = everything[0]["bbox"]
    lon, lat = (west + east) / 2, (south + north) / 2
    bbox = [lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5]
    area = (
        f"POLYGON(({bbox[0]} {bbox[1]},{bbox[2]} {bbox[1]},{bbox[2]} {bbox[3]},"
        f"{bbox[0]} {bbox[3]},{bbox[0]} {bbox[1]}))"
    )
    expected = odata_names(
        api,
        f"OData.CSC.Intersects(area=geography'SRID=4326;{area}') and "
        "ContentDate/Start le 2025-08-02T00:00:00Z and ContentDate/End ge 2025-07-31T00:00:00Z",
    )
    assert expected, "the test area should hold products"
    with served(create_app(api_services(catalogue))) as url:
        client = Client.open(f"{url}/stac", headers=ALICE)
        search = client.search(
            method=method,
            bbox=bbox,
            datetime="2025-07-31T00:00:00Z/2025-08-02T00:00:00Z",
            collections=["sentinel-2-granule", "sentinel-2-datastrip", "sentinel-2-tile"],
            limit=1,
        )
        pages = list(search.pages())
        found = [item.id for page in pages for item in page.items]
        assert len(pages) == len(expected) and len(found) == len(set(found))
        assert set(found) == expected
        by_id = list(client.search(method=method, ids=[f"{TILE}.tar"]).items())
        assert [item.id for item in by_id] == [f"{TILE}.tar"]
        assert by_id[0].assets["product"].roles == ["data"]
        elsewhere = client.search(method=method, bbox=[-10, -10, -9, -9], limit=5)
        assert list(elsewhere.items()) == []


def test_search_parameters_are_checked(api: TestClient) -> None:
    total = len(odata_names(api))
    cases = {
        "bbox=1,2,3": 400,
        "bbox=10,50,5,40": 400,  # south above north
        "datetime=yesterday": 400,
        "datetime=2025-08-02T00:00:00Z/2025-08-01T00:00:00Z": 400,
        "limit=0": 400,
        "limit=100000": 400,
        "token=page-2": 400,
        "token=next:999999": 400,
        "intersects={bad": 400,
        "bbox=0,0,1,1&intersects=%7B%22type%22%3A%22Point%22%2C%22coordinates%22%3A%5B0%2C0%5D%7D": 400,
    }
    for query, status in cases.items():
        answer = api.get(f"/stac/search?{query}", headers=ALICE)
        assert answer.status_code == status, (query, answer.text)
    posted = api.post("/stac/search", json={"bbox": "x"}, headers=ALICE)
    assert posted.status_code == 400
    assert api.post("/stac/search", json={"filter": {}}, headers=ALICE).status_code == 400
    open_ended = get(api, "/stac/search", datetime="2025-01-01T00:00:00Z/..", limit=100)
    assert len(open_ended["features"]) == total
    before = get(api, "/stac/search", datetime="../2020-01-01T00:00:00Z")
    assert before["features"] == []
    unknown = get(api, "/stac/search", collections="landsat-8")
    assert unknown["features"] == []
    west, south, east, north = get(api, "/stac/search")["features"][0]["bbox"]
    point = {"type": "Point", "coordinates": [(west + east) / 2, (south + north) / 2]}
    hit = api.post("/stac/search", json={"intersects": point}, headers=ALICE).json()
    assert hit["features"]
