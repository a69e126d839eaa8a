"""KPI targets come from settings: the config file's kpi section and PRIP_KPI__* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from prip_ray.config import load_settings
from prip_ray.errors import ConfigurationError


def test_targets_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "PRIP_KPI__TIMELINESS_TARGETS": '{"MSI_L0__GR": 1800, "default": 7200}',
        "PRIP_KPI__COMPLETENESS_TARGET": "0.995",
        "PRIP_KPI__AVAILABILITY_TARGET": "0.98",
    }
    kpi = load_settings(data_dir=tmp_path, environ=environ).kpi
    assert kpi.timeliness_targets == {"MSI_L0__GR": 1800.0, "default": 7200.0}
    assert (kpi.completeness_target, kpi.availability_target) == (0.995, 0.98)


def test_targets_from_the_config_file_and_defaults(tmp_path: Path) -> None:
    config = tmp_path / "prip.yaml"
    config.write_text("kpi:\n  timeliness_targets:\n    MSI_L2A_TL: 5400\n")
    kpi = load_settings(config, data_dir=tmp_path, environ={}).kpi
    assert kpi.timeliness_targets == {"MSI_L2A_TL": 5400.0}
    assert load_settings(data_dir=tmp_path, environ={}).kpi.timeliness_targets == {"default": 3600}


@pytest.mark.parametrize(
    "variable, value",
    [("PRIP_KPI__AVAILABILITY_TARGET", "1.5"), ("PRIP_KPI__TIMELINESS_TARGETS", '{"X": 0}')],
)
def test_impossible_targets_are_refused(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(data_dir=tmp_path, environ={variable: value})
