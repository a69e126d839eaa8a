"""The RayService's ingress, Serve's HAProxy mode, with the PRIP's Serve config: the Ray
variables of kuberay/ray-service.yaml's pods, in a network namespace of its own because
HAProxy's stats and metrics ports bind every interface (tests/e2e/haproxy_app.py does the
work)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]


def _ray_variables_of_the_service() -> dict[str, str]:
    service = yaml.safe_load((ROOT / "kuberay" / "ray-service.yaml").read_text())
    head = service["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]
    (container,) = head["containers"]
    return {e["name"]: e["value"] for e in container["env"] if e["name"].startswith("RAY_")}


def _private_network_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


def test_search_through_serves_haproxy_ingress(tmp_path: Path) -> None:
    if not _private_network_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run this test: it needs unshare -n (root) and ip")
        pytest.skip("needs a network namespace of its own (unshare -n, as root)")
    shipped = _ray_variables_of_the_service()
    assert shipped.get("RAY_SERVE_ENABLE_HA_PROXY") == "1"
    env = {**os.environ, **shipped, "RAY_AUTH_MODE": "disabled", "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    command = f"ip link set lo up && exec {sys.executable} -m tests.e2e.haproxy_app {tmp_path}"
    done = subprocess.run(
        ["unshare", "-n", "bash", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ingress"] == ["haproxy"]  # port 8000 is HAProxy, not the proxy actor
    assert seen["search"] == [200, "4.0"] and len(seen["names"]) == 1
    assert seen["bad_filter"] == [400, "InvalidQuery"]
    assert seen["anonymous"] == 401
    assert seen["searches"] == [200]
    # A replica killed in a burst of searches: HAProxy retries what it dropped on the other
    # (RAY_SERVE_HAPROXY_RETRY_ON of the shipped RayService), so every search is answered.
    killed = seen["while_killing"]
    assert set(killed) == {"200"} and killed["200"] > 20, killed
