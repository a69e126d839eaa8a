"""Offline validation of Kubernetes manifests, with unknown keys as errors.

KubeRay kinds are checked against the OpenAPI v3 schema of their CRD (tests/data/kuberay-crds),
the core kinds we ship (ConfigMap, Secret, PersistentVolumeClaim, NetworkPolicy) against small
schemas here.
The API server *prunes* what a CRD schema does not declare: a misspelt key is dropped without a
word and the cluster runs without it. So the schemas are made strict before use: an object that
lists its ``properties`` refuses any other key, unless it says
``x-kubernetes-preserve-unknown-fields`` or declares ``additionalProperties`` itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, FormatChecker

CRD_DIR = Path(__file__).parent / "data" / "kuberay-crds"
CRD_FILES = {
    "RayCluster": "ray.io_rayclusters.yaml",
    "RayJob": "ray.io_rayjobs.yaml",
    "RayService": "ray.io_rayservices.yaml",
}

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the CRDs are 3 MB of YAML

FORMATS = FormatChecker()


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}

# The part of ObjectMeta a manifest sets (the CRDs leave top-level metadata to the API server).
OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": DNS1123_SUBDOMAIN},
        "namespace": {"type": "string"},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
}


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The YAML documents of one manifest file (empty documents left out)."""
    with path.open() as f:
        return [document for document in yaml.safe_load_all(f) if document is not None]


def strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A structural CRD schema as JSON Schema that refuses what the API server would drop."""
    node = dict(schema)
    if node.get("x-kubernetes-int-or-string"):
        # An integer or a string (a quantity, a port name); a pattern only binds the strings.
        node.pop("type", None)
        node.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in node:
        node["type"] = [node["type"], "null"]
    if "properties" in node:
        node["properties"] = {name: strict(sub) for name, sub in node["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), Mapping):
            node[key] = strict(node[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            node[key] = [strict(sub) for sub in node[key]]
    is_object = node.get("type") == "object" or "properties" in node
    is_open = node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node
    if is_object and not is_open:
        node["additionalProperties"] = False
    return node


@functools.cache
def _crd_schema(kind: str) -> dict[str, Any]:
    with (CRD_DIR / CRD_FILES[kind]).open() as f:
        crd = yaml.load(f, Loader=_FAST_LOADER)  # a safe loader: the C one, if built
    assert crd["spec"]["names"]["kind"] == kind, f"{CRD_FILES[kind]} is not the {kind} CRD"
    (v1,) = [version for version in crd["spec"]["versions"] if version["name"] == "v1"]
    schema = strict(v1["schema"]["openAPIV3Schema"])
    schema["properties"].pop("status")  # the operator's to write, never a manifest's
    schema["properties"].update(
        apiVersion={"const": f"{crd['spec']['group']}/v1"},
        kind={"const": kind},
        metadata=OBJECT_META,
    )
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return schema


def _core_kind(kind: str, api_version: str = "v1", **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": OBJECT_META,
            **properties,
        },
    }


def _pvc_spec() -> dict[str, Any]:
    """Kubernetes' PersistentVolumeClaimSpec, as the RayCluster CRD embeds it for ephemeral
    volumes of its pod template."""
    pod = _crd_schema("RayCluster")["properties"]["spec"]["properties"]["headGroupSpec"]
    volume = pod["properties"]["template"]["properties"]["spec"]["properties"]["volumes"]["items"]
    return volume["properties"]["ephemeral"]["properties"]["volumeClaimTemplate"]["properties"][
        "spec"
    ]


def _label_selector() -> dict[str, Any]:
    """Kubernetes' LabelSelector, as the RayCluster CRD embeds it for pod affinity terms."""
    pod = _crd_schema("RayCluster")["properties"]["spec"]["properties"]["headGroupSpec"]
    spec = pod["properties"]["template"]["properties"]["spec"]["properties"]
    affinity = spec["affinity"]["properties"]["podAffinity"]["properties"]
    term = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["items"]
    return dict(term["properties"]["labelSelector"])


def _network_policy_spec() -> dict[str, Any]:
    """NetworkPolicySpec of networking.k8s.io/v1, strict like the rest."""
    selector = _label_selector()
    port = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
            "port": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535},
                               {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}]},
            "endPort": {"type": "integer", "minimum": 1, "maximum": 65535},
        },
    }  # fmt: skip
    ip_block = {
        "type": "object",
        "required": ["cidr"],
        "additionalProperties": False,
        "properties": {"cidr": {"type": "string"}, "except": {"type": "array"}},
    }
    peer = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"podSelector": selector, "namespaceSelector": selector, "ipBlock": ip_block},
    }

    def rule(direction: str) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                direction: {"type": "array", "items": peer},
                "ports": {"type": "array", "items": port},
            },
        }

    return {
        "type": "object",
        "required": ["podSelector"],
        "additionalProperties": False,
        "properties": {
            "podSelector": selector,
            "policyTypes": {"type": "array", "items": {"enum": ["Ingress", "Egress"]}},
            "ingress": {"type": "array", "items": rule("from")},
            "egress": {"type": "array", "items": rule("to")},
        },
    }


@functools.cache
def _core_schema(kind: str) -> dict[str, Any] | None:
    flag = {"type": "boolean"}
    if kind == "ConfigMap":
        return _core_kind(kind, data=STRING_MAP, binaryData=STRING_MAP, immutable=flag)
    if kind == "Secret":
        return _core_kind(
            kind, type={"type": "string"}, data=STRING_MAP, stringData=STRING_MAP, immutable=flag
        )
    if kind == "PersistentVolumeClaim":
        return _core_kind(kind, spec=_pvc_spec())
    if kind == "NetworkPolicy":
        schema = _core_kind(kind, "networking.k8s.io/v1", spec=_network_policy_spec())
        schema["required"].append("spec")
        return schema
    return None


def schema_for(kind: str) -> dict[str, Any] | None:
    return _crd_schema(kind) if kind in CRD_FILES else _core_schema(kind)


def schema_errors(document: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse, or silently drop, in one manifest document."""
    schema = schema_for(str(document.get("kind")))
    if schema is None:
        return [f"$.kind: no schema for {document.get('kind')!r}"]
    validator = Draft7Validator(schema, format_checker=FORMATS)
    return sorted(
        f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)
    )
