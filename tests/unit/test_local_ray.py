"""The embedded default's Ray is kept on loopback, and only Ray this process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from prip_ray.config import load_settings
from prip_ray.errors import ConfigurationError
from prip_ray.local_ray import LOOPBACK_ONLY, keep_local_ray_on_loopback


def test_a_local_ray_is_kept_on_loopback(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert keep_local_ray_on_loopback(load_settings(data_dir=tmp_path), environ)
    assert environ == LOOPBACK_ONLY


@pytest.mark.parametrize(
    ("address", "environ"),
    [("ray://head:10001", {}), (None, {"RAY_ADDRESS": "10.0.0.5:6379"})],
)
def test_a_driver_joining_a_cluster_keeps_its_address(
    tmp_path: Path, address: str | None, environ: dict[str, str]
) -> None:
    settings = load_settings(data_dir=tmp_path, ray={"address": address})
    before = dict(environ)
    assert not keep_local_ray_on_loopback(settings, environ)
    assert environ == before


def test_the_operator_may_bind_the_node_address(tmp_path: Path) -> None:
    environ = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}
    keep_local_ray_on_loopback(load_settings(data_dir=tmp_path), environ)
    assert environ == {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}


def test_too_late_once_ray_is_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray reads the variable at import: setting it afterwards would promise loopback and
    bind everywhere. (tests/unit's conftest has imported Ray already.)"""
    monkeypatch.delenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigurationError, match="imported before"):
        keep_local_ray_on_loopback(load_settings(data_dir=tmp_path))
