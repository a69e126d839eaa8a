"""Quarantine for operators on both databases: refusals recorded in the PRIP DB beside their
files, listed (command and admin API), retried through QC, purged by hand and by the Roller's
round; the completeness KPI counts the DB entries; a crash between a file step and its DB
step is settled by the next round."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prip_ray.bootstrap import Components
from prip_ray.cli import app
from prip_ray.config import load_settings
from prip_ray.db.quarantine import QuarantineRepository
from prip_ray.serve.app import basic_header
from prip_ray.services.quarantine import QuarantineService, RecordedQuarantine
from tests.cheap_passwords import cheap_hash
from tests.fixtures.components import BuildComponents
from tests.samples import TILE, drop, sample

BROKEN = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMX_N05.11.tar"


def reject(components: Components, tmp_path: Path, content: bytes = b"not a tar") -> None:
    corrupt = tmp_path / BROKEN
    corrupt.write_bytes(content)
    outcome = components.ingest.ingest(drop(corrupt, components.settings.inbox))
    assert outcome.status == "rejected"


def files(components: Components) -> list[str]:
    return sorted(p.name for p in components.settings.quarantine.iterdir())


def test_refusals_are_recorded_once_per_name(components: Components, tmp_path: Path) -> None:
    reject(components, tmp_path)
    (entry,) = components.quarantine().entries()
    assert entry.name == BROKEN and entry.times == 1 and entry.size == len(b"not a tar")
    assert Path(entry.location).read_bytes() == b"not a tar"
    assert entry.code == "InvalidPackage" and entry.reason
    assert entry.reason == components.ingest.quarantine.reasons()[0]["reason"]
    reject(components, tmp_path, b"still not a tar!")
    (again,) = components.quarantine().entries()
    assert again.times == 2 and again.first_seen == entry.first_seen
    assert again.last_seen > entry.last_seen and again.size == len(b"still not a tar!")
    assert len(files(components)) == 2  # the newest bytes and their reason only
    found = components.quarantine().entries(reason_contains=again.reason[5:15])
    assert [e.name for e in found] == [BROKEN]
    assert components.quarantine().entries(reason_contains="no such text") == []
    later = again.last_seen + timedelta(seconds=1)
    assert components.quarantine().entries(since=later) == []


def test_the_kpi_counts_the_db_entries(
    api: TestClient, components: Components, tmp_path: Path
) -> None:
    reject(components, tmp_path)
    for path in components.settings.quarantine.iterdir():
        path.unlink()  # the files are not what the KPI reads
    now = datetime.now(UTC)
    report = components.kpi().report(now - timedelta(days=1), now + timedelta(minutes=1))
    tiles = next(r for r in report["completeness"] if r["product_type"] == "MSI_L2A_TL")
    assert (tiles["published"], tiles["rejected"]) == (1, 1)


def test_admins_list_the_quarantine(
    api: TestClient, components: Components, tmp_path: Path
) -> None:
    reject(components, tmp_path)
    components.users.add("root", cheap_hash("root-pw"), "admin")
    root = basic_header("root", "root-pw")
    listed = api.get("/odata/v1/Quarantine", headers=root).json()["value"]
    assert [e["Name"] for e in listed] == [BROKEN] and listed[0]["Times"] == 1
    assert set(listed[0]) >= {"Reason", "FirstSeen", "LastSeen", "ContentLength", "Location"}
    none = api.get("/odata/v1/Quarantine", params={"reasonContains": "zzz"}, headers=root)
    assert none.json()["value"] == []
    late = api.get("/odata/v1/Quarantine", params={"since": "2999-01-01"}, headers=root)
    assert late.json()["value"] == []
    alice = basic_header("alice", "alice-pw")
    assert api.get("/odata/v1/Quarantine", headers=alice).status_code == 403


def test_a_retried_product_goes_through_qc_again(components: Components, tmp_path: Path) -> None:
    good = Path(shutil.copy(sample(TILE), tmp_path / f"{TILE}.tar"))
    components.recorded_quarantine().put(good, "needs an operator's look", "QualityCheckFailed")
    service = components.quarantine()
    (entry,) = service.entries()
    back = service.retry(entry.name)
    assert back == components.settings.inbox / f"{TILE}.tar" and back.exists()
    assert service.entries() == [] and files(components) == []
    assert components.ingest.ingest(back).status == "published"
    with pytest.raises(Exception, match="not in quarantine"):
        service.retry(entry.name)


def test_purge_by_hand_and_by_the_roller(components: Components, tmp_path: Path) -> None:
    reject(components, tmp_path)
    service = components.quarantine()
    assert service.purge(datetime.now(UTC) - timedelta(days=1)) == 0
    report = components.roller(now=lambda: datetime.now(UTC) + timedelta(days=29)).run_once()
    assert report.quarantine_purged == 0  # 30 days by default
    report = components.roller(now=lambda: datetime.now(UTC) + timedelta(days=31)).run_once()
    assert report.quarantine_purged == 1
    assert service.entries() == [] and files(components) == []


class _FailsOnce(QuarantineRepository):
    def __init__(self, engine: Any, step: str):
        super().__init__(engine)
        self.step = step

    def record(self, *args: Any, **kwargs: Any) -> Any:
        self._maybe_fail("record")
        return super().record(*args, **kwargs)

    def forget(self, name: str, location: str) -> bool:
        self._maybe_fail("forget")
        return super().forget(name, location)

    def _maybe_fail(self, step: str) -> None:
        if self.step == step:
            self.step = ""
            raise ConnectionError("the DB went away")


@pytest.mark.parametrize("operation", ["put", "retry", "purge"])
def test_a_crash_between_file_and_row_is_settled(
    components: Components, tmp_path: Path, operation: str
) -> None:
    good = Path(shutil.copy(sample(TILE), tmp_path / f"{TILE}.tar"))
    step = "record" if operation == "put" else "forget"
    failing = _FailsOnce(components.engine, step if operation == "put" else "")
    quarantine = RecordedQuarantine(components.settings.quarantine, failing)
    service = QuarantineService(quarantine, components.settings.inbox)
    with pytest.raises(ConnectionError) if operation == "put" else _no_error():
        quarantine.put(good, "needs a look", "QualityCheckFailed")
    failing.step = step
    with pytest.raises(ConnectionError) if operation != "put" else _no_error():
        if operation == "retry":
            service.retry(f"{TILE}.tar")
        elif operation == "purge":
            service.purge(datetime.now(UTC) + timedelta(seconds=1))
    components.roller().run_once()  # the next round settles it
    entries = components.quarantine().entries()
    if operation == "put":  # the file was in, the row missing: imported
        assert [e.name for e in entries] == [f"{TILE}.tar"] and len(files(components)) == 2
    else:  # the bytes were moved or deleted, the row left: dropped with its reason
        assert entries == [] and files(components) == []
        assert (components.settings.inbox / f"{TILE}.tar").exists() == (operation == "retry")


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


def test_the_quarantine_commands(tmp_path: Path, built_components: BuildComponents) -> None:
    settings = load_settings(data_dir=tmp_path, ingest={"settle_s": 0})
    components = built_components(settings)
    components.migrate()
    good = Path(shutil.copy(sample(TILE), tmp_path / f"{TILE}.tar"))
    components.recorded_quarantine().put(good, "looks odd", "QualityCheckFailed")
    reject(components, tmp_path)
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    listed = runner.invoke(app, ["quarantine", "list", *data])
    assert listed.exit_code == 0, listed.output
    assert "2 in quarantine" in listed.output
    odd = runner.invoke(app, ["quarantine", "list", "--reason-contains", "looks odd", *data])
    assert "1 in quarantine" in odd.output
    future = runner.invoke(app, ["quarantine", "list", "--since", "2999-01-01", *data])
    assert "0 in quarantine" in future.output
    retried = runner.invoke(app, ["quarantine", "retry", f"{TILE}.tar", "NOPE", *data])
    assert retried.exit_code == 1 and "NOPE" in retried.output
    assert (settings.inbox / f"{TILE}.tar").exists()
    kept = runner.invoke(app, ["quarantine", "purge", "--older-than", "1d", *data])
    assert "0 purged" in kept.output
    purged = runner.invoke(app, ["quarantine", "purge", *data])
    assert purged.exit_code == 0 and "1 purged" in purged.output
    assert components.quarantine().entries() == []


def test_links_and_fifos_are_recorded_without_touching_what_they_point_to(
    components: Components, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"x" * 1000)
    link = tmp_path / f"{TILE}.tar"
    link.symlink_to(outside)
    fifo = tmp_path / BROKEN
    os.mkfifo(fifo)
    quarantine = components.recorded_quarantine()
    quarantine.put(link, "a link", "InvalidPackage")
    quarantine.put(fifo, "a FIFO", "InvalidPackage")  # removed: no bytes, a reason
    entries = {e.name: e for e in components.quarantine().entries()}
    assert entries[f"{TILE}.tar"].size == 0 and entries[BROKEN].size == 0
    components.roller().run_once()  # reconcile keeps both: each still has its reason
    assert len(components.quarantine().entries()) == 2
    assert components.quarantine().purge(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert (outside / "precious").read_bytes() == b"x" * 1000
    assert files(components) == []
