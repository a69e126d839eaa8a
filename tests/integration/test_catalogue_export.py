"""Catalogue Export on both databases: every product, evicted ones too, gzip'd JSON Lines in
the store, full and incremental, listed and downloadable by admins only."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prip_ray.bootstrap import Components
from prip_ray.cli import app
from prip_ray.serve.app import basic_header
from tests.cheap_passwords import cheap_hash
from tests.samples import GRANULE


def lines(components: Components, key: str) -> list[dict[str, object]]:
    data = b"".join(components.store.read(key))
    return [json.loads(line) for line in gzip.decompress(data).splitlines()]


def test_full_export_holds_every_product_evicted_ones_too(
    api: TestClient, components: Components
) -> None:
    components.roller(now=lambda: datetime.now(UTC) + timedelta(days=8)).run_once()  # all evicted
    exporter = components.exporter()
    exporter._batch = 2  # several keyset batches
    record = exporter.export()
    exported = lines(components, record.key)
    # the three products, then their DeletedProducts entries (since those exist)
    assert record.count == len(exported) == 6 and record.kind == "full"
    assert {e["Online"] for e in exported} == {False}
    assert all(e["Attributes"] and e["Checksum"] for e in exported)
    assert [e["Name"] for e in exported[:3]] == [e["Name"] for e in exported[3:]]
    assert {e.get("DeletionCause") for e in exported} == {None, "Retention period expired"}


def test_incremental_export_takes_what_changed(api: TestClient, components: Components) -> None:
    since = datetime.now(UTC)
    assert components.exporter().export(since=since).count == 0
    components.roller(now=lambda: datetime.now(UTC) + timedelta(days=8)).run_once()
    changed = components.exporter().export(since=since)
    assert changed.kind == "incremental" and changed.count == 6  # 3 rows and their entries


def test_exports_are_listed_and_downloaded_by_admins_only(
    api: TestClient, components: Components
) -> None:
    components.users.add("root", cheap_hash("root-pw"), "admin")
    record = components.exporter().export()
    admin = basic_header("root", "root-pw")
    listed = api.get("/odata/v1/CatalogueExports", headers=admin).json()["value"]
    parquet = record.name.removesuffix(".jsonl.gz") + ".parquet"
    assert sorted(e["Name"] for e in listed) == sorted([record.name, parquet])
    assert {e["Kind"] for e in listed} == {"full"}
    got = api.get(f"/odata/v1/CatalogueExports('{record.name}')/$value", headers=admin)
    assert got.status_code == 200 and len(gzip.decompress(got.content).splitlines()) == 3
    assert (
        api.get("/odata/v1/CatalogueExports", headers=basic_header("alice", "alice-pw")).status_code
        == 403
    )
    sneaky = api.get("/odata/v1/CatalogueExports('..%2F..%2Fetc%2Fpasswd')/$value", headers=admin)
    assert sneaky.status_code in (400, 404)  # never the file


def test_cli_export(api: TestClient, components: Components) -> None:
    data_dir = str(components.settings.data_dir)
    db = components.settings.db_url
    result = CliRunner().invoke(
        app, ["catalogue", "export", "--data-dir", data_dir], env={"PRIP_DB__URL": db}
    )
    assert result.exit_code == 0, result.output
    assert "full export of 3 products" in result.output
    since = CliRunner().invoke(
        app, ["catalogue", "export", "--since", "yesterday", "--data-dir", data_dir]
    )
    assert since.exit_code != 0
    assert any(
        GRANULE in json.dumps(e) for e in lines(components, components.exporter().exports()[0].key)
    )


def test_parquet_beside_the_json_lines_holds_the_same_products(
    api: TestClient, components: Components
) -> None:
    import io

    import pyarrow.parquet as pq

    exporter = components.exporter()
    exporter._batch = 2  # several row groups
    record = exporter.export()
    parquet_key = record.key.removesuffix(".jsonl.gz") + ".parquet"
    table = pq.read_table(io.BytesIO(b"".join(components.store.read(parquet_key))))
    rows = table.to_pylist()
    exported = lines(components, record.key)
    assert len(rows) == len(exported) == 3
    by_id = {row["Id"]: row for row in rows}
    for line in exported:
        row = by_id[line["Id"]]
        assert (row["Name"], row["ContentLength"], row["Online"]) == (
            line["Name"], line["ContentLength"], line["Online"],
        )  # fmt: skip
        assert json.loads(row["Attributes"]) == line["Attributes"]
        assert json.loads(row["ContentDate"]) == line["ContentDate"]
    admin = "admin-pq"
    components.users.add(admin, cheap_hash("pw"), "admin")
    listed = api.get("/odata/v1/CatalogueExports", headers=basic_header(admin, "pw")).json()
    names = {e["Name"] for e in listed["value"]}
    parquet_name = next(n for n in names if n.endswith(".parquet"))
    got = api.get(
        f"/odata/v1/CatalogueExports({parquet_name})/$value", headers=basic_header(admin, "pw")
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.apache.parquet"
    assert got.content[:4] == b"PAR1"
