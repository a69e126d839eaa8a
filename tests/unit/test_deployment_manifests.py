"""Every deployment file checked offline, as the tools that read it would.

kuberay/*.yaml against the KubeRay CRD schemas (unknown keys are errors, see
tests/manifest_schema.py), the Serve config embedded in the RayService against Ray Serve's own
schema, cluster/ray-cluster.yaml through the cluster launcher's own validate_config, and the
settings, variables and Secret keys the manifests name against what prip-ray and the example
Secrets really have.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from ray.autoscaler._private.util import validate_config
from ray.serve.schema import ServeDeploySchema

from prip_ray.config import FLAT_ENV, Settings, load_settings
from tests.manifest_schema import load_documents, schema_errors

ROOT = Path(__file__).parents[2]
KUBERAY = sorted((ROOT / "kuberay").glob("*.yaml"))
LAUNCHER = ROOT / "cluster" / "ray-cluster.yaml"
SERVE_CONFIG = ROOT / "cluster" / "serve-config.yaml"


def _documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
        for path in KUBERAY
        for doc in load_documents(path)
    ]


DOCUMENTS = _documents()
BY_KIND: dict[str, list[dict[str, Any]]] = {}
for _, _doc in DOCUMENTS:
    BY_KIND.setdefault(_doc["kind"], []).append(_doc)


def _ray_version() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("ray[")]
    return pin.split("==")[1]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _cluster_specs(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    return spec.get("rayClusterConfig") or spec.get("rayClusterSpec") or spec


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    cluster = _cluster_specs(doc)
    groups = [cluster["headGroupSpec"], *cluster.get("workerGroupSpecs", [])]
    return [c for group in groups for c in group["template"]["spec"]["containers"]]


def test_the_manifests_hold_the_three_kuberay_kinds() -> None:
    assert {"RayService", "RayCluster", "RayJob", "ConfigMap", "Secret"} <= set(BY_KIND)
    assert "NetworkPolicy" in BY_KIND


@pytest.mark.parametrize("doc", [d for _, d in DOCUMENTS], ids=[n for n, _ in DOCUMENTS])
def test_manifest_matches_its_schema(doc: dict[str, Any]) -> None:
    assert schema_errors(doc) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "rayClusterConfig", "enableInTreeAutoscalng"), True),  # misspelt
        (("spec", "rayClusterConfig", "headGroupSpec", "template", "spec", "restartPolicy"), 3),
        (("spec", "rayClusterConfig", "autoscalerOptions", "version"), "v3"),
    ],
)
def test_the_schema_check_refuses_what_the_api_server_would_drop_or_refuse(
    path: tuple[str, ...], value: Any
) -> None:
    doc = copy.deepcopy(BY_KIND["RayService"][0])
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert schema_errors(doc) != []


def test_ray_images_and_versions_are_the_pinned_ray() -> None:
    version = _ray_version()
    for kind in ("RayService", "RayCluster", "RayJob"):
        for doc in BY_KIND[kind]:
            assert _cluster_specs(doc)["rayVersion"] == version
            for container in _containers(doc):
                assert container["image"].startswith(f"rayproject/ray:{version}-"), container
    launcher = yaml.safe_load(LAUNCHER.read_text())
    assert launcher["docker"]["image"].startswith(f"rayproject/ray:{version}-")


def test_embedded_serve_config_is_valid_and_is_the_shipped_one() -> None:
    (service,) = BY_KIND["RayService"]
    embedded = yaml.safe_load(service["spec"]["serveConfigV2"])
    ServeDeploySchema.model_validate(embedded)
    assert embedded == yaml.safe_load(SERVE_CONFIG.read_text())
    (application,) = embedded["applications"]
    assert application["args"]["start_actors"] is True  # the RayService runs the whole PRIP


def test_gcs_fault_tolerance_and_autoscaling_are_on_for_the_service() -> None:
    (service,) = BY_KIND["RayService"]
    cluster = service["spec"]["rayClusterConfig"]
    assert cluster["gcsFaultToleranceOptions"]["redisAddress"]
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["autoscalerOptions"]["version"] == "v2"


def test_every_pod_of_the_service_runs_serves_haproxy_ingress() -> None:
    """The controller and every replica must agree, or replicas get no direct-ingress port."""
    (service,) = BY_KIND["RayService"]
    for container in _containers(service):
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert env.get("RAY_SERVE_ENABLE_HA_PROXY") == "1", container["name"]
    (config_map,) = BY_KIND["ConfigMap"]
    settings = yaml.safe_load(config_map["data"]["prip.yaml"])
    assert settings["api"]["trusted_proxies"]  # HAProxy hides the client's address otherwise


def test_every_settings_file_loads_as_prip_settings(tmp_path: Path) -> None:
    for config_map in BY_KIND["ConfigMap"]:
        for name, text in config_map["data"].items():
            path = tmp_path / name
            path.write_text(text)
            settings = load_settings(path)
            assert settings.store.kind == "s3"


def test_every_ray_pod_exposes_its_download_gateway() -> None:
    """Each node runs a download gateway: head and worker pods alike declare its port."""
    (config_map,) = BY_KIND["ConfigMap"]
    api = yaml.safe_load(config_map["data"]["prip.yaml"])["api"]
    port = api.get("gateway_port") or api["port"] + 1
    for kind in ("RayService", "RayCluster"):
        for doc in BY_KIND[kind]:
            for container in _containers(doc):
                ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
                assert ports.get("gateway") == port, (kind, container["name"])


def _known_variable(name: str) -> bool:
    if name in FLAT_ENV:
        return True
    if not name.startswith("PRIP_"):
        return True  # not ours (Ray's, the shell's)
    model: type[BaseModel] = Settings
    for part in name.removeprefix("PRIP_").lower().split("__"):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return True


def test_every_prip_variable_in_the_manifests_is_a_setting() -> None:
    names = {
        env["name"]
        for _, doc in DOCUMENTS
        for node in _walk(doc)
        for env in node.get("env", [])
        if isinstance(env, dict)
    }
    assert names, "the pods get no PRIP_* settings"
    assert [n for n in sorted(names) if not _known_variable(n)] == []
    assert not _known_variable("PRIP_DB__URI")  # the check itself tells a typo


def test_every_secret_key_referenced_exists_in_the_example_secrets() -> None:
    provided = {
        (secret["metadata"]["name"], key)
        for secret in BY_KIND["Secret"]
        for key in {**secret.get("stringData", {}), **secret.get("data", {})}
    }
    referenced = {
        (ref["name"], ref["key"])
        for _, doc in DOCUMENTS
        for node in _walk(doc)
        for ref in [node.get("secretKeyRef")]
        if isinstance(ref, dict)
    }
    assert referenced and referenced <= provided
    mounted = {
        node["secret"]["secretName"]
        for _, doc in DOCUMENTS
        for node in _walk(doc)
        if "secret" in node
    }
    assert mounted <= {name for name, _ in provided}


def test_launcher_config_passes_rays_own_validation() -> None:
    config = yaml.safe_load(LAUNCHER.read_text())
    validate_config(config)
    head = config["available_node_types"][config["head_node_type"]]
    assert head["resources"]["CPU"] == 0
    config["available_node_types"]["qc"]["max_wokers"] = 3  # misspelt: refused, not dropped
    with pytest.raises(Exception, match="max_wokers"):
        validate_config(config)


def test_the_launcher_keeps_the_dashboard_on_loopback() -> None:
    """The dashboard's job API runs code for whoever reaches it (issue #15)."""
    config = yaml.safe_load(LAUNCHER.read_text())
    for commands in ("head_start_ray_commands", "worker_start_ray_commands"):
        text = " ".join(config[commands])
        assert "0.0.0.0" not in text and "::" not in text, text
    head = " ".join(config["head_start_ray_commands"])
    assert re.search(r"--dashboard-host[= ]127\.0\.0\.1(\s|$)", head), head


def _pod_templates() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for kind in ("RayService", "RayCluster", "RayJob"):
        for doc in BY_KIND[kind]:
            cluster = _cluster_specs(doc)
            groups = [cluster["headGroupSpec"], *cluster.get("workerGroupSpecs", [])]
            for group in groups:
                found.append((f"{kind}/{doc['metadata']['name']}", group["template"]))
    return found


def _head_ports(kind: str) -> dict[str, int]:
    (doc,) = BY_KIND[kind]
    (head,) = _cluster_specs(doc)["headGroupSpec"]["template"]["spec"]["containers"]
    return {port["name"]: port["containerPort"] for port in head["ports"]}


def _rules(policy: dict[str, Any]) -> list[tuple[list[dict[str, Any]], set[int] | None]]:
    """(peers, TCP ports or None for every port) of each ingress rule."""
    rules = []
    for rule in policy["spec"]["ingress"]:
        ports = rule.get("ports")
        numbers = None if ports is None else {p["port"] for p in ports}
        assert ports is None or all(p.get("protocol", "TCP") == "TCP" for p in ports)
        rules.append((rule["from"], numbers))
    return rules


def test_the_network_policy_selects_every_ray_pod() -> None:
    (policy,) = BY_KIND["NetworkPolicy"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    selector = policy["spec"]["podSelector"]
    assert set(selector) == {"matchLabels"}  # no expressions that could select fewer
    for name, template in _pod_templates():
        labels = template["metadata"]["labels"]
        assert selector["matchLabels"].items() <= labels.items(), name


def test_only_the_clusters_own_pods_reach_the_ray_ports() -> None:
    (policy,) = BY_KIND["NetworkPolicy"]
    own = policy["spec"]["podSelector"]
    every_port = [peers for peers, ports in _rules(policy) if ports is None]
    assert every_port == [[{"podSelector": own}]]  # this namespace, the PRIP's pods, nothing else
    ray_ports = {
        port
        for kind in ("RayService", "RayCluster")
        for name, port in _head_ports(kind).items()
        if name in ("gcs-server", "dashboard", "client")
    }
    api_ports = {
        port
        for kind in ("RayService", "RayCluster")
        for name, port in _head_ports(kind).items()
        if name in ("serve", "gateway")
    }
    assert ray_ports == {6379, 8265, 10001} and api_ports == {8000, 8001}
    for peers, ports in _rules(policy):
        if ports is None:
            continue
        for peer in peers:
            assert "ipBlock" not in peer, peer  # no address range: 0.0.0.0/0 hides too easily
            # A peer in another namespace names its pods too: both in one peer is an AND,
            # as two peers they would admit the whole namespace.
            assert "podSelector" in peer and peer["podSelector"].get("matchLabels"), peer
        outsiders = [peer for peer in peers if "namespaceSelector" in peer]
        if ports & api_ports:
            assert ports == api_ports and len(peers) == 1  # the ingress controller alone
            assert outsiders == peers
            (ingress,) = peers
            assert ingress["namespaceSelector"]["matchLabels"]
            assert "ingress" in str(ingress["podSelector"]["matchLabels"])
        assert not ports & (ray_ports - {8265}), (peers, ports)  # GCS and client: never
    dashboard = [peers for peers, ports in _rules(policy) if ports and 8265 in ports]
    (peers,) = dashboard
    names = [str(peer["podSelector"]["matchLabels"]) for peer in peers]
    assert any("kuberay-operator" in name for name in names), names
    (job,) = BY_KIND["RayJob"]
    assert {
        "podSelector": {"matchLabels": {"batch.kubernetes.io/job-name": job["metadata"]["name"]}}
    } in peers


def test_the_network_policy_schema_refuses_what_the_api_server_would_drop() -> None:
    doc = copy.deepcopy(BY_KIND["NetworkPolicy"][0])
    doc["spec"]["ingress"][1]["from"][0]["podSelecter"] = {}  # misspelt: a pod-less peer
    assert schema_errors(doc) != []
