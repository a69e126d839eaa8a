"""Ingestion into a real S3 server (SeaweedFS), and through an S3 outage without loss."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from prip_ray.bootstrap import Components
from prip_ray.config import S3Settings, load_settings
from tests.fixtures.components import BuildComponents
from tests.samples import SAMPLES_DIR, drop

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))
pytestmark = pytest.mark.s3


def _components(build: BuildComponents, tmp_path: Path, s3: S3Settings) -> Components:
    settings = load_settings(
        data_dir=tmp_path / "prip",
        store={"kind": "s3", "s3": s3.model_dump()},
        ingest={"settle_s": 0},
    )
    components = build(settings)
    components.migrate()
    return components


def test_samples_land_in_s3_byte_for_byte(
    tmp_path: Path, s3_settings: S3Settings, built_components: BuildComponents
) -> None:
    components = _components(
        built_components, tmp_path, s3_settings.model_copy(update={"prefix": "prip/"})
    )
    for sample in SAMPLES:
        outcome = components.ingest.ingest(drop(sample, components.settings.inbox))
        assert outcome.status == "published", outcome.reason
        product = components.products.by_name(sample.name)
        assert product is not None
        assert b"".join(components.store.read(product.object_key)) == sample.read_bytes()
    assert len(list(components.store.keys())) == len(SAMPLES)


def test_an_s3_outage_keeps_the_product_in_the_inbox_until_s3_is_back(
    tmp_path: Path, s3_settings: S3Settings, built_components: BuildComponents
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = _components(
        built_components,
        tmp_path,
        s3_settings.model_copy(update={"endpoint_url": dead, "max_attempts": 1}),
    )
    source = drop(SAMPLES[0], down.settings.inbox)
    outcome = down.ingest.ingest(source)
    assert outcome.status == "retry" and "cannot" in (outcome.reason or "")
    assert source.exists()  # nothing lost
    assert down.products.by_name(source.name) is None  # nothing half-published
    assert not list(down.settings.quarantine.glob("*"))  # an outage is not the product's fault
    down.close()  # closed again, harmlessly, at teardown
    up = _components(built_components, tmp_path, s3_settings)
    assert up.ingest.ingest(source).status == "published"
    assert not source.exists()
    assert up.ingest.journal.entries() == []
