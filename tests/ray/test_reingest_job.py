"""Bulk re-ingestion job on the shared Ray instance, from a folder and from S3: idempotent,
filtered, resumable, with a summary that gives every rejection its reason."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from sqlalchemy import Engine

from prip_ray.config import S3Settings, load_settings
from prip_ray.jobs.reingest import run
from prip_ray.storage.s3 import S3ObjectStore
from tests.fixtures.components import BuildComponents
from tests.integration.test_hktm_forwarder import hktm_name
from tests.samples import SAMPLES_DIR

SAMPLES = sorted(SAMPLES_DIR.glob("S2B_*.tar"))


def config(tmp_path: Path, pg: Engine, **extra: object) -> Path:
    settings = {
        "data_dir": str(tmp_path / "prip"),
        "db": {"url": pg.url.render_as_string(hide_password=False), "pool_size": 2},
        "ingest": {"settle_s": 0, "qc_worker_cpus": 0.25},
        **extra,
    }
    path = tmp_path / "prip.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def source_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    for sample in SAMPLES:
        shutil.copy(sample, folder / sample.name)
    for index in range(4):
        (folder / hktm_name(index)).write_bytes(bytes([index]) * 10_000)
    (
        folder / "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D09_N05.11.tar"
    ).write_bytes(b"not a tar")
    (folder / ".hidden").write_text("skip me")
    return folder


def job(*args: str) -> tuple[dict[str, int], str]:
    out = io.StringIO()
    tally = run(list(args), console=Console(file=out, width=200))
    return dict(tally.counts), out.getvalue()


def test_folder_reingest_is_idempotent_and_resumable(
    ray_session: None, clean_pg: Engine, tmp_path: Path, built_components: BuildComponents
) -> None:
    folder, cfg = source_folder(tmp_path), config(tmp_path, clean_pg)
    first, log = job(str(folder), "--config", str(cfg), "--workers", "2", "--max-products", "3")
    assert sum(first.values()) == 3  # an interrupted (sliced) run
    rest, log = job(str(folder), "--config", str(cfg), "--workers", "2")
    assert rest["skipped"] == 3  # the first run's products are not done again
    both = {k: first.get(k, 0) + rest.get(k, 0) for k in ("published", "rejected")}
    assert both == {"published": 7, "rejected": 1}
    _, log = job(str(folder), "--config", str(cfg), "--restart", "--product-type", "MSI_L0__GR")
    assert "D09" in log and "InvalidPackage" in log  # the rejection is named with its reason
    components = built_components(load_settings(cfg))
    assert {s.name for s in SAMPLES} <= {p.name for p in components.products.stream(None)}
    assert len(list(components.products.stream(None))) == 7
    assert (folder / SAMPLES[0].name).exists()  # the source is kept
    again, _ = job(str(folder), "--config", str(cfg), "--restart")
    assert again == {"verified": 7, "rejected": 1}  # verified, never published twice
    assert len(list(components.products.stream(None))) == 7


def test_filters_by_type_and_sensing_date(
    ray_session: None, clean_pg: Engine, tmp_path: Path
) -> None:
    folder, cfg = source_folder(tmp_path), config(tmp_path, clean_pg)
    counts, _ = job(str(folder), "--config", str(cfg), "--product-type", "PRD_HKTM__",
                    "--since", "2025-08-01T07:05:00", "--until", "2025-08-01T07:15:00")  # fmt: skip
    assert counts == {"published": 2}  # the 2nd and 3rd HKTM (07:05, 07:10)


@pytest.mark.s3
def test_reingest_from_an_s3_prefix(
    ray_session: None,
    clean_pg: Engine,
    tmp_path: Path,
    s3_settings: S3Settings,
    built_components: BuildComponents,
) -> None:
    source = S3ObjectStore(s3_settings.model_copy(update={"bucket": "lta-copy", "prefix": "s2/"}))
    source.ensure_bucket()
    for sample in SAMPLES:
        source.put_file(sample.name, sample)
    s3 = s3_settings.model_dump(mode="json")
    assert s3_settings.secret_access_key is not None
    s3["secret_access_key"] = s3_settings.secret_access_key.get_secret_value()
    cfg = config(tmp_path, clean_pg, store={"kind": "s3", "s3": s3})
    counts, _ = job("s3://lta-copy/s2", "--config", str(cfg))
    assert counts == {"published": 3}
    components = built_components(load_settings(cfg))
    for sample in SAMPLES:
        product = components.products.by_name(sample.name)
        assert product is not None
        assert b"".join(components.store.read(product.object_key)) == sample.read_bytes()
