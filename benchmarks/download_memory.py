"""Download memory: stream a large product through Ray Serve and watch the replica's RSS.

Ingests one synthetic tile of --gb gigabytes into a local store, serves the API on a local
Ray as `prip-ray up` does (OData on Serve, bytes from the download gateway), downloads the
product over loopback (whole, then a 1 GiB range) while sampling the resident memory of the
Serve replica, the Serve proxy and the gateway, and prints how much each grew.

    .venv/bin/python -m benchmarks.download_memory --gb 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a loopback-only benchmark cluster

import httpx
import psutil
import ray

from prip_ray.actors.factory import start_download_gateways
from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password
from prip_ray.serve.deployment import deploy, undeploy
from prip_ray.synthetic import make_product

GIB = 1 << 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=5.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="prip-bench-download-"))
    try:
        _run(root, int(args.gb * GIB))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(root: Path, size: int) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        data_dir=root / "prip", api={"port": port, "min_replicas": 1, "max_replicas": 1}
    )
    components = Components(settings)
    components.migrate()
    components.users.add("bench", hash_password("bench-pw"), "download")
    started = time.perf_counter()
    product = make_product(root, "tile", 0, size)
    outcome = components.ingest.ingest(product.path)
    print(
        f"ingested {product.size / GIB:.2f} GiB in {time.perf_counter() - started:.1f} s: "
        f"{outcome.status}"
    )
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    start_download_gateways(settings)  # as `prip-ray up` does
    url = deploy(settings)
    try:
        processes = _serve_processes()
        for label, headers in (("whole", {}), ("1 GiB range", {"Range": f"bytes=0-{GIB - 1}"})):
            _download(url, outcome.product_id or "", headers, processes, label)
    finally:
        undeploy()
        ray.shutdown()
        components.close()


def _serve_processes() -> dict[str, psutil.Process]:
    """Ray names its worker processes after the actor they run (ray::ServeReplica:...).
    Only this run's (its Ray is a child of this process), not another Ray's on the machine."""
    found = {}
    for process in psutil.Process().children(recursive=True):
        try:
            title = " ".join(process.cmdline())
        except psutil.Error:  # gone meanwhile
            continue
        if title.startswith("ray::ServeReplica"):
            found["replica"] = process
        elif title.startswith("ray::ProxyActor"):
            found["proxy"] = process
        elif title.startswith("ray::DownloadGatewayActor"):
            found["gateway"] = process
    return found


def _download(
    url: str,
    product_id: str,
    headers: dict[str, str],
    processes: dict[str, psutil.Process],
    label: str,
) -> None:
    before = {name: p.memory_info().rss for name, p in processes.items()}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for name, process in processes.items():
                peak[name] = max(peak[name], process.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = 0
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{url}Products({product_id})/$value",
        headers=headers,
        auth=("bench", "bench-pw"),
        timeout=600,
        follow_redirects=True,  # $value answers 307 to the download gateway
    ) as response:
        for chunk in response.iter_bytes(1 << 20):
            received += len(chunk)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    growth = ", ".join(f"{n} RSS +{(peak[n] - before[n]) / (1 << 20):.1f} MiB" for n in processes)
    print(
        f"{label:12} {received / GIB:6.2f} GiB in {elapsed:5.1f} s "
        f"({received / elapsed / (1 << 20):6.0f} MiB/s); {growth}"
    )


if __name__ == "__main__":
    main()
