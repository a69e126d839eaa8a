"""Unit tests are plain Python: no Ray, no network (Ray's own unit tests do the same)."""

import pytest


@pytest.fixture(autouse=True)
def _forbid_ray_init(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    def _refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tests/unit must not start Ray; put the test under tests/ray/")

    monkeypatch.setattr(ray, "init", _refuse)
