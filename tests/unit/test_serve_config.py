"""The Serve config file shipped in cluster/ is one Serve accepts and points at our builder."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml
from ray.serve.schema import ServeDeploySchema

from prip_ray.config import load_settings
from prip_ray.serve.deployment import autoscaling_config

CONFIG = Path(__file__).parents[2] / "cluster" / "serve-config.yaml"


def test_serve_config_validates_and_names_our_deployment() -> None:
    document = yaml.safe_load(CONFIG.read_text())
    schema = ServeDeploySchema.model_validate(document)
    (application,) = schema.applications
    module, attribute = application.import_path.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))
    (deployment,) = application.deployments
    assert deployment.name == "odata"
    scaling = document["applications"][0]["deployments"][0]["autoscaling_config"]
    assert scaling["min_replicas"] <= scaling["max_replicas"]


def test_settings_give_the_same_autoscaling_keys() -> None:
    scaling = autoscaling_config(load_settings(api={"min_replicas": 1, "max_replicas": 3}))
    document = yaml.safe_load(CONFIG.read_text())
    assert set(scaling) == set(document["applications"][0]["deployments"][0]["autoscaling_config"])
    assert (scaling["min_replicas"], scaling["max_replicas"]) == (1, 3)


def test_api_replicas_and_only_they_get_the_statement_timeout(tmp_path: Path) -> None:
    from prip_ray.bootstrap import Components
    from prip_ray.serve.deployment import ODataReplica

    settings = load_settings(data_dir=tmp_path, api={"statement_timeout_s": 3})
    assert ODataReplica(settings)._components.statement_timeout_s == 3
    assert Components(settings).statement_timeout_s == 0  # ingestion, Roller, CLI
    assert load_settings(data_dir=tmp_path).api.statement_timeout_s == 10
