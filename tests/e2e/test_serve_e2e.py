"""The whole PRIP on the shared Ray: samples dropped in the inbox, found and downloaded
through Ray Serve over HTTP on 127.0.0.1, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from prip_ray.config import Settings
from prip_ray.serve.app import basic_header
from tests.e2e.running import PASSWORD, USER, running_prip
from tests.samples import SAMPLES_DIR, drop
from tests.waiting import wait_until

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
AUTH = basic_header(USER, PASSWORD)


@pytest.fixture
def prip(ray_settings: Settings) -> Iterator[str]:
    with running_prip(ray_settings) as (url, _):
        yield url


def test_inbox_to_download_through_serve(prip: str, ray_settings: Settings) -> None:
    for sample in SAMPLES:
        drop(sample, ray_settings.inbox)
    with httpx.Client(base_url=prip, headers=AUTH, timeout=30) as client:
        assert client.get("Products", headers={"Authorization": ""}).status_code == 401

        def listed() -> list[dict[str, Any]]:
            response = client.get("Products", params={"$top": "100"})
            return list(response.json()["value"]) if response.status_code == 200 else []

        wait_until(lambda: len(listed()) == len(SAMPLES), what="the samples to be published")
        by_name = {p["Name"]: p for p in listed()}
        for sample in SAMPLES:
            data = sample.read_bytes()
            download = client.get(f"Products({by_name[sample.name]['Id']})/$value")
            assert download.status_code == 200
            assert download.content == data
            part = client.get(
                f"Products({by_name[sample.name]['Id']})/$value", headers={"Range": "bytes=100-199"}
            )
            assert part.status_code == 206 and part.content == data[100:200]
        bad = client.get("Products", params={"$filter": "Name eq"})
        assert bad.status_code == 400 and "error" in bad.json()
