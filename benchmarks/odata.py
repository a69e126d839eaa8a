"""OData search on a large catalogue, through Ray Serve, on PostgreSQL.

Loads N synthetic products (~15 attributes each) once into a benchmark database, then for
five query shapes prints the PostgreSQL plan (does it use an index?), single-client latency
(p50/p99) and the request rate of concurrent clients, all over loopback HTTP.

    .venv/bin/python benchmarks/odata.py --products 1000000
    .venv/bin/python benchmarks/odata.py --products 1000000 --skip-load --clients 16

The concurrent phase uses wrk when it is installed (``apt-get install wrk``), Python threads
otherwise (``--load python``).

``--ingress haproxy`` (the default) sends the requests through HAProxy to the replicas'
direct-ingress ports, the topology of Serve's HAProxy mode (benchmarks/ingress.py);
``--ingress ray-haproxy`` through Serve's HAProxy mode itself, which binds ports on every
interface and so runs only in a network namespace of its own, reaching PostgreSQL by its
socket:

    unshare -n bash -c 'ip link set lo up; .venv/bin/python -m benchmarks.odata --skip-load \
        --ingress ray-haproxy --pg "postgresql://postgres@/?host=/var/run/postgresql"'

``--ingress proxy`` through Serve's Python proxy actor.

``--ingress up`` measures the default command instead of a hand-built ingress: a plain
``prip-ray up`` in a process of its own (its own Ray, a temporary data dir, the benchmark's
database as ``PRIP_DB__URL``, every other setting its default: HAProxy, the default replicas
unless ``--replicas``), as a user starts it (benchmarks/launched_up.py):

    .venv/bin/python -m benchmarks.odata --products 1000000 --skip-load --ingress up

``--kill-replica`` adds a phase of the five shapes in turn during which one of its API
replicas gets SIGKILL: HAProxy retries what it held, so every answer should be a 200.

The same searches through the STAC API (``/stac/search``, translated into the same search
options) are timed after the OData ones, one client, with their plans.

Every request of a phase asks for the same page, so the replicas' entity cache
(odata/entity_cache.py) holds its products after the first; ``--entity-cache 0`` measures
pages of products no client has read before.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only benchmark cluster

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.catalogue_rows import load
from benchmarks.ingress import require_own_network_namespace
from benchmarks.launched_up import free_port_pair, launched_up, load_average
from prip_ray.config import ApiSettings, load_settings
from prip_ray.db.migrate import upgrade
from prip_ray.db.search import MAX_SHAPE_CANDIDATES, statements
from prip_ray.db.search.rectangles import rectangle_of
from prip_ray.db.session import create_db_engine
from prip_ray.db.spans import longest_spans
from prip_ray.db.tables import products
from prip_ray.domain.passwords import hash_password
from prip_ray.domain.product_types import default_registry
from prip_ray.domain.users import QuotaOverrides
from prip_ray.odata.ast import Intersects, walk
from prip_ray.odata.options import QueryOptions, parse_query_options
from prip_ray.stac.collections import stac_collections
from prip_ray.stac.search import Limits, query_options, search_from_query

SERVER = "postgresql://postgres@127.0.0.1:5432"
PRODUCT_TYPE = (
    "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and "
    "att/OData.CSC.StringAttribute/Value eq 'MSI_L2A_TL')"
)
BOX = "OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((10 40,11 40,11 41,10 41,10 40))')"
DATES = (
    "ContentDate/Start ge 2025-07-20T00:00:00.000Z and ContentDate/End le 2025-07-20T06:00:00.000Z"
)
NAME = "startswith(Name,'S2B_OPER_MSI_L2A_TL_2BPS_20250720T0')"
QUERIES = {
    "name startswith": {"$filter": NAME},
    "ContentDate range": {"$filter": DATES},
    "productType any()": {"$filter": PRODUCT_TYPE},
    "Intersects 1x1 deg": {"$filter": BOX},
    "all four, desc, top 100, count": {
        "$filter": f"{NAME.replace('0720T0', '07')} and {DATES.replace('06:00', '23:59')} and "
        f"{PRODUCT_TYPE} and OData.CSC.Intersects(area=geography'SRID=4326;"
        "POLYGON((-180 -60,180 -60,180 80,-180 80,-180 -60))')",
        "$orderby": "PublicationDate desc",
        "$top": "100",
        "$count": "true",
    },
}

# STAC searches a client would send for the same data (tiles, an area, six hours).
STAC_QUERIES = {
    "STAC collection, first page": {"collections": "sentinel-2-tile"},
    "STAC bbox 1x1 deg": {"bbox": "10,40,11,41"},
    "STAC collection+bbox+datetime": {
        "collections": "sentinel-2-tile",
        "bbox": "10,40,11,41",
        "datetime": "2025-07-20T00:00:00Z/2025-07-20T06:00:00Z",
        "limit": "100",
    },
    "STAC collection+datetime 6 h": {
        "collections": "sentinel-2-tile",
        "datetime": "2025-07-20T00:00:00Z/2025-07-20T06:00:00Z",
        "limit": "100",
    },
}


def main() -> None:
    args = _arguments()
    if args.ingress == "ray-haproxy":
        require_own_network_namespace()
    url = _database_url(args.pg, args.database)
    _create_database(args.pg, args.database)
    engine = create_db_engine(url)
    upgrade(engine)
    if not args.skip_load:
        _load(engine, url, args.products)
    _explain(engine)
    _ensure_user(engine)
    engine.dispose()
    if args.ingress == "up":
        _through_up(url, args)
    else:
        _through_hand_built_ingress(url, args)


def _through_up(url: str, args: argparse.Namespace) -> None:
    """A plain `prip-ray up` on the benchmark's database, as a user starts it."""
    env = {"PRIP_DB__URL": url}
    if args.replicas is not None:
        env.update(
            PRIP_API__MIN_REPLICAS=str(args.replicas), PRIP_API__MAX_REPLICAS=str(args.replicas)
        )
    if args.entity_cache != ApiSettings().entity_cache_entries:
        env["PRIP_API__ENTITY_CACHE_ENTRIES"] = str(args.entity_cache)
    with (
        tempfile.TemporaryDirectory(prefix="prip-bench-odata-up-") as data_dir,
        launched_up(Path(data_dir), env) as up,
    ):
        up.wait_until_up()
        replicas = "up's default" if args.replicas is None else args.replicas
        print(f"\nprip-ray up: {replicas} replicas, entity cache {args.entity_cache} each")
        print(f"ingress: {up.ingress()} {up.base}")
        _measure(up.base + "odata/v1/", args, up.kill_a_replica if args.kill_replica else None)


def _through_hand_built_ingress(url: str, args: argparse.Namespace) -> None:
    replicas = ApiSettings().min_replicas if args.replicas is None else args.replicas
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="prip-bench-odata-")),
        db={"url": url, "pool_size": 8},
        api={"port": free_port_pair(), "min_replicas": replicas, "max_replicas": replicas,
             "replica_cpus": 0.5, "entity_cache_entries": args.entity_cache},
    )  # fmt: skip
    import ray

    from benchmarks.ingress import (
        DIRECT_INGRESS_ENV,
        RAY_HAPROXY_ENV,
        loopback_haproxy,
    )
    from prip_ray.serve.deployment import deploy, undeploy

    if args.ingress == "haproxy":
        os.environ.update(DIRECT_INGRESS_ENV)  # read by the Serve controller and replicas
    elif args.ingress == "ray-haproxy":
        os.environ.update(RAY_HAPROXY_ENV)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    base = deploy(settings)
    print(f"\n{replicas} replicas, entity cache: {args.entity_cache} products each")
    try:
        if args.ingress == "haproxy":
            with loopback_haproxy(settings.api.host) as front:
                print(f"\ningress: HAProxy {front} -> replicas' direct ingress")
                _measure(front + "odata/v1/", args)
        else:
            kind = "Serve's HAProxy mode" if args.ingress == "ray-haproxy" else "Serve's proxy"
            print(f"\ningress: {kind} {base}")
            _measure(base, args)
    finally:
        undeploy()
        ray.shutdown()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--database", default="prip_bench_odata")
    parser.add_argument(
        "--pg",
        default=SERVER,
        help="PostgreSQL server URL without a database (a socket: postgresql://postgres@/"
        "?host=/var/run/postgresql)",
    )
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    parser.add_argument("--requests", type=int, default=200, help="per query, one client")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="per concurrent phase")
    parser.add_argument(
        "--replicas", type=int, help="API replicas (min = max); unset: the settings' default"
    )
    parser.add_argument(
        "--load", choices=["wrk", "python"], default="wrk", help="concurrent load generator"
    )
    parser.add_argument(
        "--ingress",
        choices=["up", "haproxy", "ray-haproxy", "proxy"],
        default="haproxy",
        help="a plain `prip-ray up` (its own process and Ray, its default ingress); HAProxy "
        "to the replicas' direct ingress; Serve's own HAProxy mode (in a network namespace "
        "of its own); or Serve's Python proxy",
    )
    parser.add_argument(
        "--kill-replica",
        action="store_true",
        help="with --ingress up: one more concurrent phase, the five shapes in turn, during "
        "which one API replica gets SIGKILL; its errors count every answer other than 200",
    )
    parser.add_argument(
        "--entity-cache",
        type=int,
        default=ApiSettings().entity_cache_entries,
        help="encoded products each replica keeps (api.entity_cache_entries); 0: every "
        "page's products are read and encoded afresh, as for products no client read before",
    )
    args = parser.parse_args()
    if args.kill_replica and args.ingress != "up":
        parser.error("--kill-replica kills a replica of a `prip-ray up`: with --ingress up")
    return args


def _database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _create_database(server: str, name: str) -> None:
    with psycopg.connect(_database_url(server, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _load(engine: Engine, url: str, count: int) -> None:
    with engine.connect() as conn:
        present = conn.execute(select(func.count()).select_from(products)).scalar_one()
    if present == count:
        print(f"catalogue already holds {count} products")
        return
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE products, attributes, ingestions CASCADE"))
    started = time.perf_counter()
    for loaded in load(url, count):
        print(
            f"\rloaded {loaded:>9} products ({time.perf_counter() - started:6.1f} s)",
            end="",
            flush=True,
        )
    # VACUUM as autovacuum would (migration 0010): without the visibility map it writes, the
    # covering indexes' index-only scans read the table after all (16 instead of 6 ms for
    # the four-part search).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) products"))
        conn.execute(text("VACUUM (ANALYZE) attributes"))
    print(f"\nload + vacuum: {time.perf_counter() - started:.1f} s")


def _explain(engine: Engine) -> None:
    """The plan of the statement that chooses each page, as the repository builds it."""
    shapes = {
        label: parse_query_options(params, default_top=20, max_top=1000, max_skip=10000)
        for label, params in QUERIES.items()
    }
    collections = stac_collections(default_registry())
    with engine.connect() as conn:  # as the STAC route reads them for a datetime search
        spans = longest_spans(conn)
    for label, params in STAC_QUERIES.items():
        search = search_from_query(params, Limits())
        shapes[label] = query_options(search, collections, spans)
    for label, options in shapes.items():
        _explain_one(engine, label, options)


def _explain_one(engine: Engine, label: str, options: QueryOptions) -> None:
    area = next((n for n in walk(options.filter) if isinstance(n, Intersects)), None)
    bounds = rectangle_of(area.geometry) if area is not None else None
    if bounds is not None:  # a rectangle: counted and paged in SQL (db/search/rectangles.py)
        wanted = options.skip + options.top + 1
        query = statements.rectangle_page(
            options.filter, options.orderby, bounds, wanted, MAX_SHAPE_CANDIDATES
        )
    else:  # the page's Ids, then their versions (a deferred join)
        query = statements.page_of(options.filter, options.orderby, options.skip, options.top + 1)
    # render_postcompile: a list bound to IN (a collection's product types) is written out
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    with engine.connect() as conn:
        plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)]
    uses = sorted({_index_name(line) for line in plan} - {""})
    print(f"\n== {label}: plan ({'indexes: ' + ', '.join(uses) if uses else 'NO INDEX'})")
    print("\n".join("   " + line for line in plan[:16]))


def _index_name(line: str) -> str:
    for marker in (" using ", "Bitmap Index Scan on "):
        if marker in line:
            return line.split(marker, 1)[1].split()[0]
    return ""


def _ensure_user(engine: Engine) -> None:
    from prip_ray.db.users import UserRepository

    users = UserRepository(engine)
    if users.get("bench") is None:
        users.add("bench", hash_password("bench-pw"), "download")
    # the load is the point here, not the rate quota (whose default is CDSE's 2000/min)
    users.set_quotas("bench", QuotaOverrides(requests_per_minute=10_000_000))


def _measure(
    base: str, args: argparse.Namespace, kill_a_replica: Callable[[], int] | None = None
) -> None:
    auth = ("bench", "bench-pw")
    print(
        f"\n{'query':34} {'hits':>8} {'p50 ms':>8} {'p99 ms':>8}   "
        f"(1 client, {args.requests} requests)"
    )
    with httpx.Client(auth=auth, timeout=60) as client:
        for label, params in QUERIES.items():
            for _ in range(5):
                first = client.get(base + "Products", params=params)
                first.raise_for_status()
            hits = first.json().get("@odata.count", len(first.json()["value"]))
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get(base + "Products", params=params).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            p99 = statistics.quantiles(times, n=100)[98]
            print(f"{label:34} {hits:>8} {statistics.median(times):8.1f} {p99:8.1f}")
        _measure_stac(client, base.removesuffix("odata/v1/") + "stac/search", args)
    _concurrent(base, auth, args, kill_a_replica)


def _measure_stac(client: httpx.Client, search: str, args: argparse.Namespace) -> None:
    """The STAC searches, one client; "items" is the page's length (STAC counts nothing)."""
    print(f"\n{'STAC query':34} {'items':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, params in STAC_QUERIES.items():
        for _ in range(5):
            first = client.get(search, params=params)
            first.raise_for_status()
        items = len(first.json()["features"])
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            client.get(search, params=params).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        p99 = statistics.quantiles(times, n=100)[98]
        print(f"{label:34} {items:>8} {statistics.median(times):8.1f} {p99:8.1f}")


def _concurrent(
    base: str,
    auth: tuple[str, str],
    args: argparse.Namespace,
    kill_a_replica: Callable[[], int] | None,
) -> None:
    wrk = shutil.which("wrk") if args.load == "wrk" else None
    tool = "wrk (C, 2 threads)" if wrk else "Python threads with httpx"
    print(
        f"\n{args.clients} concurrent clients ({tool}), {args.seconds:g} s each "
        f"(load average {load_average()}):"
    )
    rate = _rate_wrk if wrk else _rate
    for label, params in QUERIES.items():
        rate(base, auth, args, label, [params])
    rate(base, auth, args, "all five shapes in turn", list(QUERIES.values()))
    if kill_a_replica is not None:  # a third of the way in: while the clients search
        killed: list[int] = []
        kill = threading.Timer(args.seconds / 3, lambda: killed.append(kill_a_replica()))
        kill.start()
        rate(base, auth, args, "five in turn, a replica SIGKILLed", list(QUERIES.values()))
        kill.join()
        if not killed:
            raise SystemExit("--kill-replica: no replica was killed")
        print(f"  (replica pid {killed[0]} got SIGKILL {args.seconds / 3:.1f} s into the phase)")


WRK_ROTATION = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def _rate_wrk(
    base: str,
    auth: tuple[str, str],
    args: argparse.Namespace,
    label: str,
    shapes: list[dict[str, str]],
) -> None:
    """The same load from wrk: on two cores a client in C leaves the CPU to the server,
    where 16 Python threads take most of a core themselves."""
    path = urlsplit(base).path
    paths = [f"{path}Products?{urlencode(shape)}" for shape in shapes]
    header = "Authorization: Basic " + base64.b64encode(":".join(auth).encode()).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_ROTATION % ", ".join(json.dumps(p) for p in paths))
        script.flush()
        command = ["wrk", "-t2", f"-c{args.clients}", f"-d{args.seconds:g}s", "--latency",
                   "-H", header, "-s", script.name, base]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    unanswered = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad.group(1)) if bad else 0
    errors += sum(map(int, unanswered.groups())) if unanswered else 0
    print(
        f"  {label:34} {float(rate.group(1)) if rate else 0:7.0f} requests/s  "
        f"p99 {p99.group(1) if p99 else '?'}  ({errors} errors)"
    )


def _rate(
    base: str,
    auth: tuple[str, str],
    args: argparse.Namespace,
    label: str,
    shapes: list[dict[str, str]],
) -> None:
    stop = time.monotonic() + args.seconds
    done: list[int] = []
    failed: list[int] = []

    def client_loop(offset: int) -> None:
        count = errors = 0
        with httpx.Client(auth=auth, timeout=60) as client:
            while count == 0 or time.monotonic() < stop:  # one at least: a late start
                try:
                    response = client.get(
                        base + "Products", params=shapes[(offset + count) % len(shapes)]
                    )
                    errors += response.status_code != 200
                except httpx.HTTPError:  # no answer at all
                    errors += 1
                count += 1
        done.append(count)
        failed.append(errors)

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"  {label:34} {sum(done) / elapsed:7.0f} requests/s  ({sum(failed)} errors)")


if __name__ == "__main__":
    main()
