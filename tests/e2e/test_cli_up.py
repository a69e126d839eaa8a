"""`prip-ray up` as a user runs it: a separate process with its own local Ray, stopped by
SIGTERM. (It starts a second Ray instance beside the test session's; both are loopback.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.passwords import hash_password
from tests.e2e.running import free_port
from tests.waiting import wait_until


def test_up_serves_the_api_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    components = Components(load_settings(data_dir=tmp_path))
    components.migrate()
    components.users.add("ops", hash_password("ops-pw"), "admin")
    components.close()
    log = tmp_path / "up.log"
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PRIP_INGEST__SHARDS": "1"}
    command = [
        sys.executable,
        "-m",
        "prip_ray",
        "up",
        "--data-dir",
        str(tmp_path),
        "--port",
        str(port),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until(lambda: "PRIP is up" in log.read_text() or process.poll() is not None, 180)
        output = log.read_text()
        assert "PRIP is up" in output, output
        assert str(tmp_path / "inbox") in output
        assert f"http://127.0.0.1:{port}/odata/v1/" in output
        answer = httpx.get(f"http://127.0.0.1:{port}/odata/v1/Products", auth=("ops", "ops-pw"))
        assert answer.status_code == 200
        assert answer.json()["value"] == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0
        assert "PRIP stopped" in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
