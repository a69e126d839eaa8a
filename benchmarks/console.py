"""The operator console on a large catalogue: GET /console for 30 days, on PostgreSQL.

Loads N synthetic products (benchmarks/catalogue_rows.py: a publication every ~2.6 s, so
1M products are 30 days) with publication delays spread over 10 min to 2.5 h, and a probe
every 30 s over the same 30 days, into a benchmark database; then serves the HTTP app with
uvicorn on loopback (no Ray) and times the console page and its exports for the 30 days.

It first rolls the 30 days up as the health prober keeps the last 31 days rolled up (the
steady state; the time this takes is what the very first request ever would wait). Then,
per route, ``--fresh`` times, it serves a fresh app on fresh components (new engine, empty
caches: a new API replica, imports aside, frozen for the garbage collector as a replica
freezes what it builds) and times its first request, "cold", apart from the next
``--requests`` (of the first fresh app), "warm". Before the cold request, one search signs
in: the first Basic login of a process verifies the password with scrypt (128 MiB, ~0.3-0.5
s here, then cached for ``api.auth_cache_s``), a cost of the login, not of the console,
shown as "sign-in".

    .venv/bin/python -m benchmarks.console --products 1000000
    .venv/bin/python -m benchmarks.console --tiny          # 3,000 products: does it work?
    .venv/bin/python -m benchmarks.console --products 1000000 --olqc

``--olqc`` makes every loaded product type expect an OLQC report (kpi.olqc_types) and
leaves one product in 1,000 waiting for its report, so the page also counts and lists
the products without one.

The target: the page answers in under 300 ms at 1M products and 30 days of history.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from benchmarks.catalogue_rows import PRODUCT_COLUMNS, STEP, T0, TYPES, rows
from prip_ray.bootstrap import Components
from prip_ray.config import Settings, load_settings
from prip_ray.db.tables import health_probes, olqc_awaited, products
from prip_ray.domain.passwords import hash_password
from prip_ray.serve.app import create_app
from prip_ray.serve.wiring import api_services
from tests.http_server import serving

SERVER = "postgresql://postgres@127.0.0.1:5432"
PROBE_EVERY = timedelta(seconds=30)
ORIGIN = PRODUCT_COLUMNS.index("origin_date")
PUBLISHED = PRODUCT_COLUMNS.index("publication_date")


def main() -> None:
    args = _arguments()
    url = make_url(args.pg).set(database=args.database).render_as_string(hide_password=False)
    _create_database(args.pg, args.database)
    data_dir = Path(tempfile.mkdtemp(prefix="prip-bench-console-"))
    olqc = {"olqc_types": [t for t, _ in TYPES], "olqc_grace_s": 0} if args.olqc else {}
    settings = load_settings(
        data_dir=data_dir, db={"url": url, "pool_size": 4}, kpi=olqc, environ={}
    )
    components = Components(settings)
    components.migrate()
    try:
        _load(components, url, args.products)
        if args.olqc:
            _report_all_but_one_in_1000(components)
        if components.users.get("bench") is None:
            components.users.add("bench", hash_password("bench-pw"), "admin")
        until = T0 + STEP * args.products
        window = {"since": T0.isoformat(), "until": until.isoformat()}
        print(f"\nwindow: {window['since']} to {window['until']} ({until - T0})")
        started = time.perf_counter()
        components.kpi().roll_up(T0, until)
        print(f"rolled up ahead (the prober's work): {time.perf_counter() - started:.1f} s")
        _measure(settings, window, args.requests, args.fresh)
    finally:
        components.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--tiny", action="store_true", help="3,000 products, 3 requests")
    parser.add_argument("--requests", type=int, default=10, help="timed requests per route")
    parser.add_argument("--fresh", type=int, default=5, help="fresh apps timed per route")
    parser.add_argument("--olqc", action="store_true", help="products expect OLQC reports")
    parser.add_argument("--database", default="prip_bench_console")
    parser.add_argument("--pg", default=SERVER, help="PostgreSQL server URL, no database")
    args = parser.parse_args()
    if args.tiny:
        args.products, args.requests, args.fresh = 3_000, 3, 2
        args.database += "_tiny"
    return args


def _create_database(server: str, name: str) -> None:
    admin = make_url(server).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def product_row(index: int) -> tuple[object, ...]:
    """A catalogue row whose delay varies (10 min to 2.5 h), as real ones do."""
    row = list(rows(index)[0])
    row[ORIGIN] = row[PUBLISHED] - timedelta(seconds=600 + (index * 7919) % 8400)
    return tuple(row)


def _load(components: Components, url: str, count: int) -> None:
    with components.engine.connect() as conn:
        present = conn.execute(select(func.count()).select_from(products)).scalar_one()
    if present == count:
        print(f"catalogue already holds {count} products")
        return
    with components.engine.begin() as conn:
        conn.execute(text("TRUNCATE products, attributes, health_probes CASCADE"))
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for first in range(0, count, 50_000):
            with conn.cursor() as cur:
                columns = ", ".join(PRODUCT_COLUMNS)
                with cur.copy(f"COPY products ({columns}) FROM STDIN") as copy:
                    for index in range(first, min(count, first + 50_000)):
                        copy.write_row(product_row(index))
            conn.commit()
            print(f"\rloaded {min(count, first + 50_000):>9} products", end="", flush=True)
        probes = int(STEP * count / PROBE_EVERY)
        with (
            conn.cursor() as cur,
            cur.copy("COPY health_probes (at, ok, seconds) FROM STDIN") as copy,
        ):
            for i in range(probes):
                copy.write_row((T0 + PROBE_EVERY * i, i % 2000 >= 3, 0.05))
        conn.commit()
    with components.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) products"))
        conn.execute(text(f"VACUUM (ANALYZE) {health_probes.name}"))
    print(
        f"\n{count} products, {probes} probes: load + vacuum {time.perf_counter() - started:.1f} s"
    )


def _report_all_but_one_in_1000(components: Components) -> None:
    """One product in 1,000 (by a hash of its name) still waits for its OLQC report, as
    publication lists it when no report came first (db/olqc.py); done once per database."""
    with components.engine.begin() as conn:
        if not conn.execute(select(olqc_awaited.c.product_id).limit(1)).first():
            conn.execute(
                text(
                    "INSERT INTO olqc_awaited (product_id, name, product_type, publication_date)"
                    " SELECT id, name, product_type, publication_date FROM products"
                    " WHERE abs(hashtext(name)) % 1000 = 0"
                )
            )
    with components.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) olqc_awaited"))
        waiting = conn.execute(select(func.count()).select_from(olqc_awaited)).scalar_one()
        listed = conn.execute(select(func.count()).select_from(products)).scalar_one()
    print(f"olqc: {waiting} of {listed} products without an OLQC report")


def _measure(settings: Settings, window: dict[str, str], requests: int, fresh: int) -> None:
    routes = {"page": "/console", "CSV": "/console/export.csv", "JSON": "/console/export.json"}
    print(f"\n{fresh} fresh apps per route; cold and sign-in: median (max); warm: the first app")
    print(f"{'route':8} {'sign-in ms':>14} {'cold ms':>14} {'warm p50':>9} {'warm max':>9}")
    for label, path in routes.items():
        runs = [_fresh(settings, path, window, requests if i == 0 else 0) for i in range(fresh)]
        sign_in, cold = [r[0] for r in runs], [r[1][0] for r in runs]
        warm = runs[0][1][1:]
        print(
            f"{label:8} {_spread(sign_in):>14} {_spread(cold):>14}"
            f" {statistics.median(warm):9.0f} {max(warm):9.0f}"
        )


def _fresh(
    settings: Settings, path: str, window: dict[str, str], warm: int
) -> tuple[float, list[float]]:
    """(sign-in ms, [cold ms, warm ms...]) of a fresh app: a new replica, its own engine and
    nothing cached, frozen for the garbage collector as serve/deployment.ODataReplica does."""
    components = Components(settings)
    app = create_app(api_services(components))
    gc.collect()
    gc.freeze()
    try:
        with (
            serving(app) as server,
            httpx.Client(base_url=server.url, auth=("bench", "bench-pw"), timeout=600) as client,
        ):
            sign_in = _timed(client, "/odata/v1/Products", {"$top": "1"})
            times = [_timed(client, path, {"period": "custom", **window}) for _ in range(warm + 1)]
    finally:
        components.close()
    return sign_in, times


def _timed(client: httpx.Client, path: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    client.get(path, params=params).raise_for_status()
    return (time.perf_counter() - started) * 1000


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.0f} ({max(times):.0f})"


if __name__ == "__main__":
    main()
