"""Soak: one simulated day of the seed replayed faster than real time, while users search and
download.

Starts the PRIP as ``prip-ray up`` does (local Ray, ingestion shards, singletons, download
gateway, the OData API on Serve at 127.0.0.1) on a fresh data folder and database, then for
``--minutes`` drops the day's product mix (benchmarks/day_mix.py: L0 granules, L2A tiles, HKTM,
OLQC reports) into the inbox at ``--rate-factor`` times the seed's rate (~7.5 items/s: 150k
products + 500k reports a day), Poisson arrivals, sizes drawn from realistic distributions
and written at ``--byte-scale`` of their real size. Meanwhile ``--clients`` OData clients
(each its own user, HTTP Basic) search (name startswith, ContentDate range, productType
any(), Intersects box, new-products poll, products whose OLQC failed; $orderby/$top/$count)
and download what they find, following the 307 to the gateway. Then it waits (bounded) for
the inbox to drain and prints:

* dropped / published / rejected items; offered and sustained items/s and MB/s, of the bytes
  written (scaled) and of the real sizes drawn for them (real-equivalent);
* ingestion latency p50/p95/p99 per product type, from the PRIP DB: PublicationDate minus
  OriginDate (the file's mtime, i.e. when the product was dropped);
* API p50/p99, requests/s and non-2xx/3xx answers per query shape; download MB/s;
* peak RSS and CPU time per process (psutil, every second, grouped by Ray actor / process
  name: where the memory and the cores went);
* whether every dropped product was published exactly once (DB rows and stored objects).

    .venv/bin/python -m benchmarks.soak                              # 2 min at 10x, 1/1000 bytes
    .venv/bin/python -m benchmarks.soak --minutes 1 --rate-factor 10 --clients 2
    .venv/bin/python -m benchmarks.soak --db-url postgresql://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only benchmark cluster

import httpx
import psutil
import psycopg
import ray
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks.day_mix import (
    DAY_S,
    DAY_START,
    MIX,
    SEED_BYTES_PER_DAY,
    DayMix,
    Dropped,
    bytes_per_day,
    drop,
    items_per_day,
)
from benchmarks.object_store import add_s3_arguments, describe_store, s3_settings
from prip_ray.actors.cluster import start_actors, stop_actors
from prip_ray.actors.factory import start_download_gateways
from prip_ray.actors.names import shard_name
from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, Settings, load_settings
from prip_ray.db.tables import products
from prip_ray.domain.passwords import hash_password
from prip_ray.serve.deployment import deploy, undeploy
from prip_ray.storage.inbox import LocalQuarantine

PASSWORD = "soak-pw"
PRODUCT_TYPES = [kind.product_type for kind in MIX]


# ---------------------------------------------------------------- set-up and tear-down


def main() -> None:
    args = _arguments()
    root = Path(tempfile.mkdtemp(prefix="prip-soak-"))
    with _fresh_database(args.db_url) as db_url, ExitStack() as stack:
        s3 = s3_settings(args, root, stack) if args.store == "s3" else None
        settings = _settings(root, db_url, s3, args)
        try:
            _run(settings, args)
        finally:
            if args.keep:
                print(f"kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _fresh_database(server_url: str | None) -> Iterator[str | None]:
    """None: SQLite in the data folder. A PostgreSQL URL: a new database on that server,
    dropped afterwards."""
    if server_url is None:
        yield None
        return
    name = f"prip_soak_{uuid.uuid4().hex[:8]}"
    url = make_url(server_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _settings(
    root: Path, db_url: str | None, s3: S3Settings | None, args: argparse.Namespace
) -> Settings:
    ingest: dict[str, Any] = {
        "shards": args.shards,
        "qc_workers_min": args.qc_workers_min,
        "qc_workers_max": args.qc_workers_max,
        "qc_worker_cpus": args.qc_worker_cpus,
        "max_in_flight": args.max_in_flight,
        "poll_interval_s": args.poll_interval,
        "settle_s": args.settle,
    }
    api = {"host": "127.0.0.1", "port": _free_port(), "gateway_port": _free_port()}
    return load_settings(
        data_dir=root / "prip",
        db={"url": db_url},
        ingest={k: v for k, v in ingest.items() if v is not None},
        api=api,
        ray={"num_cpus": args.cpus},
        store={"kind": "s3", "s3": s3.model_dump()} if s3 is not None else {},
    )


def _run(settings: Settings, args: argparse.Namespace) -> None:
    components = Components(settings)
    components.migrate()
    users = [f"soak-{i}" for i in range(args.clients)]
    for user in users:  # the same repository `prip-ray user add` writes to
        components.users.add(user, hash_password(PASSWORD), "download")
    settings.inbox.mkdir(parents=True, exist_ok=True)
    ray.init(
        address="local",  # never join another Ray instance on this machine
        num_cpus=settings.ray.num_cpus,
        namespace=settings.ray.namespace,
        include_dashboard=False,
        log_to_driver=False,
    )
    sampler = ProcessSampler()
    sampler.start()
    handles: list[Any] = []
    try:
        handles += start_actors(settings)  # as `prip-ray up` does
        handles += start_download_gateways(settings)  # $value finds them through Ray
        base = deploy(settings)
        _print_header(settings, args, base)
        _soak(components, settings, args, base, users, sampler)
    finally:
        sampler.stop()
        undeploy()
        stop_actors(handles)
        ray.shutdown()
        components.close()


def _soak(
    components: Components,
    settings: Settings,
    args: argparse.Namespace,
    base: str,
    users: list[str],
    sampler: ProcessSampler,
) -> None:
    window_s = args.minutes * 60
    producer = Producer(settings.inbox, args.rate_factor, args.byte_scale, window_s, args.seed)
    clients = [
        ODataClient(base, user, i, args.seed, window_s, args.think, args.client_requests)
        for i, user in enumerate(users)
    ]
    _warm_up(components, producer, 2 * settings.ingest.shards * settings.ingest.qc_workers_max)
    threads = [threading.Thread(target=c.run, name=c.user) for c in clients]
    threads.append(threading.Thread(target=producer.run, name="producer"))
    for thread in threads:
        thread.start()
    _progress(components, producer, clients, sampler, window_s)
    for thread in threads:
        thread.join(timeout=60)
    expected = len(producer.warmup) + len(producer.dropped)
    drained_at = _drain(components, expected, args.drain_timeout, say_every=60)
    report = Report(components, settings, producer, clients, sampler, drained_at, args)
    report.print()


def _progress(
    components: Components,
    producer: Producer,
    clients: list[ODataClient],
    sampler: ProcessSampler,
    window_s: float,
) -> None:
    """A line every 15 s while products are dropped: is the PRIP keeping up, and what with?"""
    settings = components.settings
    shards = [
        ray.get_actor(shard_name(i), namespace=settings.ray.namespace)
        for i in range(settings.ingest.shards)
    ]
    psutil.cpu_percent()
    started = time.monotonic()
    while time.monotonic() - started < window_s:
        time.sleep(min(15.0, max(0.1, window_s - (time.monotonic() - started))))
        published = _count_published(components) - len(producer.warmup)
        rejected = len(list(settings.quarantine.glob("*.reason.json")))
        stats = ray.get([shard.stats.remote() for shard in shards], timeout=30)
        print(
            f"  t={time.monotonic() - started:4.0f}s dropped={len(producer.dropped):6d} "
            f"published={published:6d} rejected={rejected} "
            f"backlog={len(producer.dropped) - published - rejected:6d} "
            f"in QC={sum(s['in_flight'] for s in stats):3d} "
            f"QC workers={sum(s['workers'] for s in stats)} "
            f"({sampler.running('QcWorker')} running) "
            f"api calls={sum(len(c.calls) for c in clients):5d} cpu={psutil.cpu_percent():3.0f}%",
            flush=True,
        )


def _warm_up(components: Components, producer: Producer, count: int) -> None:
    started = time.monotonic()
    producer.warm_up(count)
    done = _drain(components, count, timeout=180)
    print(
        f"warm-up: {count} products "
        + (f"published in {time.monotonic() - started:.1f} s" if done else "NOT published in 180 s")
        + "; the clock starts now",
        flush=True,
    )


def _drain(
    components: Components, expected: int, timeout: float, say_every: float = 0
) -> float | None:
    """Wait until ``expected`` products are published or rejected; when that happened."""
    started = time.monotonic()
    said = started
    while time.monotonic() < started + timeout:
        rejected = len(list(components.settings.quarantine.glob("*.reason.json")))
        done = _count_published(components) + rejected
        if done >= expected:
            return time.time()
        if say_every and time.monotonic() - said >= say_every:
            said = time.monotonic()
            print(f"  draining: {expected - done} left after {said - started:.0f} s", flush=True)
        time.sleep(0.5)
    return None


def _count_published(components: Components) -> int:
    with components.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(products)).scalar_one())


# ---------------------------------------------------------------- the production chain


class Producer:
    """Drops the day's mix into the inbox: Poisson arrivals at the target rate."""

    def __init__(
        self, inbox: Path, rate_factor: float, byte_scale: float, window_s: float, seed: int
    ):
        self.rate = rate_factor * items_per_day() / DAY_S
        self._inbox, self._scale, self._window_s = inbox, byte_scale, window_s
        self._mix = DayMix(seed)
        self._rng = random.Random(seed + 1)
        self.warmup: list[Dropped] = []
        self.dropped: list[Dropped] = []
        self.max_lag_s = 0.0
        self.started = self.finished = 0.0

    def warm_up(self, count: int) -> None:
        """A burst before the clock starts: the shards start their QC workers (a running PRIP
        has them already), and they are not counted in the figures."""
        for _ in range(count):
            self.warmup.append(drop(self._inbox, *self._mix.next(), self._scale))

    def run(self) -> None:
        self.started = time.time()
        due = time.monotonic()
        end = due + self._window_s
        while True:
            due += self._rng.expovariate(self.rate)
            if due >= end:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            self.max_lag_s = max(self.max_lag_s, time.monotonic() - due)
            kind, index, real = self._mix.next()
            self.dropped.append(drop(self._inbox, kind, index, real, self._scale))
        self.finished = time.time()


# ---------------------------------------------------------------- the users


@dataclass(frozen=True)
class Call:
    shape: str
    status: int  # 0: no answer (connection error, timeout)
    seconds: float
    bytes: int = 0


@dataclass
class ODataClient:
    """One user: searches in turn with the six query shapes, downloads one product of each
    answer, pauses ``think_s``; stops at ``window_s`` or after ``max_calls`` calls."""

    base: str
    user: str
    number: int
    seed: int
    window_s: float
    think_s: float
    max_calls: int
    calls: list[Call] = field(default_factory=list)
    _cursor: str = field(default_factory=lambda: _odata_time(datetime.now(UTC)))

    def run(self) -> None:
        rng = random.Random(self.seed * 1000 + self.number)
        shapes = [self._poll, _by_name, _by_content_date, _by_product_type, _by_box, _olqc_failed]
        deadline = time.monotonic() + self.window_s
        auth = (self.user, PASSWORD)
        with httpx.Client(auth=auth, timeout=30) as api, httpx.Client(timeout=60) as gateway:
            turn = self.number
            while time.monotonic() < deadline and len(self.calls) < self.max_calls:
                shape, params = shapes[turn % len(shapes)](rng)
                found = self._search(api, shape, params)
                if found:
                    self._download(api, gateway, rng.choice(found))
                turn += 1
                time.sleep(self.think_s)

    def _search(
        self, api: httpx.Client, shape: str, params: dict[str, str]
    ) -> list[dict[str, Any]]:
        response = self._call(shape, lambda: api.get(self.base + "Products", params=params))
        if response is None or response.status_code != 200:
            return []
        found: list[dict[str, Any]] = response.json()["value"]
        if shape == "new products" and found:
            self._cursor = found[-1]["PublicationDate"]
        return found

    def _download(self, api: httpx.Client, gateway: httpx.Client, product: dict[str, Any]) -> None:
        url = f"{self.base}Products({product['Id']})/$value"
        redirect = self._call("$value (307)", lambda: api.get(url))
        if redirect is None or redirect.status_code != 307:
            return
        started, received, status = time.perf_counter(), 0, 0
        try:
            with gateway.stream("GET", redirect.headers["location"]) as response:
                status = response.status_code
                for chunk in response.iter_bytes(1 << 20):
                    received += len(chunk)
        except httpx.HTTPError:
            pass
        self.calls.append(Call("download", status, time.perf_counter() - started, received))

    def _call(self, shape: str, send: Any) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response: httpx.Response = send()
        except httpx.HTTPError:
            self.calls.append(Call(shape, 0, time.perf_counter() - started))
            return None
        self.calls.append(Call(shape, response.status_code, time.perf_counter() - started))
        return response

    def _poll(self, rng: random.Random) -> tuple[str, dict[str, str]]:
        """What an LTA does: products published since the last poll, oldest first."""
        return "new products", {
            "$filter": f"PublicationDate gt {self._cursor}",
            "$orderby": "PublicationDate asc",
            "$top": "100",
            "$expand": "Attributes",
        }


def _by_name(rng: random.Random) -> tuple[str, dict[str, str]]:
    prefix = rng.choice(
        ["S2B_OPER_MSI_L0__GR_2BPS_", "S2B_OPER_MSI_L2A_TL_2BPS_", "S2B_OPER_REP_OLQCPA_2BPS_"]
    )
    hour = DAY_START + timedelta(hours=rng.randrange(3))
    return "name startswith", {
        "$filter": f"startswith(Name,'{prefix}{hour:%Y%m%dT%H}')",
        "$orderby": "PublicationDate desc",
        "$top": "20",
    }


def _by_content_date(rng: random.Random) -> tuple[str, dict[str, str]]:
    start = DAY_START + timedelta(minutes=rng.uniform(0, 120))
    end = start + timedelta(minutes=30)
    return "ContentDate range", {
        "$filter": f"ContentDate/Start ge {_odata_time(start)} and "
        f"ContentDate/End le {_odata_time(end)}",
        "$orderby": "ContentDate/Start asc",
        "$top": "50",
    }


def _by_product_type(rng: random.Random) -> tuple[str, dict[str, str]]:
    product_type = rng.choice(PRODUCT_TYPES)
    return "productType any()", {
        "$filter": "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' "
        f"and att/OData.CSC.StringAttribute/Value eq '{product_type}')",
        "$orderby": "PublicationDate desc",
        "$top": "20",
        "$count": "true",
    }


def _olqc_failed(rng: random.Random) -> tuple[str, dict[str, str]]:
    """Granules whose OLQC reports failed (day_mix: about 2% of reports)."""
    return "qualityStatus FAILED", {
        "$filter": "Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'qualityStatus' "
        "and att/OData.CSC.StringAttribute/Value eq 'FAILED')",
        "$orderby": "PublicationDate desc",
        "$top": "20",
    }


def _by_box(rng: random.Random) -> tuple[str, dict[str, str]]:
    """Synthetic footprints lie between 39 and 70 N, all around the globe."""
    west, south = rng.uniform(-180, 170), rng.uniform(39, 65)
    east, north = west + 10, south + 5
    ring = f"{west} {south},{east} {south},{east} {north},{west} {north},{west} {south}"
    return "Intersects box", {
        "$filter": f"OData.CSC.Intersects(area=geography'SRID=4326;POLYGON(({ring}))')",
        "$top": "20",
        "$count": "true",
    }


def _odata_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------- processes


@dataclass
class ProcessUse:
    name: str
    peak_rss: int = 0
    cpu_s: float = 0.0  # user + system, as of the last sample


class ProcessSampler:
    """Peak RSS and CPU time of this process and every process it started (Ray's GCS, raylet,
    workers), sampled every second; a worker is named after the actor it runs
    (``ray::QcWorker`` -> QcWorker)."""

    def __init__(self, interval_s: float = 1.0):
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.processes: dict[int, ProcessUse] = {}
        self.alive: set[int] = set()  # at the last sample

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def running(self, name: str) -> int:
        """Processes of that name at the last sample (a QC worker Ray could not place yet
        has none)."""
        return sum(1 for pid in list(self.alive) if self.processes[pid].name == name)

    def by_name(self) -> dict[str, list[ProcessUse]]:
        grouped: dict[str, list[ProcessUse]] = defaultdict(list)
        for use in self.processes.values():
            grouped[use.name].append(use)
        return grouped

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self._interval_s):
            alive = set()
            for process in [me, *me.children(recursive=True)]:
                try:
                    with process.oneshot():
                        rss, cpu = process.memory_info().rss, process.cpu_times()
                        name = _process_name(process, me.pid)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                use = self.processes.setdefault(process.pid, ProcessUse(name))
                use.peak_rss = max(use.peak_rss, rss)
                use.cpu_s = cpu.user + cpu.system
                if name != "IDLE":  # a worker keeps the name of the actor it ran
                    use.name = name
                alive.add(process.pid)
            self.alive = alive


def _process_name(process: psutil.Process, driver: int) -> str:
    if process.pid == driver:
        return "driver (producer, clients)"
    cmdline = process.cmdline()
    head = cmdline[0] if cmdline else process.name()
    if head.startswith("ray::"):  # ray::QcWorker.ingest, ray::prip-ingest-shard-0:IngestShard
        title = head.split()[0].removeprefix("ray::").split(".")[0]
        return title if title.startswith("ServeReplica:") else title.split(":")[-1]
    script = next((a for a in cmdline[1:] if a.endswith(".py")), None)
    if script:
        return script.split("site-packages/")[-1].removesuffix(".py")
    return Path(head).name


# ---------------------------------------------------------------- the report


class Report:
    def __init__(
        self,
        components: Components,
        settings: Settings,
        producer: Producer,
        clients: list[ODataClient],
        sampler: ProcessSampler,
        drained_at: float | None,
        args: argparse.Namespace,
    ):
        self._settings, self._producer, self._args = settings, producer, args
        self._store = components.store
        self._calls = [call for client in clients for call in client.calls]
        self._sampler, self._drained_at = sampler, drained_at
        self._dropped = {d.name: d for d in producer.dropped}  # measured: not the warm-up
        self._all = {d.name: d for d in [*producer.warmup, *producer.dropped]}
        with components.engine.connect() as conn:  # a fresh database: every row is ours
            query = select(products.c.name, products.c.origin_date, products.c.publication_date)
            rows = conn.execute(query).all()
        self._all_rows = [r for r in rows if r.name in self._all]
        self._rows = [r for r in rows if r.name in self._dropped]
        self._unexpected = len(rows) - len(self._all_rows)
        self._reasons = LocalQuarantine(settings.quarantine).reasons()
        self._rejected = {r["name"] for r in self._reasons}

    def print(self) -> None:
        self._throughput()
        self._latency()
        self._api()
        self._processes()
        self._exactly_once()

    def _throughput(self) -> None:
        p, scale = self._producer, self._args.byte_scale
        window = max(p.finished - p.started, 1e-9)
        published = {r.name: r.publication_date.timestamp() for r in self._rows}
        in_window = [self._dropped[n] for n, t in published.items() if t <= p.finished]
        everything = [self._dropped[n] for n in published]
        last = max(published.values(), default=p.started)
        print("\n== ingestion")
        print(
            f"dropped {len(self._dropped)}, published {len(published)}, "
            f"rejected {len(self._rejected)}; "
            + (
                f"inbox drained {self._drained_at - p.finished:.1f} s after the last drop"
                if self._drained_at
                else f"inbox NOT drained within {self._args.drain_timeout:g} s"
            )
        )
        print(f"{'':34} {'items/s':>9} {'MB/s scaled':>12} {'MB/s real-eq':>13}")
        for label, items, seconds in (
            ("offered (dropped, drop window)", list(self._dropped.values()), window),
            ("sustained (published in window)", in_window, window),
            ("overall (first drop..last pub.)", everything, max(last - p.started, 1e-9)),
        ):
            scaled = sum(d.file_bytes for d in items) / 1e6 / seconds
            real = sum(d.real_bytes for d in items) / 1e6 / seconds
            print(f"{label:34} {len(items) / seconds:9.1f} {scaled:12.2f} {real:13.0f}")
        print(
            f"(real-eq: the drawn real sizes; scaled files are ~{scale:g} of them, "
            f"never below a valid product. Producer lag max {p.max_lag_s:.2f} s)"
        )

    def _latency(self) -> None:
        by_type: dict[str, list[float]] = defaultdict(list)
        for row in self._rows:
            seconds = (row.publication_date - row.origin_date).total_seconds()
            by_type[self._dropped[row.name].kind].append(seconds)
            by_type["all"].append(seconds)
        print("\n== ingestion latency (PublicationDate - OriginDate = drop time), seconds")
        print(f"{'kind':10} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
        for kind in [*(k.label for k in MIX), "all"]:
            values = by_type.get(kind, [])
            if values:
                cuts = "".join(
                    f" {v:8.2f}" for v in [*_percentiles(values, 50, 95, 99), max(values)]
                )
                print(f"{kind:10} {len(values):6d}{cuts}")

    def _api(self) -> None:
        window = self._args.minutes * 60
        api = [c for c in self._calls if c.shape != "download"]
        print(f"\n== API ({len(api)} calls to Serve in {window:g} s: {len(api) / window:.1f}/s)")
        print(f"{'shape':20} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx/3xx':>12}")
        for shape in [*dict.fromkeys(c.shape for c in api), "all"]:
            calls = [c for c in api if shape in (c.shape, "all")]
            p50, p99 = _percentiles([c.seconds * 1000 for c in calls], 50, 99)
            bad = Counter(c.status for c in calls if not 200 <= c.status < 400)
            shown = " ".join(f"{s}x{n}" for s, n in sorted(bad.items())) or "0"
            print(f"{shape:20} {len(calls):6d} {p50:8.1f} {p99:8.1f} {shown:>12}")
        downloads = [c for c in self._calls if c.shape == "download"]
        got = sum(c.bytes for c in downloads)
        busy = sum(c.seconds for c in downloads) or 1e-9
        failed = sum(1 for c in downloads if c.status != 200)
        print(
            f"downloads via the gateway: {len(downloads)} ({failed} failed), {got / 1e6:.1f} MB; "
            f"{got / 1e6 / window:.2f} MB/s over the window, {got / 1e6 / busy:.1f} MB/s "
            "while downloading"
        )

    def _processes(self) -> None:
        grouped = self._sampler.by_name()
        total_cpu = sum(u.cpu_s for uses in grouped.values() for u in uses) or 1e-9
        print("\n== processes: peak RSS (sampled every second) and CPU time over the whole run")
        print(
            f"{'process':36} {'count':>5} {'peak MiB':>9} {'sum MiB':>8} {'CPU s':>7} {'CPU %':>6}"
        )
        for name, uses in sorted(grouped.items(), key=lambda kv: -max(u.peak_rss for u in kv[1])):
            peaks = [u.peak_rss / (1 << 20) for u in uses]
            if max(peaks) < 10:  # short-lived helpers (a compiler ctypes ran, ...)
                continue
            cpu = sum(u.cpu_s for u in uses)
            print(
                f"{name[:36]:36} {len(uses):5d} {max(peaks):9.0f} {sum(peaks):8.0f} "
                f"{cpu:7.1f} {100 * cpu / total_cpu:6.1f}"
            )

    def _exactly_once(self) -> None:
        names = Counter(r.name for r in self._all_rows)
        missing = [n for n in self._all if names[n] == 0 and n not in self._rejected]
        waiting = [n for n in missing if (self._settings.inbox / n).exists()]
        twice = [n for n, count in names.items() if count > 1]
        stored = self._stored_objects()
        not_once = [n for n in names if stored[n] != 1]
        ok = not (missing or twice or self._rejected or not_once or self._unexpected)
        verdict = "OK" if ok else "FAIL"
        print(f"\n== all {len(self._all)} dropped products published exactly once: {verdict}")
        print(
            f"not published {len(missing)} ({len(waiting)} still in the inbox, "
            f"{len(missing) - len(waiting)} lost), published more than once {len(twice)}, "
            f"rejected {len(self._rejected)}, unexpected rows {self._unexpected}, "
            f"stored objects != 1 {len(not_once)}"
        )
        for reason in self._reasons[:3]:
            print(f"  rejected {reason['name']}: {reason['reason']}")
        for name in (missing + twice + not_once)[:3]:
            print(f"  e.g. {name}")

    def _stored_objects(self) -> Counter[str]:
        """Objects per product name in the store, local or S3 (keys are ``<Id>/<name>``)."""
        listed = self._store.keys(prefix="")  # an ObjectStore listing, not a dict's keys
        return Counter(n for n in (k.rpartition("/")[2] for k in listed) if n in self._all)


def _percentiles(values: list[float], *pcts: int) -> list[float]:
    if not values:
        return [float("nan")] * len(pcts)
    if len(values) == 1:
        return [values[0]] * len(pcts)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return [cuts[p - 1] for p in pcts]


def _print_header(settings: Settings, args: argparse.Namespace, base: str) -> None:
    rate = args.rate_factor * items_per_day() / DAY_S
    real_mb_s = args.rate_factor * bytes_per_day() / DAY_S / 1e6
    ingest = settings.ingest
    print(
        f"seed: {items_per_day():,} items/day ({items_per_day() / DAY_S:.2f}/s), mix "
        f"{bytes_per_day() / 1e12:.1f} TB/day (seed ~{SEED_BYTES_PER_DAY / 1e12:.0f} TB, "
        f"{bytes_per_day() / DAY_S / 1e6:.0f} MB/s)\n"
        f"soak: {args.rate_factor:g}x = {rate:.1f} items/s, {real_mb_s:.0f} MB/s real-equivalent, "
        f"{real_mb_s * args.byte_scale:.2f} MB/s written (byte scale {args.byte_scale:g}); "
        f"{args.minutes:g} min = {args.minutes * args.rate_factor / 60:.2f} h of the day\n"
        f"PRIP: {ingest.shards} shards x {ingest.qc_workers_min}..{ingest.qc_workers_max} QC "
        f"workers ({ingest.qc_worker_cpus:g} CPU each), max_in_flight {ingest.max_in_flight}, "
        f"poll {ingest.poll_interval_s:g} s, settle {ingest.settle_s:g} s; "
        f"Ray CPUs {ray.cluster_resources().get('CPU', 0):g}\n"
        f"db {settings.db_url}\nstore {describe_store(settings)}\n"
        f"api {base}  gateway port {settings.api.gateway_port}\n"
        f"{args.clients} clients, think {args.think:g} s\n",
        flush=True,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--minutes", type=float, default=2.0, help="how long products are dropped")
    add("--rate-factor", type=float, default=10.0, help="times the seed's item rate")
    add("--byte-scale", type=float, default=1 / 1000, help="written size / real size")
    add("--clients", type=int, default=4, help="OData clients, one user each")
    add("--think", type=float, default=0.5, help="pause of a client between searches, s")
    add("--client-requests", type=int, default=5000, help="calls per client at most")
    add("--drain-timeout", type=float, default=1200.0, help="wait for the inbox to empty, s")
    add("--db-url", default=None, help="PostgreSQL server (a fresh database is made there)")
    add("--store", choices=["local", "s3"], default="local", help="where products are stored")
    add_s3_arguments(parser)
    add("--cpus", type=int, default=None, help="Ray CPUs (default: the machine's)")
    add("--seed", type=int, default=7)
    add("--keep", action="store_true", help="keep the data folder")
    prip = parser.add_argument_group("PRIP settings (default: the PRIP's own defaults)")
    prip.add_argument("--shards", type=int, default=None)
    prip.add_argument("--qc-workers-min", type=int, default=None)
    prip.add_argument("--qc-workers-max", type=int, default=None)
    prip.add_argument("--qc-worker-cpus", type=float, default=None)
    prip.add_argument("--max-in-flight", type=int, default=None)
    prip.add_argument("--poll-interval", type=float, default=None)
    prip.add_argument("--settle", type=float, default=None)
    return parser.parse_args()


if __name__ == "__main__":
    main()
