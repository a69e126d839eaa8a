"""A QC worker reads an OLQC report at inspection: attributes when it is sound, refusal if not."""

import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from prip_ray.domain.product_types import default_registry
from prip_ray.domain.qc import QcPolicy
from prip_ray.errors import InvalidMetadata, InvalidPackage
from prip_ray.services.inspect import Inspection, inspect_package
from prip_ray.synthetic import write_olqc_report
from tests.samples import TILE

NOW = datetime(2025, 8, 1, 8, 0, tzinfo=UTC)


def _inspect(path: Path, name: str | None = None) -> Inspection:
    return inspect_package(
        path,
        name or path.name,
        registry=default_registry(),
        policy=QcPolicy(),
        origin_date=NOW,
        now=NOW,
    )


def test_a_report_is_published_with_what_it_says(tmp_path: Path) -> None:
    path = write_olqc_report(tmp_path, TILE, "FAILED", checks=5)
    metadata = _inspect(path).metadata
    assert (metadata.product_type, metadata.content_type) == ("REP_OLQCPA", "application/xml")
    attributes = {a.name: a.value for a in metadata.attributes}
    assert attributes["inspectedProduct"] == TILE
    assert attributes["globalStatus"] == "FAILED"
    assert attributes["olqcChecklist"] == "Level-2A_Tile"
    assert attributes["olqcFailedChecks"] == 1
    assert attributes["productType"] == "REP_OLQCPA"  # beside every product's attributes
    assert [a.name for a in metadata.attributes] == sorted(attributes)


def test_a_report_in_an_archive_is_refused(tmp_path: Path) -> None:
    report = write_olqc_report(tmp_path, TILE, "PASSED")
    archive = tmp_path / "archive" / report.name
    archive.parent.mkdir()
    with tarfile.open(archive, "w") as tar:
        tar.add(report, arcname=report.name)
    with pytest.raises(InvalidPackage, match="an OLQC report must be one XML file"):
        _inspect(archive)


def test_a_report_published_under_another_name_is_refused(tmp_path: Path) -> None:
    report = write_olqc_report(tmp_path, TILE, "PASSED")
    renamed = report.with_name(report.name.replace("_2BPS_", "_MPC__"))
    report.rename(renamed)
    with pytest.raises(InvalidMetadata, match=r"<File_Name> is '.*_2BPS_.*' but the name says"):
        _inspect(renamed)
