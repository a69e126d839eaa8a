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
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

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
    port = _free_port_pair()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(PRIP_API__MIN_REPLICAS=str(args.replicas), PRIP_API__MAX_REPLICAS=str(args.replicas))
    if args.ingress:  # unset: up's default (and a prip-ray from before the setting runs too)
        env["PRIP_API__INGRESS"] = args.ingress
    log = work / "up.log"
    command = [sys.executable, "-m", "prip_ray", "up", "--data-dir", str(work)]
    began = time.monotonic()
    with log.open("w") as out:
        up = subprocess.Popen(
            [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        first = _first_answer(f"http://127.0.0.1:{port}/odata/v1/Products", up, began)
        _wait_for(lambda: "PRIP is up" in log.read_text(), up, 600)
        ingress = re.search(r"ingress: ([^;]+);", log.read_text())
        front = ingress.group(1) if ingress else "Serve's proxy"
        print(f"ingress: {front}, {args.replicas} replicas; load average {_load()}")
        print(f"first answered search: {first:.1f} s after launch")
        print(f"PRIP is up: {time.monotonic() - began:.1f} s after launch")
        started = re.search(r"started in .*?\)", " ".join(log.read_text().split()))
        print(f"up's own account: {started.group(0) if started else '(none)'}")
        time.sleep(args.idle_s)
        _print_memory(up.pid)
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(180)
        except subprocess.TimeoutExpired:
            up.kill()
        shutil.rmtree(work, ignore_errors=True)


def _first_answer(url: str, up: subprocess.Popen[bytes], began: float) -> float:
    # A long timeout: the first login runs scrypt (128 MiB) while the actors start; a client
    # that gives up and asks again would start it over.
    with httpx.Client(auth=(USER, PASSWORD), timeout=120) as http:
        while True:
            if up.poll() is not None:
                raise SystemExit(f"prip-ray up exited with {up.returncode}")
            try:
                if http.get(url, params={"$top": "1"}).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                pass
            if time.monotonic() - began > 600:
                raise SystemExit("no answer in 600 s")
            time.sleep(0.1)


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


def _wait_for(condition: Callable[[], bool], up: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if up.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("prip-ray up did not come up")
        time.sleep(0.2)


def _free_port_pair() -> int:
    """A free port whose next one (the download gateway's) is free too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingress", choices=["haproxy", "serve"], help="unset: up's default")
    parser.add_argument("--replicas", type=int, default=2, help="API replicas (min = max)")
    parser.add_argument("--idle-s", type=float, default=20, help="idle time before RSS")
    return parser.parse_args()


if __name__ == "__main__":
    main()
