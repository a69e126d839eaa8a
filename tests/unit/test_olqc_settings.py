"""olqc.on_failed: what a FAILED OLQC report does, flag by default, checked when loaded."""

from pathlib import Path

import pytest

from prip_ray.config import load_settings, settings_help
from prip_ray.db.olqc import OlqcLinks
from prip_ray.errors import ConfigurationError


def test_flag_is_the_default_and_offline_can_be_chosen(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, environ={}).olqc.on_failed == "flag"
    environ = {"PRIP_OLQC__ON_FAILED": "offline"}
    assert load_settings(data_dir=tmp_path, environ=environ).olqc.on_failed == "offline"
    assert "PRIP_OLQC__ON_FAILED" in settings_help()


def test_an_unknown_action_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(data_dir=tmp_path, environ={"PRIP_OLQC__ON_FAILED": "delete"})
    with pytest.raises(ConfigurationError, match=r"olqc\.on_failed 'delete'"):
        OlqcLinks("delete")
