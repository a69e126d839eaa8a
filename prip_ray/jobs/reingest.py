"""Bulk re-ingestion as a Ray job, spread over the cluster:

    ray job submit --working-dir . -- python -m prip_ray.jobs.reingest SOURCE \\
        [--since DATE] [--until DATE] [--product-type T ...] [--config prip.yaml]

SOURCE is a folder or ``s3://bucket/prefix``. Products already published are verified, not
duplicated. Every final outcome is appended to a checkpoint file, so a run that was
interrupted resumes where it stopped (``--restart`` ignores the checkpoint). Progress shows
as a bar on a terminal and as a log line every few seconds in the job logs; a summary
(published, verified, skipped, rejected with reasons) ends the run. Exit status: 0 when every
product ended published, verified or skipped; 1 when some were rejected or must be retried.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ray
from ray.util import ActorPool
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from prip_ray.actors.cluster import connect
from prip_ray.actors.reingest_worker import ReingestWorker
from prip_ray.bootstrap import Components
from prip_ray.config import Settings, load_settings
from prip_ray.domain.reingest import FINAL, Selection, Tally
from prip_ray.errors import PripError
from prip_ray.storage.sources import open_source

LOG_EVERY_S = 5.0


def _date(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m prip_ray.jobs.reingest", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("source", help="a folder, or s3://bucket/prefix")
    parser.add_argument("--since", type=_date, help="products whose sensing date is >= this")
    parser.add_argument("--until", type=_date, help="products whose sensing date is < this")
    parser.add_argument(
        "--product-type", action="append", default=[], help="e.g. MSI_L0__GR (repeatable)"
    )
    parser.add_argument("--config", type=Path, help="the PRIP's YAML or TOML settings file")
    parser.add_argument("--data-dir", type=Path, help="the embedded default's instance folder")
    parser.add_argument("--workers", type=int, help="parallel workers [the cluster's CPUs]")
    parser.add_argument("--checkpoint", type=Path, help="where finished names are recorded")
    parser.add_argument("--restart", action="store_true", help="ignore an earlier checkpoint")
    parser.add_argument("--max-products", type=int, help="stop after this many (a slice)")
    return parser.parse_args(argv)


class Checkpoint:
    """Final outcomes as JSON Lines; names found in it are skipped by a resumed run."""

    def __init__(self, path: Path, restart: bool):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if restart:
            path.unlink(missing_ok=True)
        self.done: set[str] = set()
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    self.done.add(json.loads(line)["name"])
        self._out = path.open("a")

    def record(self, outcome: dict[str, Any]) -> None:
        if outcome["status"] in FINAL:
            self._out.write(json.dumps(outcome) + "\n")
            self._out.flush()

    def close(self) -> None:
        self._out.close()


def default_checkpoint(settings: Settings, args: argparse.Namespace) -> Path:
    run = json.dumps(
        [args.source, str(args.since), str(args.until), sorted(args.product_type)]
    ).encode()
    return settings.work_dir / "reingest" / f"run-{hashlib.sha1(run).hexdigest()[:12]}.jsonl"


def run(argv: Sequence[str] | None = None, console: Console | None = None) -> Tally:
    args = parse_args(argv)
    console = console or Console()
    settings = load_settings(args.config, data_dir=args.data_dir)
    Components(settings).migrate()
    source = open_source(args.source, settings.store.s3)
    selection = Selection(args.since, args.until, frozenset(args.product_type))
    checkpoint = Checkpoint(args.checkpoint or default_checkpoint(settings, args), args.restart)
    tally = Tally()
    todo = []
    for name in source.names():
        if not selection.admits(name):
            continue
        if name in checkpoint.done:
            tally.add("skipped", name)
        else:
            todo.append(name)
    if args.max_products is not None:
        todo = todo[: args.max_products]
    connect(settings)
    workers = args.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    console.print(
        f"re-ingesting {len(todo)} products from {args.source} with {workers} workers "
        f"({tally.counts['skipped']} done in an earlier run; checkpoint {checkpoint.path})"
    )
    try:
        for outcome in _outcomes(settings, args.source, todo, workers, console):
            checkpoint.record(outcome)
            tally.add(outcome["status"], outcome["name"], outcome["reason"], outcome["size"])
    finally:
        checkpoint.close()
    _summary(console, tally)
    return tally


def _outcomes(
    settings: Settings, source: str, todo: list[str], workers: int, console: Console
) -> Iterator[dict[str, Any]]:
    if not todo:
        return
    cpus = settings.ingest.qc_worker_cpus
    worker = ray.remote(num_cpus=cpus, max_restarts=-1, max_task_retries=2)(ReingestWorker)
    pool = ActorPool([worker.remote(settings, source) for _ in range(min(workers, len(todo)))])
    started = last_log = time.monotonic()
    done = volume = 0
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        bar = progress.add_task("re-ingesting", total=len(todo))
        for outcome in pool.map_unordered(lambda a, name: a.reingest.remote(name), todo):
            done += 1
            volume += outcome["size"]
            progress.advance(bar)
            if outcome["status"] in ("rejected", "retry"):
                console.print(f"{outcome['status']:9} {outcome['name']}: {outcome['reason']}")
            now = time.monotonic()
            if not console.is_terminal and (now - last_log >= LOG_EVERY_S or done == len(todo)):
                last_log = now
                rate = done / max(now - started, 1e-9)
                console.print(
                    f"progress {done}/{len(todo)}  {rate:.1f} products/s  "
                    f"{volume / max(now - started, 1e-9) / 1e6:.1f} MB/s"
                )
            yield outcome


def _summary(console: Console, tally: Tally) -> None:
    console.print(f"summary: {tally.line()} ({tally.bytes / 1e6:.1f} MB read)")
    for name, reason in sorted(tally.reasons.items()):
        console.print(f"  {name}: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        tally = run(argv)
    except PripError as e:
        print(f"reingest: {e}", file=sys.stderr)
        return 2
    return 1 if tally.counts["rejected"] or tally.counts["retry"] else 0


if __name__ == "__main__":
    sys.exit(main())
