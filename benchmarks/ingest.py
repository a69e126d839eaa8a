"""Ingestion throughput through the real pipeline: local Ray, shard actors, QC workers, the
PRIP DB and the object store. Prints products/s, MB/s and per-product latency (p50/p95) from
the moment a product lands in the inbox to its publication, for granule- and tile-sized items.

    .venv/bin/python benchmarks/ingest.py --granules 200 --granule-mb 18 --tiles 20 --tile-mb 200
    .venv/bin/python benchmarks/ingest.py --db-url postgresql://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only benchmark cluster

import ray

from prip_ray.actors.factory import start_ingestion
from prip_ray.bootstrap import Components
from prip_ray.config import Settings, load_settings
from prip_ray.synthetic import make_product


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="prip-bench-") as tmp:
        settings = _settings(Path(tmp), args)
        components = Components(settings)
        components.migrate()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        shards = start_ingestion(settings)
        print(
            f"shards={args.shards} workers/shard={args.workers} cpus={args.cpus} "
            f"db={settings.db_url}"
        )
        try:
            for kind, count, mb in (
                ("granule", args.granules, args.granule_mb),
                ("tile", args.tiles, args.tile_mb),
            ):
                if count:
                    _run(components, kind, count, int(mb * 1024 * 1024), Path(tmp))
        finally:
            for shard in shards:
                ray.kill(shard)
            ray.shutdown()
            components.close()


def _run(components: Components, kind: str, count: int, size: int, tmp: Path) -> None:
    staging = tmp / f"staging-{kind}"
    staging.mkdir()
    made = [make_product(staging, kind, i, size) for i in range(count)]
    dropped: dict[str, datetime] = {}
    start = time.perf_counter()
    for product in made:  # a rename is how a production chain delivers atomically
        product.path.rename(components.settings.inbox / product.path.name)
        dropped[product.path.name] = datetime.now(UTC)
    published = _wait_for(components, set(dropped), timeout=3600)
    elapsed = time.perf_counter() - start
    latencies = sorted((published[n] - dropped[n]).total_seconds() for n in dropped)
    total_mb = sum(p.size for p in made) / 1e6
    print(
        f"{kind:8} n={count:5d} size={size / 1e6:8.1f} MB  {count / elapsed:8.2f} products/s "
        f"{total_mb / elapsed:8.1f} MB/s  latency p50={_pct(latencies, 50):6.2f}s "
        f"p95={_pct(latencies, 95):6.2f}s max={latencies[-1]:6.2f}s"
    )


def _wait_for(components: Components, names: set[str], timeout: float) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    found: dict[str, datetime] = {}
    while time.monotonic() < deadline:
        for name in names - found.keys():
            product = components.products.by_name(name)
            if product is not None:
                found[name] = product.publication_date
        if len(found) == len(names):
            return found
        rejected = list(components.settings.quarantine.glob("*.reason.json"))
        if rejected:
            raise SystemExit(f"products were rejected: {rejected[0].read_text()}")
        time.sleep(0.1)
    raise SystemExit(f"only {len(found)} of {len(names)} published within {timeout}s")


def _pct(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _settings(tmp: Path, args: argparse.Namespace) -> Settings:
    return load_settings(
        data_dir=tmp / "prip",
        db={"url": args.db_url},
        ingest={
            "shards": args.shards,
            "qc_workers_min": args.workers,
            "qc_workers_max": args.workers,
            "qc_worker_cpus": args.cpus / (args.shards * args.workers),
            "poll_interval_s": 0.1,
            "settle_s": 0,
            "max_in_flight": 4 * args.workers,
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
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="QC workers per shard")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--db-url", default=None, help="default: SQLite in a temp folder")
    return parser.parse_args()


if __name__ == "__main__":
    main()
