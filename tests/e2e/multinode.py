"""The test side of a multi-node Ray cluster (tests/e2e/multinode_host.py, a process of its
own): a pipe to the host process, and what a download client does against its gateways."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from prip_ray.config import Settings
from prip_ray.local_ray import LOOPBACK_ONLY

ROOT = Path(__file__).parents[2]


class Host:
    """The cluster process: one JSON command per line in, one JSON answer per line out.

    ``settings`` go to it in a file; secrets (which a dump of the settings masks) go in
    ``environ``, as ``PRIP_*`` variables, the way an operator passes them."""

    def __init__(
        self, settings: Settings, directory: Path, environ: Mapping[str, str] | None = None
    ):
        settings_file = directory / "prip.yaml"
        settings_file.write_text(yaml.safe_dump(settings.model_dump(mode="json")))
        # Every Ray port on loopback, as prip_ray/local_ray.py does for `prip-ray up`.
        env = {**os.environ, "RAY_AUTH_MODE": "disabled", **LOOPBACK_ONLY, **(environ or {})}
        self.log = directory / "host.log"
        self._log = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.multinode_host", str(settings_file)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    def read(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 1)
            if not ready:
                assert self.process.poll() is None, self.log.read_text()[-3000:]
                continue
            line = self.process.stdout.readline()
            assert line, self.log.read_text()[-3000:]
            if line.startswith("{"):  # anything else is Ray talking
                return dict(json.loads(line))
        raise AssertionError(f"no answer from the cluster host in {timeout} s")

    def ask(self, timeout: float = 60, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.read(timeout)
        assert "error" not in answer, answer["error"]
        return answer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask(timeout=60, cmd="stop")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def node_of(gateways: dict[str, str], location: str) -> str:
    """The node whose gateway ``location`` points at."""
    base = "{0.scheme}://{0.netloc}".format(urlsplit(location))
    (node,) = [node for node, url in gateways.items() if url == base]
    return node


def on_gateway(gateways: dict[str, str], node: str, location: str) -> str:
    """The same ticket URL, on another node's gateway."""
    return gateways[node] + urlsplit(location).path


def retry_download(api: httpx.Client, path: str, within_s: float) -> tuple[str, str, float]:
    """What a client does: GET ``$value`` again until the bytes come; (location, MD5, s)."""
    started = time.monotonic()
    failures: list[str] = []
    while time.monotonic() - started < within_s:
        try:
            redirect = api.get(path)
            if redirect.status_code == 307:
                location = redirect.headers["location"]
                digest = hashlib.md5()
                with httpx.stream("GET", location, timeout=30) as got:
                    if got.status_code == 200:
                        for chunk in got.iter_raw(1 << 20):
                            digest.update(chunk)
                        return location, digest.hexdigest(), time.monotonic() - started
                    failures.append(f"gateway {got.status_code}")
            else:
                failures.append(f"$value {redirect.status_code}")
        except httpx.HTTPError as e:
            failures.append(type(e).__name__)
        time.sleep(0.5)
    raise AssertionError(f"no download within {within_s} s: {failures}")
