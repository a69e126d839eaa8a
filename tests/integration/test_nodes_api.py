"""A product's Nodes over the API, on SQLite with the local store and on PostgreSQL with S3:
the CDSE-shaped listing, the walk down its folders, and one file's download (a byte range of
a plain tar, an inflated stream of a gzip'd one, a ranged read of a zip member, inflated if
it is deflated) under the product's access rules, quotas
and download history, through the replica and through a download gateway ticket."""

from __future__ import annotations

import gzip
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.users import QuotaOverrides
from prip_ray.serve.app import create_app
from prip_ray.serve.gateway import create_gateway_app
from prip_ray.serve.security import basic_header
from prip_ray.serve.wiring import api_services
from prip_ray.synthetic import make_product
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.integration.test_stac_api import valid
from tests.samples import (
    DATASTRIP,
    GRANULE,
    TILE,
    sample,
    tile_with_preview,
    true_colour_image,
    zip_sample,
)

ALICE = basic_header("alice", "alice-pw")
CAROL = basic_header("carol", "carol-pw")


class RecordingStore:
    """The real store, noting the byte ranges asked of it."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.reads: list[tuple[int, int | None]] = []

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        self.reads.append((start, end))
        return self._store.read(key, start, end)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture(params=["sqlite-local", pytest.param("postgresql-s3", marks=pytest.mark.s3)])
def components(
    request: pytest.FixtureRequest, tmp_path: Path, built_components: BuildComponents
) -> Components:
    db_url, store = None, {}
    if request.param == "postgresql-s3":
        db_url = request.getfixturevalue("clean_pg").url.render_as_string(hide_password=False)
        s3 = request.getfixturevalue("s3_settings")
        store = {"kind": "s3", "s3": s3.model_dump()}
    settings = load_settings(
        data_dir=tmp_path / "prip", db={"url": db_url}, store=store, ingest={"settle_s": 0}
    )
    built = built_components(settings)
    built.migrate()
    built.users.add("alice", cheap_hash("alice-pw"), "download")
    built.users.add("carol", cheap_hash("carol-pw"), "catalogue")
    return built


def _publish(components: Components, package: Path) -> str:
    outcome = components.ingest.ingest(package, remove=False)
    assert outcome.status == "published", outcome.reason
    return str(outcome.product_id)


def _tar_members(package: Path) -> dict[str, bytes]:
    with tarfile.open(package) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]


def _relative(uri: str) -> str:
    return uri.removeprefix("http://testserver")


def test_nodes_list_walk_and_download_as_on_cdse(components: Components, tmp_path: Path) -> None:
    plain = tmp_path / f"{TILE}.tar"  # the real tile, as a plain tar
    plain.write_bytes(gzip.decompress(sample(TILE).read_bytes()))
    tile_id, granule_id = _publish(components, plain), _publish(components, sample(GRANULE))
    services = api_services(components)
    store = services.store = RecordingStore(services.store)  # type: ignore[assignment]
    files = _tar_members(plain)
    with TestClient(create_app(services)) as client:
        root = client.get(f"/odata/v1/Products({tile_id})/Nodes", headers=CAROL)
        assert root.status_code == 200, root.text
        [node] = root.json()["result"]
        uri = f"http://testserver/odata/v1/Products({tile_id})/Nodes({TILE})/Nodes"
        expected = {"Id": TILE, "Name": TILE, "ContentLength": 0, "ChildrenNumber": 7}
        assert node == {**expected, "Nodes": {"uri": uri}}

        inside = client.get(_relative(node["Nodes"]["uri"]), headers=CAROL).json()["result"]
        by_name = {n["Name"]: n for n in inside}
        assert by_name["MTD_TL.xml"]["ContentLength"] == len(files[f"{TILE}/MTD_TL.xml"])
        assert by_name["MTD_TL.xml"]["ChildrenNumber"] == 0
        empty = client.get(_relative(by_name["rep_info"]["Nodes"]["uri"]), headers=CAROL)
        assert empty.json() == {"result": []}  # stripped sample: an empty folder
        rep_info = f"/odata/v1/Products({granule_id})/Nodes({GRANULE})/Nodes(rep_info)/Nodes"
        schemas = client.get(rep_info, headers=CAROL).json()["result"]
        assert sorted(n["Name"] for n in schemas) == [
            "Inventory_Metadata.xsd", "OLQC_Report.xsd", "S2_PDI_Level-0_Granule_Metadata.xsd"
        ]  # fmt: skip
        one = client.get(f"/odata/v1/Products({tile_id})/Nodes('{TILE}')/Nodes(MTD_TL.xml)")
        assert one.status_code == 401  # every route asks who it is

        value = f"/odata/v1/Products({tile_id})/Nodes({TILE})/Nodes(MTD_TL.xml)/$value"
        assert client.get(value, headers=CAROL).status_code == 403  # catalogue: no download
        store.reads.clear()
        got = client.get(value, headers=ALICE)
        assert got.status_code == 200
        assert got.content == files[f"{TILE}/MTD_TL.xml"]
        [(start, end)] = store.reads  # one ranged read of just the member's bytes
        assert end is not None and end - start + 1 == len(got.content)
        part = client.get(value, headers={**ALICE, "Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.content == files[f"{TILE}/MTD_TL.xml"][10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(got.content)}"

        inventory = f"/odata/v1/Products({granule_id})/Nodes({GRANULE})/Nodes(manifest.safe)"
        gz = client.get(inventory + "/$value", headers=ALICE)  # the granule is gzip'd
        granule_files = _tar_members(sample(GRANULE))
        assert gz.content == granule_files[f"{GRANULE}/manifest.safe"]

        missing = client.get(f"/odata/v1/Products({tile_id})/Nodes({TILE})/Nodes(x)", headers=CAROL)
        assert missing.status_code == 404
        odd = client.get(f"/odata/v1/Products({tile_id})/Nodes{TILE}/Nodes", headers=CAROL)
        assert odd.status_code == 400
    records = components.downloads.recent("alice")
    assert sorted((r.product_name, r.status, r.bytes_sent) for r in records) == sorted(
        [
            (plain.name, "completed", len(files[f"{TILE}/MTD_TL.xml"])),
            (plain.name, "completed", 10),
            (sample(GRANULE).name, "completed", len(granule_files[f"{GRANULE}/manifest.safe"])),
        ]
    )


def test_a_zip_member_is_downloaded_from_its_own_bytes(
    components: Components, tmp_path: Path
) -> None:
    package = zip_sample(DATASTRIP, tmp_path / "zipped", stored=(".xsd",))
    product_id = _publish(components, package)
    services = api_services(components)
    store = services.store = RecordingStore(services.store)  # type: ignore[assignment]
    with zipfile.ZipFile(package) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        contents = {name: archive.read(name) for name in infos}
    root = f"/odata/v1/Products({product_id})/Nodes({DATASTRIP})"
    mtd = "S2B_OPER_MTD_L0__DS_2BPS_20250801T074015_S20250801T070620.xml"
    deflated, stored = f"{DATASTRIP}/{mtd}", f"{DATASTRIP}/rep_info/OLQC_Report.xsd"
    with TestClient(create_app(services)) as client:
        listed = client.get(f"{root}/Nodes", headers=CAROL).json()["result"]
        sizes = {n["Name"]: n["ContentLength"] for n in listed}
        assert sizes[mtd] == len(contents[deflated]) == 5784224
        for name, path in [(deflated, f"{root}/Nodes({mtd})"), (stored, f"{root}/Nodes(rep_info)/Nodes(OLQC_Report.xsd)")]:  # fmt: skip
            store.reads.clear()
            got = client.get(f"{path}/$value", headers=ALICE)
            assert got.status_code == 200, got.text
            assert got.content == contents[name]
            [(start, end)] = store.reads  # one ranged read of that member's stored bytes
            assert end is not None and end - start + 1 == infos[name].compress_size
            part = client.get(f"{path}/$value", headers={**ALICE, "Range": "bytes=1000-1999"})
            assert part.status_code == 206
            assert part.content == contents[name][1000:2000]
        assert client.get(f"{root}/Nodes({mtd})/$value", headers=CAROL).status_code == 403
    records = components.downloads.recent("alice")
    assert sorted(r.bytes_sent for r in records) == sorted(
        [len(contents[deflated]), len(contents[stored]), 1000, 1000]
    )
    assert {r.product_name for r in records} == {package.name}


def test_a_node_download_counts_against_the_volume_quota_and_goes_through_a_gateway(
    components: Components,
) -> None:
    product_id = _publish(components, sample(GRANULE))
    services = api_services(components)
    user = components.users.get("alice")
    assert user is not None
    node = f"{GRANULE}/manifest.safe"
    ticket = components.tokens.issue_ticket(user, product_id, node=node)
    with TestClient(create_gateway_app(services)) as gateway:
        got = gateway.get(f"/download/{ticket}")
        assert got.status_code == 200
        assert got.content.startswith(b"<?xml")
        components.users.set_quotas("alice", QuotaOverrides(volume_bytes=len(got.content) + 1))
        again = gateway.get(
            f"/download/{components.tokens.issue_ticket(user, product_id, node=node)}"
        )
        assert again.status_code == 429  # the first file used up the volume


def test_the_quicklook_is_an_asset_downloaded_under_the_products_rules(
    components: Components, tmp_path: Path
) -> None:
    preview = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(range(256)) * 8
    tile_id = _publish(components, tile_with_preview(tmp_path, preview))
    granule_id = _publish(components, sample(GRANULE))
    with TestClient(create_app(api_services(components))) as client:
        found = client.get(
            "/odata/v1/Products", params={"$expand": "Assets", "$select": "Name"}, headers=CAROL
        ).json()["value"]
        assets = {p["Id"]: p["Assets"] for p in found}
        assert assets[granule_id] == []  # no preview in it: an empty list, as before
        [quicklook] = assets[tile_id]
        link = f"http://testserver/odata/v1/Assets({quicklook['Id']})/$value"
        assert quicklook == {"Type": "QUICKLOOK", "Id": quicklook["Id"], "DownloadLink": link}
        one = client.get(f"/odata/v1/Products({tile_id})?$expand=Assets", headers=CAROL).json()
        assert one["Assets"] == [quicklook]

        assert client.get(_relative(link), headers=CAROL).status_code == 403
        got = client.get(_relative(link), headers=ALICE)
        assert got.status_code == 200
        assert (got.content, got.headers["content-type"]) == (preview, "image/jp2")
        unknown = client.get(f"/odata/v1/Assets({granule_id})/$value", headers=ALICE)
        assert unknown.status_code == 404
    [record] = components.downloads.recent("alice")
    assert (record.product_name, record.bytes_sent) == (f"{TILE}.tar", len(preview))


IMAGE = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(range(256)) * 40  # the TC product's jp2


def _assets(client: TestClient, product_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/odata/v1/Products({product_id})?$expand=Assets", headers=CAROL)
    assert found.status_code == 200, found.text
    return found.json()["Assets"]  # type: ignore[no-any-return]


def _thumbnail(client: TestClient, name: str) -> dict[str, Any] | None:
    item = client.get(f"/stac/collections/sentinel-2-tile/items/{name}", headers=CAROL)
    assert item.status_code == 200, item.text
    valid("item", item.json())  # STAC's item schema, the thumbnail asset with it
    return item.json()["assets"].get("thumbnail")  # type: ignore[no-any-return]


@pytest.mark.parametrize("tile_first", [True, False])
def test_a_tile_without_preview_shows_the_true_colour_product_of_its_sensing(
    components: Components, tmp_path: Path, tile_first: bool
) -> None:
    tc_path = true_colour_image(tmp_path / "tc", IMAGE)
    services = api_services(components)
    with TestClient(create_app(services)) as client:
        if tile_first:
            tile_id = _publish(components, sample(TILE))
            assert _assets(client, tile_id) == []  # no preview in the stripped tile, yet
            before = client.get(f"/odata/v1/Products({tile_id})", headers=CAROL).json()
        tc_id = _publish(components, tc_path)
        if not tile_first:
            tile_id = _publish(components, sample(TILE))
        [quicklook] = _assets(client, tile_id)
        link = f"http://testserver/odata/v1/Assets({quicklook['Id']})/$value"
        assert quicklook == {"Type": "QUICKLOOK", "Id": quicklook["Id"], "DownloadLink": link}
        [own] = _assets(client, tc_id)  # a TC product is its own quicklook
        assert own["Id"] != quicklook["Id"]
        if tile_first:  # a new version: caches and the export see the tile's new asset
            after = client.get(f"/odata/v1/Products({tile_id})", headers=CAROL).json()
            assert after["ModificationDate"] > before["ModificationDate"]
        listed = client.get(
            "/odata/v1/Products",
            params={"$filter": "contains(Name,'T47XMH')", "$expand": "Assets"},
            headers=CAROL,
        ).json()["value"]
        assert {p["Id"]: p["Assets"] for p in listed}[tile_id] == [quicklook]
        thumbnail = _thumbnail(client, f"{TILE}.tar")
        assert thumbnail is not None
        assert thumbnail["href"] == link and thumbnail["type"] == "image/jp2"

        assert client.get(_relative(link), headers=CAROL).status_code == 403
        got = client.get(_relative(link), headers=ALICE)
        assert got.status_code == 200, got.text
        assert (got.content, got.headers["content-type"]) == (IMAGE, "image/jp2")
        part = client.get(_relative(link), headers={**ALICE, "Range": "bytes=0-11"})
        assert (part.status_code, part.content) == (206, IMAGE[:12])
        services.settings = services.settings.model_copy(update={"gateway_url": "http://gw"})
        sent = client.get(_relative(link), headers=ALICE, follow_redirects=False)
        assert sent.status_code == 307  # the ticket names the tile and the TC product
    with TestClient(create_gateway_app(services)) as gateway:
        got = gateway.get(sent.headers["location"].removeprefix("http://gw"))
        assert (got.status_code, got.content) == (200, IMAGE)
    records = components.downloads.recent("alice")  # the tile's downloads, the image's size
    assert sorted((r.product_name, r.bytes_sent) for r in records) == [
        (f"{TILE}.tar", 12), (f"{TILE}.tar", len(IMAGE)), (f"{TILE}.tar", len(IMAGE))
    ]  # fmt: skip


def test_a_tile_with_its_own_preview_keeps_it(components: Components, tmp_path: Path) -> None:
    preview = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(range(256))
    own_id = _publish(components, tile_with_preview(tmp_path, preview))
    tc_id = _publish(components, true_colour_image(tmp_path / "tc", IMAGE))
    with TestClient(create_app(api_services(components))) as client:
        [kept] = _assets(client, own_id)
        assert client.get(_relative(kept["DownloadLink"]), headers=ALICE).content == preview
        thumbnail = _thumbnail(client, f"{TILE}.tar")
        assert thumbnail is not None and thumbnail["href"] == kept["DownloadLink"]
        [image] = _assets(client, tc_id)
        assert client.get(_relative(image["DownloadLink"]), headers=ALICE).content == IMAGE


def test_a_tile_and_its_true_colour_product_published_at_once_still_meet(
    components: Components,
) -> None:
    """Two shards, one publishing the tile and one its TC product, at the same instant."""
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    tiles = []
    for index in range(6):
        tile = make_product(inbox, "tile", index, 1000).path
        stem = tile.name.removesuffix(".tar")
        image = inbox / f"{stem.replace('_MSI_L2A_TL_', '_MSI_L2A_TC_')}.jp2"
        image.write_bytes(IMAGE)
        start = threading.Barrier(2)

        def ingest(path: Path, start: threading.Barrier = start) -> str:
            start.wait()
            return _publish(components, path)

        with ThreadPoolExecutor(2) as pool:
            tile_id, _ = pool.map(ingest, [tile, image])  # both published, or it raises
        tiles.append(tile_id)
    found = components.products.by_ids([UUID(t) for t in tiles], with_assets=True)
    assert [len(p.assets) for p in found] == [1] * 6
    assert all(p.assets[0].source is not None for p in found)
