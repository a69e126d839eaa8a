"""Catalogue export of a large catalogue: time, size and the process's peak memory.

Uses the database benchmarks/odata.py loads (1M products, 15 attributes each):

    .venv/bin/python -m benchmarks.export --db-url postgresql://postgres@127.0.0.1:5432/prip_bench_odata
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db-url", default="postgresql://postgres@127.0.0.1:5432/prip_bench_odata")
    args = parser.parse_args()
    settings = load_settings(
        data_dir=Path(tempfile.mkdtemp(prefix="prip-bench-export-")), db={"url": args.db_url}
    )
    components = Components(settings)
    components.migrate()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    record = components.exporter().export()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"exported {record.count} products in {elapsed:.0f} s ({record.count / elapsed:.0f}/s), "
        f"{record.size / 1e6:.0f} MB gzip'd; peak RSS {peak / 1024:.0f} MiB "
        f"({(peak - before) / 1024:.0f} MiB above the start)"
    )


if __name__ == "__main__":
    main()
