"""A multi-node Ray cluster on this machine running the PRIP's downloads, driven over pipes.

``python -m tests.e2e.multinode_host <settings file>`` starts, with ``ray.cluster_utils``, a
head node without CPUs and two worker nodes (three raylets, all on 127.0.0.1), a download
gateway on each node, the service host (the gateway supervisor, and the Tracer, HKTM
forwarder and Roller singletons where configured) and the API on Serve (one replica, which
lands on a worker, proxy on the head), then prints one JSON line describing the cluster. It
then reads one JSON command per line on stdin and answers each with one JSON line on stdout:
``state``, ``start_services`` (the ingest shards), ``placement`` (the node of each shard,
of the service host and of each QC worker alive), ``stats`` (of a shard or a singleton),
``remove`` (a worker node, killed without grace), ``kill_gateway`` and ``stop``.

The workers offer every resource of ``ray.service_resources`` (the head none), so shards and
the service host, which need one, run on the workers, and a lost worker takes its share.

It runs in a process of its own because a process connects to one Ray at a time and the
test session's shared Ray (tests/fixtures/ray_cluster.py) may already be up in pytest's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import ray
from ray import serve
from ray._private import ray_constants
from ray.cluster_utils import Cluster

from prip_ray.actors.factory import (
    configured_services,
    download_gateway_names,
    start_download_gateways,
    start_ingestion,
    start_service_host,
    stop_download_gateways,
)
from prip_ray.actors.names import (
    DOWNLOAD_GATEWAY,
    GATEWAY_SUPERVISOR,
    HKTM_FORWARDER,
    ROLLER,
    TRACER,
    gateway_name,
)
from prip_ray.actors.service_handle import find_service
from prip_ray.config import Settings, load_settings
from prip_ray.serve.deployment import deploy

NODE = {"object_store_memory": 80 * 1024 * 1024, "include_dashboard": False}
# A node that dies without a word is declared dead after about 2 s instead of about 15.
FAST_HEALTH_CHECKS = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}


def _gateways(settings: Settings) -> dict[str, str]:
    """Node id -> address of the gateways Ray lists (one that does not answer is left out)."""
    namespace, prefix = settings.ray.namespace, f"{DOWNLOAD_GATEWAY}-"
    found = {}
    for name in download_gateway_names(namespace):
        with contextlib.suppress(Exception):  # dying, or its node is
            handle = ray.get_actor(name, namespace=namespace)
            found[name.removeprefix(prefix)] = ray.get(handle.address.remote(), timeout=5)
    return found


def _replica_nodes() -> list[str]:
    return [
        actor["Address"]["NodeID"]
        for actor in ray._private.state.actors().values()  # debugging API: test code only
        if actor["State"] == "ALIVE" and actor["ActorClassName"].startswith("ServeReplica:prip")
    ]


def _placement(settings: Settings) -> dict[str, str]:
    """Name -> node id of the shards and the service host alive now (not the gateways)."""
    return {
        actor["Name"]: actor["Address"]["NodeID"]
        for actor in ray._private.state.actors().values()  # debugging API: test code only
        if actor["State"] == "ALIVE"
        and actor["Name"].startswith("prip-")
        and not actor["Name"].startswith(DOWNLOAD_GATEWAY)
    }


def _qc_workers() -> list[str]:
    """The node id of each QC worker alive now (anonymous actors: by class)."""
    return [
        actor["Address"]["NodeID"]
        for actor in ray._private.state.actors().values()  # debugging API: test code only
        if actor["State"] == "ALIVE" and actor["ActorClassName"] == "QcWorker"
    ]


HOSTED = (GATEWAY_SUPERVISOR, TRACER, HKTM_FORWARDER, ROLLER)


def _start_host(settings: Settings) -> Any:
    """The service host with the supervisor and, where configured, the Tracer, HKTM
    forwarder and Roller."""
    return start_service_host(settings, [s for s in configured_services(settings) if s in HOSTED])


def _start_services(settings: Settings) -> list[Any]:
    shards = start_ingestion(settings)
    ray.get([shard.stats.remote() for shard in shards], timeout=120)  # all placed
    return shards


def _stats(settings: Settings, name: str) -> dict[str, Any]:
    namespace = settings.ray.namespace
    handle = find_service(name, namespace) if name in HOSTED else ray.get_actor(name, namespace)
    return dict(ray.get(handle.stats.remote(), timeout=30))


def _state(cluster: Cluster, settings: Settings, api: str) -> dict[str, Any]:
    return {
        "api": api,
        "head": cluster.head_node.node_id,
        "workers": sorted(node.node_id for node in cluster.worker_nodes),
        "gateways": _gateways(settings),
        "replica_nodes": _replica_nodes(),
    }


def _lose(cluster: Cluster, node: Any) -> None:
    """The node's machine is gone: its raylet and every worker process on it die at once.
    (remove_node alone kills the raylet; its workers would notice and exit a while later.)"""
    (raylet,) = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET]
    workers = psutil.Process(raylet.process.pid).children(recursive=True)
    for worker in workers:
        with contextlib.suppress(psutil.NoSuchProcess):
            worker.kill()
    cluster.remove_node(node, allow_graceful=False)
    psutil.wait_procs(workers, timeout=10)


def _answer(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def _cluster(settings: Settings, attempts: int = 2) -> Cluster:
    """A head without CPUs and two workers. Ray gives a raylet 30 s (fixed) to register; on a
    machine loaded far beyond its cores that is not always enough, so once more."""
    services = {name: 1000.0 for name in settings.ray.service_resources}
    for attempt in range(attempts):
        cluster = Cluster(shutdown_at_exit=True)
        try:
            cluster.add_node(**NODE, num_cpus=0, _system_config=FAST_HEALTH_CHECKS)
            for _ in range(2):
                cluster.add_node(**NODE, num_cpus=1, resources=services)
            cluster.wait_for_nodes()
            return cluster
        except Exception as e:
            print(f"cluster start failed ({e}); attempt {attempt + 1}", file=sys.stderr)
            cluster.shutdown()
    raise RuntimeError("the cluster did not start")


def main(settings_file: Path) -> None:
    settings = load_settings(settings_file)
    cluster = _cluster(settings)
    ray.init(address=cluster.address, namespace=settings.ray.namespace, log_to_driver=False)
    api = settings.api
    # One proxy: on a single host every node's proxy would want the same port.
    serve.start(proxy_location="HeadOnly", http_options={"host": api.host, "port": api.port})
    start_download_gateways(settings)
    host = _start_host(settings)  # kept: Ray ends an unreferenced actor
    url = deploy(settings)
    services: list[Any] = []  # kept: Ray ends an actor whose handles are all gone
    _answer(_state(cluster, settings, url))
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "state":
            _answer(_state(cluster, settings, url))
        elif command["cmd"] == "start_services":
            services = _start_services(settings)
            _answer({"placement": _placement(settings)})
        elif command["cmd"] == "placement":
            _answer({"placement": _placement(settings), "qc_workers": _qc_workers()})
        elif command["cmd"] == "stats":
            try:
                _answer({"stats": _stats(settings, command["name"])})
            except Exception as e:  # restarting, or its node is gone: the test asks again
                _answer({"stats": None, "why": repr(e)})
        elif command["cmd"] == "remove":
            (node,) = [n for n in cluster.worker_nodes if n.node_id == command["node"]]
            started = time.monotonic()
            _lose(cluster, node)
            _answer({"removed": node.node_id, "took_s": time.monotonic() - started})
        elif command["cmd"] == "kill_gateway":
            handle = ray.get_actor(gateway_name(command["node"]), namespace=settings.ray.namespace)
            ray.kill(handle, no_restart=True)
            _answer({"killed": command["node"]})
        elif command["cmd"] == "stop":
            break
    for handle in [host, *services]:
        ray.kill(handle)
    stop_download_gateways(settings)
    ray.shutdown()
    cluster.shutdown()  # every node's processes, Serve's included
    _answer({"stopped": True})


if __name__ == "__main__":
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    main(Path(sys.argv[1]))
