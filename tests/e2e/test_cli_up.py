"""`prip-ray up` as a user runs it: a separate process with its own local Ray, stopped by
SIGTERM. (It starts a second Ray instance beside the test session's.) Every port it and its
Ray open listens on loopback only (issue #15): whoever reaches Ray's ports can run code.
HAProxy answers on the API port and retries the searches a killed replica drops, also on
the replica Serve starts instead; two started at once both run, each on a Ray of its own
(issue #18)."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from benchmarks.launched_up import free_port_pair
from prip_ray.config import load_settings
from prip_ray.domain.users import QuotaOverrides
from tests.cheap_passwords import cheap_hash
from tests.e2e.replica_kill import statuses_while_killing
from tests.fixtures.components import BuildComponents
from tests.waiting import wait_until


def test_up_serves_the_api_and_stops_on_sigterm(
    tmp_path: Path, built_components: BuildComponents
) -> None:
    port = free_port_pair()
    components = built_components(load_settings(data_dir=tmp_path))
    components.migrate()
    components.users.add("ops", cheap_hash("ops-pw"), "admin")
    # two bursts of 16 clients can pass the default 2000 requests/min: the test is the kills
    components.users.set_quotas("ops", QuotaOverrides(requests_per_minute=10_000_000))
    components.close()  # before `prip up` opens the database; again, harmlessly, at teardown
    log = tmp_path / "up.log"
    process = _start_up(
        tmp_path,
        port,
        log,
        PRIP_INGEST__SHARDS="1",
        PRIP_RAY__DASHBOARD="true",  # the dashboard's ports are checked too
        PRIP_QUOTAS__REQUESTS_PER_MINUTE="100000",  # the bursts below are not throttled
    )
    try:
        wait_until(lambda: "PRIP is up" in log.read_text() or process.poll() is not None, 180)
        output = log.read_text()
        assert "PRIP is up" in output, output
        assert str(tmp_path / "inbox") in output
        assert f"http://127.0.0.1:{port}/odata/v1/" in output
        answer = httpx.get(f"http://127.0.0.1:{port}/odata/v1/Products", auth=("ops", "ops-pw"))
        assert answer.status_code == 200
        assert answer.json()["value"] == []
        assert answer.headers["Via"] == "1.1 prip-haproxy"
        assert "started in" in output and "HAProxy" in output.split("started in")[1], output
        listening = _listening(process.pid)
        assert [n for n, _, w in listening if w.endswith(f":{port}")] == ["haproxy"], listening
        kinds = {name for name, _, _ in listening}
        assert {"gcs_server", "raylet"} <= kinds, listening
        assert any(where.endswith(":8265") for _, _, where in listening), listening
        exposed = [(n, pid) for n, pid, w in listening if not _loopback(w.rsplit(":", 1)[0])]
        # The one port Ray 2.60 gives no way to move: each Serve replica's inter-deployment
        # gRPC server, hard-coded to [::]:0 (serve/_private/replica.py). Ray's token auth
        # (RAY_AUTH_MODE=token, its default, disabled in this test only) guards it.
        assert all(n.startswith("ray::ServeReplica:") for n, _ in exposed), exposed
        assert len({pid for _, pid in exposed}) == len(exposed), exposed  # one per replica
        first, second = _replicas(process.pid)
        assert _statuses_while_killing(port, first) == {"200"}
        wait_until(lambda: len(_replicas(process.pid)) == 2, 120)  # Serve replaced it
        # and HAProxy sends to the new one (it follows Serve every 0.5 s): killing the other
        # before would leave it no replica at all, which no retry can mend
        wait_until(lambda: _haproxy_targets(log) == 2, 30, "HAProxy to follow Serve")
        assert _statuses_while_killing(port, second) == {"200"}  # so HAProxy follows Serve
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
        assert "PRIP stopped" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()


def _start_up(data_dir: Path, port: int, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    """``prip-ray up --data-dir --port`` as a user starts it, with these settings in its
    environment, its output to ``log``; token auth off as for the suite's Ray."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", **settings}
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)  # `up` must set it itself
    env.pop("RAY_ADDRESS", None)
    command = [sys.executable, "-m", "prip_ray", "up", "--data-dir", str(data_dir)]
    with log.open("w") as out:
        return subprocess.Popen(
            [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def _haproxy_targets(log: Path) -> int:
    """How many replicas HAProxy sends to, as `up` last logged it."""
    told = [line for line in log.read_text().splitlines() if "HAProxy now sends to" in line]
    return len(told[-1].split("sends to", 1)[1].split(",")) if told else 0


def _replicas(root: int) -> list[int]:
    """The API replicas of ``up``'s Ray that serve HTTP on a port of their own."""
    replicas = [
        child
        for child in psutil.Process(root).children(recursive=True)
        if child.name().startswith("ray::ServeReplica:prip")
    ]
    return sorted(
        r.pid
        for r in replicas
        if any(
            c.status == psutil.CONN_LISTEN and c.laddr.ip == "127.0.0.1"
            for c in r.net_connections("tcp")
        )
    )


def _statuses_while_killing(port: int, replica: int) -> set[str]:
    """16 clients (the benchmark's count) search for 4 s; one second in, ``replica`` gets
    SIGKILL. The status of every answer, and the error of any request that got none."""
    url = f"http://127.0.0.1:{port}/odata/v1/Products"
    seen = statuses_while_killing(url, ("ops", "ops-pw"), replica)
    assert sum(seen.values()) > 20, seen  # a burst, not a few requests
    return set(seen)


def _listening(root: int) -> list[tuple[str, int, str]]:
    """(process name, pid, address:port) of every listening TCP socket of ``root``, of the
    processes it started (GCS, raylet, dashboard, agents, autoscaler monitor) and of
    theirs (workers, Serve's proxy and replicas)."""
    parent = psutil.Process(root)
    pids = {root} | {child.pid for child in parent.children(recursive=True)}
    found = []
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.pid in pids:
            name = psutil.Process(conn.pid).name()
            found.append((name, conn.pid, f"{conn.laddr.ip}:{conn.laddr.port}"))
    return sorted(set(found))


def _loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return (mapped or address).is_loopback


def test_a_second_up_on_a_taken_port_refuses_at_once(tmp_path: Path) -> None:
    """Another PRIP (or anything) on the API port: `up` says so before starting a Ray,
    instead of sharing the port or dying halfway through its start."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
        env.pop("RAY_ADDRESS", None)
        command = [sys.executable, "-m", "prip_ray", "up", "--data-dir", str(tmp_path)]
        began = time.monotonic()
        done = subprocess.run(
            [*command, "--port", str(port)], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"port {port} on 127.0.0.1 is in use" in done.stdout
    assert "Ray" not in done.stdout + done.stderr  # refused before starting one
    print(f"refused in {time.monotonic() - began:.1f} s")


def test_two_ups_started_at_once_both_run_and_one_stopping_leaves_the_other(
    tmp_path: Path, built_components: BuildComponents
) -> None:
    """Two instances side by side (issue #18): different data dirs and ports, started at
    the same moment, each with a Ray of its own; both answer, and stopping one leaves the
    other answering. As small as `up` allows: one shard, one replica each."""
    ups: list[tuple[int, Path, subprocess.Popen[bytes]]] = []
    try:
        for name in ("first", "second"):
            data_dir = tmp_path / name
            components = built_components(load_settings(data_dir=data_dir))
            components.migrate()
            components.users.add("ops", cheap_hash("ops-pw"), "admin")
            components.close()
        for name in ("first", "second"):  # as close together as two launches get
            port, log = free_port_pair(), tmp_path / f"{name}.log"
            ups.append((port, log, _start_up(tmp_path / name, port, log, **SMALLEST_UP)))
        for _, log, process in ups:
            wait_until(lambda log=log, up=process: _started_or_exited(log, up), 240)
            assert "PRIP is up" in log.read_text(), log.read_text()
        rays = [_ray_of(process.pid) for _, _, process in ups]
        assert rays[0] and rays[1] and not rays[0] & rays[1], rays  # a Ray each
        assert all(_search(port) == 200 for port, _, _ in ups)
        (_, first_log, first), (port, log, second) = ups
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 0, first_log.read_text()
        assert "PRIP stopped" in first_log.read_text()
        assert [_search(port) for _ in range(20)] == [200] * 20
        assert second.poll() is None and _ray_of(second.pid) == rays[1]
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=120) == 0, log.read_text()
    finally:
        for _, _, process in ups:
            if process.poll() is None:
                process.kill()


SMALLEST_UP = {
    "PRIP_INGEST__SHARDS": "1",
    "PRIP_API__MIN_REPLICAS": "1",
    "PRIP_API__MAX_REPLICAS": "1",
}


def _started_or_exited(log: Path, up: subprocess.Popen[bytes]) -> bool:
    return "PRIP is up" in log.read_text() or up.poll() is not None


def _ray_of(root: int) -> set[int]:
    """The pids of the GCS server and raylet ``root`` started."""
    return {
        child.pid
        for child in psutil.Process(root).children(recursive=True)
        if child.name() in ("gcs_server", "raylet")
    }


def _search(port: int) -> int:
    url = f"http://127.0.0.1:{port}/odata/v1/Products"
    return httpx.get(url, params={"$top": "1"}, auth=("ops", "ops-pw"), timeout=60).status_code
