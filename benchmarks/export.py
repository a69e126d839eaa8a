"""Catalogue export of a large catalogue: time, size and the process's peak memory.

Uses the database benchmarks/odata.py loads (1M products, 15 attributes each), or with
``--load N`` first loads N of the same synthetic products into an empty database:

    .venv/bin/python -m benchmarks.export --db-url postgresql://postgres@127.0.0.1:5432/prip_bench_odata
    .venv/bin/python -m benchmarks.export --db-url postgresql://postgres@127.0.0.1:5432/x --load 500
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.catalogue_rows import load
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/prip_bench_odata")
    parser.add_argument(
        "--load", type=int, default=0, help="COPY this many synthetic products in first"
    )
    args = parser.parse_args()
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="prip-bench-export-")), db={"url": args.db_url}
    )
    components = Components(settings)
    components.migrate()
    if args.load:
        for _ in load(args.db_url, args.load):  # it yields its progress
            pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    record = components.exporter().export()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"exported {record.count} products in {elapsed:.1f} s ({record.count / elapsed:.0f}/s), "
        f"{record.size / 1e6:.2f} MB gzip'd; peak RSS {peak / 1024:.0f} MiB "
        f"({(peak - before) / 1024:.0f} MiB above the start)"
    )


if __name__ == "__main__":
    main()
