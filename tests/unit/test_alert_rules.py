"""The Prometheus alert rules shipped beside the dashboard load, are complete, their
expressions parse as PromQL (promql-parser: the Rust parser GreptimeDB and others use, what
``promtool check rules`` checks of an expression), and select only metric names prip-ray
really exports (a typo would make an alert that never fires)."""

from __future__ import annotations

import re

import promql_parser
import pytest
import yaml

from tests.unit.test_grafana_dashboard import DASHBOARD, SUFFIXES, defined_metrics

RULES = DASHBOARD.parent / "prip-ray-alerts.yaml"


def rules() -> list[dict]:
    loaded = yaml.safe_load(RULES.read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The series names an expression selects, from its parsed form; ValueError if it is not
    PromQL (a syntax error, an unknown function)."""
    names: set[str] = set()

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def test_metric_name_parsing() -> None:
    expr = 'max by (kpi) (rate(ray_prip_x_total{a="b"}[5m])) > bool on (kpi) ray_prip_y'
    assert metric_names(expr) == {"ray_prip_x_total", "ray_prip_y"}
    for broken in ('max(ray_prip_x{a="b"}', "maxx(ray_prip_x)", "ray_prip_x >"):
        with pytest.raises(ValueError):
            metric_names(broken)


def test_every_rule_is_complete_and_uses_exported_metrics() -> None:
    defined = defined_metrics()
    found = rules()
    assert {"PripTimelinessTargetMissed", "PripCompletenessTargetMissed",
            "PripAvailabilityTargetMissed", "PripUnavailable"} <= {r["alert"] for r in found}  # fmt: skip
    for rule in found:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']} selects no metric"
        for name in names:
            assert name.startswith("ray_prip_"), f"{rule['alert']}: {name}"
            bare = name.removeprefix("ray_")
            for suffix in SUFFIXES:
                bare = bare.removesuffix(suffix)
            assert bare in defined, f"{rule['alert']} uses {name}, which is never defined"


def test_the_dashboard_charts_the_kpis() -> None:
    text = DASHBOARD.read_text()
    for name in ("ray_prip_kpi_timeliness_seconds", "ray_prip_kpi_completeness_ratio",
                 "ray_prip_kpi_availability_ratio", "ray_prip_kpi_breach"):  # fmt: skip
        assert name in text
