"""`prip-ray up` on the embedded default as a user starts it: the time from launch to the
first answered search, the start broken down as `up` logs it, and the memory (RSS) of every
process it runs, idle, per process and in total, beside the CPU time each has used so far
(mostly its start: on a machine of few cores, where a start's time goes whatever the load).

    .venv/bin/python -m benchmarks.footprint                    # HAProxy, the default
    .venv/bin/python -m benchmarks.footprint --ingress serve    # Serve's proxy
    .venv/bin/python -m benchmarks.footprint --replicas 1   # main before #18: the proxy
    .venv/bin/python -m benchmarks.footprint --busy-s 120       # and its peak under work

``--busy-s`` then keeps it busy as the soak does, for that long: the day's mix of products
(benchmarks/day_mix.py, sizes scaled by ``--byte-scale``) dropped into its inbox at
``--rate`` a second, while four clients search; memory is sampled every 2 s and the sample
of the highest total PSS is printed, per process, beside the products published.

RSS counts pages shared between processes (the Python runtime, Ray's libraries) once per
process: its total is an upper bound. PSS gives each process its share of the shared pages:
its total is what the machine gives the PRIP.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import psutil

from benchmarks.day_mix import DayMix, drop
from benchmarks.launched_up import LaunchedUp, launched_up, load_average
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password
from prip_ray.domain.users import QuotaOverrides

USER, PASSWORD = "bench", "bench-password"


def main() -> None:
    args = _arguments()
    work = Path(tempfile.mkdtemp(prefix="prip-bench-footprint-"))
    components = Components(load_settings(data_dir=work))
    components.migrate()
    components.users.add(USER, hash_password(PASSWORD), "catalogue")
    # the busy phase's searching clients measure memory, not the rate quota (2000/min)
    components.users.set_quotas(USER, QuotaOverrides(requests_per_minute=10_000_000))
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
            _print_memory(_memory(up.process.pid))
            if args.busy_s > 0:
                _busy(up, work / "inbox", args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


Sizes = dict[str, list[tuple[int, int, float]]]  # kind: (RSS, PSS, CPU s) of each process


def _memory(root: int) -> Sizes:
    """RSS, PSS and CPU seconds of ``up`` and every process under it, by kind."""
    kinds: Sizes = defaultdict(list)
    parent = psutil.Process(root)
    for process in [parent, *parent.children(recursive=True)]:
        try:
            memory, cpu = process.memory_full_info(), process.cpu_times()
            pss = getattr(memory, "pss", memory.rss)
            kinds[_kind(process)].append((memory.rss, pss, cpu.user + cpu.system))
        except psutil.NoSuchProcess:
            continue
    return kinds


def _print_memory(kinds: Sizes) -> None:
    print(f"\n{'process':44} {'count':>5} {'RSS MB':>8} {'PSS MB':>8} {'CPU s':>7}")
    for kind, sizes in sorted(kinds.items(), key=lambda kv: -sum(r for r, _, _ in kv[1])):
        print(f"{kind[:44]:44} {len(sizes):>5} {_sums(sizes)}")
    print(f"{'total':44} {len(_every(kinds)):>5} {_sums(_every(kinds))}")


def _every(kinds: Sizes) -> list[tuple[int, int, float]]:
    return [size for sizes in kinds.values() for size in sizes]


def _busy(up: LaunchedUp, inbox: Path, args: argparse.Namespace) -> None:
    """Products into the inbox and searches for ``args.busy_s``; the peak sample printed."""
    stop = time.monotonic() + args.busy_s
    dropped, searches = [0], [0]

    def producer() -> None:
        mix = DayMix(seed=7)
        while time.monotonic() < stop:
            kind, index, size = mix.next()
            drop(inbox, kind, index, size, args.byte_scale)
            dropped[0] += 1
            time.sleep(1 / args.rate)

    def client() -> None:
        with httpx.Client(auth=(USER, PASSWORD), timeout=60) as http:
            while time.monotonic() < stop:
                found = http.get(up.base + "odata/v1/Products", params={"$top": "20"})
                searches[0] += found.status_code == 200

    threads = [
        threading.Thread(target=producer),
        *(threading.Thread(target=client) for _ in range(4)),
    ]
    for thread in threads:
        thread.start()
    peak: Sizes = {}
    while time.monotonic() < stop:
        sample = _memory(up.process.pid)
        if not peak or _total_pss(sample) > _total_pss(peak):
            peak = sample
        time.sleep(2)
    for thread in threads:
        thread.join()
    with httpx.Client(auth=(USER, PASSWORD), timeout=60) as http:
        found = http.get(up.base + "odata/v1/Products", params={"$top": "0", "$count": "true"})
    found.raise_for_status()
    published = found.json()["@odata.count"]
    print(
        f"\nbusy {args.busy_s:.0f} s: {dropped[0]} products dropped (byte scale "
        f"{args.byte_scale}), {published} published, {searches[0]} searches answered; load "
        f"average "
        f"{load_average()}; the sample of highest total PSS:"
    )
    _print_memory(peak)


def _total_pss(kinds: Sizes) -> int:
    return sum(pss for _, pss, _ in _every(kinds))


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
    parser.add_argument("--busy-s", type=float, default=0, help="then busy this long")
    parser.add_argument("--rate", type=float, default=10, help="products a second, when busy")
    parser.add_argument(
        "--byte-scale", type=float, default=0.01, help="real product sizes times this"
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
