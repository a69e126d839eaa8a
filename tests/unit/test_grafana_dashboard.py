"""The Grafana dashboard shipped in grafana/ only charts metrics prip-ray really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DASHBOARD = ROOT / "grafana" / "prip-ray.json"
# Ray exports a metric NAME as ray_NAME (counters with _total, histograms with _bucket).
SUFFIXES = ("_total", "_bucket", "_sum", "_count")


def defined_metrics() -> set[str]:
    names = set()
    pattern = re.compile(r'(?:Counter|Gauge|Histogram)\(\s*"(prip_[a-z_]+)"')
    for source in (ROOT / "prip_ray").rglob("*.py"):
        names |= set(pattern.findall(source.read_text()))
    return names


def test_every_charted_metric_is_defined() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    defined = defined_metrics()
    charted = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"ray_(prip_[a-z_]+)", target["expr"]):
                for suffix in SUFFIXES:
                    name = name.removesuffix(suffix)
                charted.add(name)
    assert charted, "the dashboard charts nothing"
    assert charted <= defined, f"charted but never defined: {sorted(charted - defined)}"


def test_panels_have_unique_ids_and_a_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["templating"]["list"][0]["type"] == "datasource"
