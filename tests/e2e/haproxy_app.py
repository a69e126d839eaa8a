"""Run in a network namespace of its own by test_haproxy_ingress.py: a Ray of its own with
Serve's HAProxy ingress (as kuberay/ray-service.yaml sets it), the shipped Serve config on
it, and a few requests through port 8000. Prints what it saw as one JSON line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import ray
import yaml
from ray import serve
from ray.serve._private.api import serve_start
from ray.serve.schema import ServeDeploySchema

from prip_ray.bootstrap import Components
from prip_ray.config import load_settings
from prip_ray.domain.users import QuotaOverrides
from tests.cheap_passwords import cheap_hash
from tests.e2e.replica_kill import replicas_of, statuses_while_killing
from tests.samples import SAMPLES_DIR

SERVE_CONFIG = Path(__file__).parents[2] / "cluster" / "serve-config.yaml"
PORT = 8000
AUTH = ("lta", "lta-password")


def main(work: Path) -> None:
    config_file = work / "prip.yaml"
    config_file.write_text(yaml.safe_dump({"data_dir": str(work / "prip")}))
    settings = load_settings(config_file)
    components = Components(settings)
    components.migrate()
    components.users.add("lta", cheap_hash("lta-password"), "download")
    # 16 clients searching for 4 s pass the default 2000 requests/min: the test is the kill
    components.users.set_quotas("lta", QuotaOverrides(requests_per_minute=10_000_000))
    sample = sorted(SAMPLES_DIR.glob("S2B_*.tar"))[0]
    settings.inbox.mkdir(parents=True, exist_ok=True)
    target = settings.inbox / sample.name
    target.write_bytes(sample.read_bytes())
    assert components.ingest.ingest(target).status == "published"

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    document: dict[str, Any] = yaml.safe_load(SERVE_CONFIG.read_text())
    document["http_options"] = {"host": "127.0.0.1", "port": PORT}
    (application,) = document["applications"]
    application["args"] = {"config_file": str(config_file)}  # the API only
    (deployment,) = application["deployments"]
    deployment["autoscaling_config"].update(min_replicas=2, max_replicas=2)
    deployment["ray_actor_options"]["num_cpus"] = 0.1
    client = serve_start(http_options=document["http_options"])
    client.deploy_apps(ServeDeploySchema.model_validate(document), _blocking=True)

    seen: dict[str, Any] = {"haproxy_mode": os.environ.get("RAY_SERVE_ENABLE_HA_PROXY")}
    base = f"http://127.0.0.1:{PORT}/odata/v1/"
    with httpx.Client(auth=AUTH, timeout=30) as http:
        found = http.get(base + "Products", params={"$filter": f"Name eq '{sample.name}'"})
        seen["search"] = [found.status_code, found.headers.get("OData-Version")]
        seen["names"] = [p["Name"] for p in found.json().get("value", [])]
        bad = http.get(base + "Products", params={"$filter": "Name eq"})
        seen["bad_filter"] = [bad.status_code, bad.json().get("error", {}).get("code")]
        seen["anonymous"] = httpx.get(base + "Products", timeout=30).status_code
        seen["searches"] = sorted({http.get(base + "Products").status_code for _ in range(40)})
    seen["ingress"] = sorted(_listeners())
    first = replicas_of(os.getpid())[0]
    seen["while_killing"] = statuses_while_killing(base + "Products", AUTH, first)
    serve.shutdown()
    ray.shutdown()
    print(json.dumps(seen))


def _listeners() -> set[str]:
    """Who listens on port 8000 in this namespace (HAProxy, not Serve's proxy actor)."""
    import subprocess

    out = subprocess.run(["ss", "-ltnpH", f"sport = :{PORT}"], capture_output=True, text=True)
    return {part.split('"')[1] for part in out.stdout.split("users:((")[1:]}


if __name__ == "__main__":
    main(Path(sys.argv[1]))
