"""`prip-ray up` started as a user starts it, for the benchmarks that measure the default
command (benchmarks/footprint.py, ``benchmarks/odata.py --ingress up``): its own process
and Ray, a data dir and a free port of loopback, settings from the environment, stopped by
SIGTERM."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

REPLICA = "ray::ServeReplica:prip:odata"  # the API replicas' process title


@dataclass(frozen=True)
class LaunchedUp:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    began: float  # time.monotonic() at launch

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        return self.log.read_text()

    def first_answer(self, auth: tuple[str, str], timeout: float = 600) -> float:
        """Seconds from launch to the first search answered 200. A long timeout per
        request: the first login runs scrypt (128 MiB) while the actors start; a client that
        gives up and asks again would start it over."""
        with httpx.Client(auth=auth, timeout=120) as http:
            while True:
                self._check_running(timeout)
                try:
                    answer = http.get(self.base + "odata/v1/Products", params={"$top": "1"})
                    if answer.status_code == 200:
                        return time.monotonic() - self.began
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)

    def wait_until_up(self, timeout: float = 600) -> None:
        """Until ``up`` says it is up: its API, shards, singletons and gateways started."""
        self.wait_for(lambda: "PRIP is up" in self.output(), timeout)

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> None:
        while not condition():
            self._check_running(timeout)
            time.sleep(0.2)

    def replicas(self) -> list[int]:
        """The pids of ``up``'s API replicas."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        return sorted(c.pid for c in children if c.name().startswith(REPLICA))

    def kill_a_replica(self) -> int:
        """SIGKILL to one API replica, as when its process dies (Serve starts another);
        returns its pid."""
        replica = self.replicas()[0]
        os.kill(replica, signal.SIGKILL)
        return replica

    def ingress(self) -> str:
        """What answers on the API port, as ``up`` printed it."""
        found = re.search(r"ingress: ([^;]+);", self.output())
        return found.group(1) if found else "Serve's proxy"

    def _check_running(self, timeout: float) -> None:
        if self.process.poll() is not None:
            raise SystemExit(f"prip-ray up exited with {self.process.returncode}:\n{self.output()}")
        if time.monotonic() - self.began > timeout:
            raise SystemExit(f"prip-ray up: nothing in {timeout:g} s after launch")


@contextmanager
def launched_up(data_dir: Path, settings: dict[str, str]) -> Iterator[LaunchedUp]:
    """``prip-ray up --data-dir DATA_DIR --port P`` with ``settings`` (``PRIP_...``
    variables) in its environment and its output in DATA_DIR/up.log; stopped on leaving."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # its own Ray
    env.update(settings)
    port, log = free_port_pair(), data_dir / "up.log"
    command = [sys.executable, "-m", "prip_ray", "up", "--data-dir", str(data_dir)]
    began = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        yield LaunchedUp(process, port, log, began)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(180)
        except subprocess.TimeoutExpired:
            process.kill()


# Ports for the servers started here, outside the kernel's ephemeral range (32768-60999),
# from which every outgoing connection takes its local port: a port bind(0) reported free
# could be such a connection's by the time a server binds it ("Failed to bind" in a full
# test run). Also clear of Ray's worker ports (10002-19999) and Serve's direct ingress
# (30000-31000).
SERVER_PORTS = range(20000, 30000)


def free_port() -> int:
    """A loopback port of ``SERVER_PORTS`` nothing listens on."""
    while True:
        port = random.choice(SERVER_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def free_port_pair() -> int:
    """A free port whose next one (the download gateway's) is free too."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages: figures of a busy machine say so."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
