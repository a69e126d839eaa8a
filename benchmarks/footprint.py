"""`prip-ray up` on the embedded default as a user starts it: the time from launch to the
first answered search, the start broken down as `up` logs it, and the memory (RSS) of every
process it runs, idle, per process and in total, beside the CPU time each has used so far
(mostly its start: on a machine of few cores, where a start's time goes whatever the load).

    .venv/bin/python -m benchmarks.footprint                    # HAProxy, the default
    .venv/bin/python -m benchmarks.footprint --ingress serve    # Serve's proxy
    .venv/bin/python -m benchmarks.footprint --replicas 1   # main before #18: the proxy

RSS counts pages shared between processes (the Python runtime, Ray's libraries) once per
process: its total is an upper bound. PSS gives each process its share of the shared pages:
its total is what the machine gives the PRIP.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psutil

from benchmarks.launched_up import launched_up, load_average
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password

USER, PASSWORD = "bench", "bench-password"


def main() -> None:
    args = _arguments()
    work = Path(tempfile.mkdtemp(prefix="prip-bench-footprint-"))
    components = Components(load_settings(data_dir=work))
    components.migrate()
    components.users.add(USER, hash_password(PASSWORD), "catalogue")
    components.close()
    env = {
        "PRIP_API__MIN_REPLICAS": str(args.replicas),
        "PRIP_API__MAX_REPLICAS": str(args.replicas),
    }
    if args.ingress:  # unset: up's default (and a prip-ray from before the setting runs too)
        env["PRIP_API__INGRESS"] = args.ingress
    try:
        with launched_up(work, env) as up:
            first = up.first_answer((USER, PASSWORD))
            up.wait_until_up()
            print(
                f"ingress: {up.ingress()}, {args.replicas} replicas; load average {load_average()}"
            )
            print(f"first answered search: {first:.1f} s after launch")
            print(f"PRIP is up: {time.monotonic() - up.began:.1f} s after launch")
            started = re.search(r"started in .*?\)", " ".join(up.output().split()))
            print(f"up's own account: {started.group(0) if started else '(none)'}")
            time.sleep(args.idle_s)
            _print_memory(up.process.pid)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _print_memory(root: int) -> None:
    """RSS, PSS and CPU seconds of ``up`` and every process under it, summed per kind."""
    kinds: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    parent = psutil.Process(root)
    for process in [parent, *parent.children(recursive=True)]:
        try:
            memory, cpu = process.memory_full_info(), process.cpu_times()
            pss = getattr(memory, "pss", memory.rss)
            kinds[_kind(process)].append((memory.rss, pss, cpu.user + cpu.system))
        except psutil.NoSuchProcess:
            continue
    print(f"\n{'process':44} {'count':>5} {'RSS MB':>8} {'PSS MB':>8} {'CPU s':>7}")
    for kind, sizes in sorted(kinds.items(), key=lambda kv: -sum(r for r, _, _ in kv[1])):
        print(f"{kind[:44]:44} {len(sizes):>5} {_sums(sizes)}")
    every = [size for sizes in kinds.values() for size in sizes]
    print(f"{'total':44} {len(every):>5} {_sums(every)}")


def _sums(sizes: list[tuple[int, int, float]]) -> str:
    mb = 2**20
    rss, pss, cpu = (sum(column) for column in zip(*sizes, strict=True))
    return f"{rss / mb:8.0f} {pss / mb:8.0f} {cpu:7.1f}"


def _kind(process: psutil.Process) -> str:
    name = process.name()
    if name.startswith("ray::"):
        return name
    command = " ".join(process.cmdline()[:4])
    for known in ("prip_ray up", "dashboard", "log_monitor", "monitor.py", "runtime_env"):
        if known in command:
            return f"{name} ({known})"
    return name


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingress", choices=["haproxy", "serve"], help="unset: up's default")
    parser.add_argument("--replicas", type=int, default=2, help="API replicas (min = max)")
    parser.add_argument("--idle-s", type=float, default=20, help="idle time before RSS")
    return parser.parse_args()


if __name__ == "__main__":
    main()
