"""Nodes listings on a large catalogue, on PostgreSQL.

Loads N synthetic products once into a benchmark database, each with the member list of an
L0 granule (its PDI folder, metadata files, 13 band files, QI_DATA; ``--members`` in all),
then asks the OData app (in this process, over ASGI: no Ray, no sockets) for the root
listing of random products and for the listing of their IMG_DATA folder, and prints
p50/p99 in ms of each, with the part spent reading the row and building the tree:

    .venv/bin/python -m benchmarks.nodes --products 1000000            # loads once
    .venv/bin/python -m benchmarks.nodes --products 1000000 --skip-load
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.catalogue_rows import PRODUCT_COLUMNS, product_name, rows
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.db.migrate import upgrade
from prip_ray.db.session import create_db_engine
from prip_ray.db.tables import product_nodes
from prip_ray.domain.nodes import NodeTree
from prip_ray.domain.passwords import hash_password
from prip_ray.domain.users import QuotaOverrides
from prip_ray.serve.app import create_app
from prip_ray.serve.security import basic_header
from prip_ray.serve.wiring import api_services

BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]


def members(index: int, count: int) -> list[list[object]]:
    """The [path, size, offset, folder] list of a granule, ``count`` entries long."""
    root = product_name(index).removesuffix(".tar")
    stem = root.replace("_MSI_", "_MTD_")
    listed: list[list[object]] = [[root, 0, None, True]]
    names = ["Inventory_Metadata.xml", "manifest.safe", f"{stem}.xml"]
    names += ["rep_info", "rep_info/Inventory_Metadata.xsd", "rep_info/OLQC_Report.xsd"]
    names += ["IMG_DATA"] + [f"IMG_DATA/{stem}_{band}.bin" for band in BANDS]
    names += ["QI_DATA"] + [f"QI_DATA/{stem}_Q{i:03}.xml" for i in range(count)]
    offset = 512
    for name in names[: count - 1]:
        folder = "." not in name.rsplit("/", 1)[-1]
        size = 0 if folder else 2000 + (index * 7919 + offset) % 900_000
        listed.append([f"{root}/{name}", size, None if folder else offset + 512, folder])
        offset += 512 + -(-size // 512) * 512
    return listed


def main() -> None:
    args = _arguments()
    url = make_url(args.pg).set(database=args.database).render_as_string(hide_password=False)
    _create_database(args.pg, args.database)
    engine = create_db_engine(url)
    upgrade(engine)
    if not args.skip_load:
        _load(engine, url, args.products, args.members)
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="prip-bench-nodes-")), db={"url": url}
    )
    components = Components.for_api(settings)
    if components.users.get("bench") is None:
        components.users.add("bench", hash_password("bench-pw"), "catalogue")
    # the listing time is the point here, not the rate quota (CDSE's 2000/min by default)
    components.users.set_quotas("bench", QuotaOverrides(requests_per_minute=10_000_000))
    with engine.connect() as conn:
        present = conn.execute(select(func.count()).select_from(product_nodes)).scalar_one()
    print(f"{present} products with Nodes, {args.members} members each")
    picks = random.Random(7)
    ids = [uuid.UUID(int=picks.randrange(present) + 1) for _ in range(args.requests)]
    services = api_services(components)
    with TestClient(create_app(services)) as client:
        headers = basic_header("bench", "bench-pw")
        client.get(f"/odata/v1/Products({ids[0]})/Nodes", headers=headers)  # warm up
        root, folder, tree = [], [], []
        for product_id in ids:
            started = time.perf_counter()
            listing = services.products.listing(product_id)
            assert listing is not None
            [top] = NodeTree(listing.members).children()
            tree.append(time.perf_counter() - started)
            root.append(_timed(client, f"/odata/v1/Products({product_id})/Nodes", headers))
            inside = f"/odata/v1/Products({product_id})/Nodes({top.name})/Nodes(IMG_DATA)/Nodes"
            folder.append(_timed(client, inside, headers))
    components.close()
    print(f"\n{'listing':<34}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}")
    for label, seconds in (
        ("row read + tree build", tree),
        ("Products(Id)/Nodes", root),
        ("Nodes(root)/Nodes(IMG_DATA)/Nodes", folder),
    ):
        print(f"{label:<34}{len(seconds):>6}{_ms(seconds, 50):>9.2f}{_ms(seconds, 99):>9.2f}")


def _timed(client: TestClient, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    took = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json()["result"], path
    return took


def _ms(seconds: list[float], percentile: int) -> float:
    if len(seconds) == 1:
        return seconds[0] * 1000
    return statistics.quantiles(seconds, n=100)[percentile - 1] * 1000


def _create_database(server: str, name: str) -> None:
    admin = make_url(server).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _load(engine: Engine, url: str, count: int, member_count: int, batch: int = 20_000) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE products, attributes, ingestions CASCADE"))
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for first in range(0, count, batch):
            indexes = range(first, min(count, first + batch))
            with conn.cursor() as cur:
                with cur.copy(f"COPY products ({', '.join(PRODUCT_COLUMNS)}) FROM STDIN") as copy:
                    for i in indexes:
                        copy.write_row(rows(i)[0])
                with cur.copy(
                    "COPY product_nodes (product_id, format, members) FROM STDIN"
                ) as copy:
                    for i in indexes:
                        listed = json.dumps(members(i, member_count))
                        copy.write_row((uuid.UUID(int=i + 1), "tar", listed))
            conn.commit()
            took = time.perf_counter() - started
            print(f"\rloaded {indexes.stop:>9} products ({took:6.1f} s)", end="", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) products")
        conn.execute("VACUUM (ANALYZE) product_nodes")
        size = conn.execute("SELECT pg_total_relation_size('product_nodes')").fetchone()
    mb = size[0] / 1e6 if size else 0.0
    print(f"\nload + vacuum: {time.perf_counter() - started:.1f} s; product_nodes {mb:.0f} MB")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="prip_bench_nodes")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--skip-load", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    main()
