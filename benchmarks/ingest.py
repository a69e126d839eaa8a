"""Ingestion throughput through the real pipeline: local Ray, shard actors, QC workers, the
PRIP DB and the object store (a local folder or S3).

For each class of item (S2 L0 granules, L2A tiles, and small items the size of an OLQC
report) it prints items/s, MB/s and the per-product latency p50/p95 from the moment a
product lands in the inbox to its publication. With ``--store s3`` it first PUTs the same
files straight into the bucket through the PRIP's S3 client, as many at once as there are
QC workers, and prints that raw PUT bandwidth and the ratio ingest MB/s / raw PUT MB/s:
what the pipeline costs over moving the bytes. Without ``--s3-endpoint`` it starts a
SeaweedFS server of its own on 127.0.0.1 (tests/seaweedfs.py). With ``--inbox s3`` products
arrive as objects PUT under ``PREFIX/inbox/`` of the same bucket (as many PUTs at once as
there are QC workers; a product's latency runs from the end of its PUT), are streamed
through QC and, with ``--store s3``, copied server-side into the store.

    .venv/bin/python -m benchmarks.ingest --granules 200 --granule-mb 18 --tiles 20 --tile-mb 200
    .venv/bin/python -m benchmarks.ingest --granules 0 --tiles 0 --small-items 2000 --small-kb 10
    .venv/bin/python -m benchmarks.ingest --db-url postgresql://postgres@127.0.0.1/bench
    .venv/bin/python -m benchmarks.ingest --store s3
    .venv/bin/python -m benchmarks.ingest --store s3 --inbox s3 --granules 200 --tiles 0
    .venv/bin/python -m benchmarks.ingest --store s3 --s3-endpoint http://127.0.0.1:8333 \\
        --s3-bucket bench --s3-access-key KEY --s3-secret-key SECRET
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only benchmark cluster

import ray

from benchmarks.day_mix import olqc_name, olqc_report
from benchmarks.object_store import add_s3_arguments, describe_store, s3_settings
from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, Settings, load_settings
from prip_ray.storage.s3 import S3ObjectStore
from prip_ray.synthetic import make_product


@dataclass(frozen=True)
class ItemClass:
    kind: str  # granule | tile | small
    count: int
    size: int  # bytes of payload asked for (the file is a little larger for packages)


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="prip-bench-") as tmp, ExitStack() as stack:
        s3 = s3_settings(args, Path(tmp), stack) if "s3" in (args.store, args.inbox) else None
        settings = _settings(Path(tmp), args, s3)
        settings.inbox.mkdir(parents=True, exist_ok=True)  # the shards list it from the start
        if s3 is not None:
            S3ObjectStore(s3).ensure_bucket()  # the S3 inbox too
        components = Components(settings)
        components.migrate()
        ray.init(
            address="local",  # never join another Ray instance on this machine
            num_cpus=args.cpus,
            include_dashboard=False,
            log_to_driver=False,
        )
        shards = start_ingestion(settings)
        print(
            f"shards={args.shards} workers/shard={args.workers} cpus={args.cpus} "
            f"db={settings.db_url} store={describe_store(settings)} inbox={settings.ingest.inbox}",
            flush=True,
        )
        try:
            _warm_up(components, Path(tmp))
            for item in _classes(args):
                if item.count:
                    _run(components, item, Path(tmp), args.shards * args.workers)
        finally:
            for shard in shards:
                ray.kill(shard)
            ray.shutdown()
            components.close()


def _classes(args: argparse.Namespace) -> list[ItemClass]:
    return [
        ItemClass("granule", args.granules, int(args.granule_mb * 1024 * 1024)),
        ItemClass("tile", args.tiles, int(args.tile_mb * 1024 * 1024)),
        ItemClass("small", args.small_items, int(args.small_kb * 1000)),
    ]


def _run(components: Components, item: ItemClass, tmp: Path, parallel: int) -> None:
    staging = tmp / f"staging-{item.kind}"
    staging.mkdir()
    made = [_make(staging, item, i) for i in range(item.count)]
    total_mb = sum(p.stat().st_size for p in made) / 1e6
    raw_mb_s = _raw_put_mb_s(components.settings, made, parallel)
    start = time.perf_counter()
    dropped = _deliver(components, made, parallel)
    published = _wait_for(components, set(dropped), timeout=3600)
    elapsed = time.perf_counter() - start
    latencies = sorted((published[n] - dropped[n]).total_seconds() for n in dropped)
    mb_s = total_mb / elapsed
    print(
        f"{item.kind:8} n={item.count:5d} size={total_mb / item.count:9.3f} MB  "
        f"items/s={item.count / elapsed:9.2f}  MB/s={mb_s:9.2f}  "
        f"latency p50={_pct(latencies, 50):7.2f} s p95={_pct(latencies, 95):7.2f} s "
        f"max={latencies[-1]:7.2f} s",
        flush=True,
    )
    if raw_mb_s is not None:
        print(
            f"{item.kind:8} raw S3 PUT MB/s={raw_mb_s:9.2f} ({item.count} objects, "
            f"{parallel} at once)  ingest/raw={mb_s / raw_mb_s:6.3f}",
            flush=True,
        )


def _warm_up(components: Components, tmp: Path) -> None:
    """One item before the clock starts: the shards start their QC workers (a running PRIP
    has them already), which would otherwise count in the first class's latency."""
    staging = tmp / "staging-warm-up"
    staging.mkdir()
    path = _make(staging, ItemClass("small", 1, 1000), 99_999)
    _deliver(components, [path], 1)
    _wait_for(components, {path.name}, timeout=300)


def _deliver(components: Components, paths: list[Path], parallel: int) -> dict[str, datetime]:
    """Each product into the inbox as a production chain delivers it atomically: renamed
    into the folder, or PUT as one object (``parallel`` at once); when each arrived."""
    inbox = components.object_inbox
    if inbox is None:
        arrived = {}
        for path in paths:
            path.rename(components.settings.inbox / path.name)
            arrived[path.name] = datetime.now(UTC)
        return arrived

    def put(path: Path) -> tuple[str, datetime]:
        with path.open("rb") as body:
            inbox.client.put_object(Bucket=inbox.bucket, Key=inbox.prefix + path.name, Body=body)
        return path.name, datetime.now(UTC)

    with ThreadPoolExecutor(parallel) as pool:
        return dict(pool.map(put, paths))


def _make(staging: Path, item: ItemClass, index: int) -> Path:
    if item.kind in ("granule", "tile"):
        return make_product(staging, item.kind, index, item.size).path
    name = olqc_name(index)  # a plain XML file, as OLQC reports arrive
    (staging / name).write_bytes(olqc_report(name, index, item.size))
    return staging / name


def _raw_put_mb_s(settings: Settings, paths: list[Path], parallel: int) -> float | None:
    """MB/s of PUTting ``paths`` to the PRIP's bucket directly, ``parallel`` at once; None
    for a local store. The objects go under a prefix of their own and are deleted after."""
    if settings.store.kind != "s3":
        return None
    store = S3ObjectStore(settings.store.s3)
    keys = [f"raw-put-{uuid.uuid4().hex[:8]}/{p.name}" for p in paths]
    store.put_file(keys[0] + ".warm-up", paths[0])  # the bucket exists, the client is built
    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(store.put_file, keys, paths))
    elapsed = time.perf_counter() - start
    for key in [*keys, keys[0] + ".warm-up"]:
        store.delete(key)
    return sum(p.stat().st_size for p in paths) / 1e6 / elapsed


def _wait_for(components: Components, names: set[str], timeout: float) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    found: dict[str, datetime] = {}
    listed = float("-inf")
    while time.monotonic() < deadline:
        for chunk in _chunks(sorted(names - found.keys()), 500):
            for product in components.products.by_names(chunk):
                found[product.name] = product.publication_date
        if len(found) == len(names):
            return found
        rejected = [p.read_text() for p in components.settings.quarantine.glob("*.reason.json")]
        if components.object_inbox is not None and time.monotonic() - listed > 1:
            listed = time.monotonic()  # a LIST of the quarantine prefix: once a second
            rejected += [str(reason) for reason in components.object_inbox.refused.reasons()]
        if rejected:
            raise SystemExit(f"products were rejected: {rejected[0]}")
        time.sleep(0.1)
    raise SystemExit(f"only {len(found)} of {len(names)} published within {timeout}s")


def _chunks(names: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(names), size):
        yield names[i : i + size]


def _pct(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _settings(tmp: Path, args: argparse.Namespace, s3: S3Settings | None) -> Settings:
    store: dict[str, Any] = {"kind": args.store}
    inbox = None
    if s3 is not None:  # the inbox, unless it is a folder, is on the store's endpoint
        store["s3"] = s3.model_dump()
        inbox = f"s3://{s3.bucket}/{s3.prefix}inbox/" if args.inbox == "s3" else None
    return load_settings(
        data_dir=tmp / "prip",
        db={"url": args.db_url},
        store=store,
        ingest={
            "shards": args.shards,
            "qc_workers_min": args.workers,
            "qc_workers_max": args.workers,
            "qc_worker_cpus": args.cpus / (args.shards * args.workers),
            "poll_interval_s": 0.1,
            "settle_s": 0,
            "max_in_flight": 4 * args.workers,
            "inbox": inbox,
        },
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--granules", type=int, default=100)
    parser.add_argument("--granule-mb", type=float, default=18.0, help="S2 L0 granule ~18 MB")
    parser.add_argument("--tiles", type=int, default=10)
    parser.add_argument("--tile-mb", type=float, default=100.0, help="S2 L2A tile ~100-900 MB")
    parser.add_argument("--small-items", type=int, default=0, help="OLQC-report-sized items")
    parser.add_argument("--small-kb", type=float, default=10.0, help="an OLQC report ~2-10 KB")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="QC workers per shard")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--db-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--store", choices=["local", "s3"], default="local")
    parser.add_argument("--inbox", choices=["folder", "s3"], default="folder")
    add_s3_arguments(parser)
    return parser.parse_args()


if __name__ == "__main__":
    main()
