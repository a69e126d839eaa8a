"""KPIs on real databases: timeliness and completeness of what was ingested and quarantined,
availability from recorded probes; the admin-only /kpi route and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prip_ray.bootstrap import Components
from prip_ray.cli import app
from prip_ray.db.kpi import KpiRepository
from prip_ray.serve.app import basic_header
from tests.cheap_passwords import cheap_hash
from tests.samples import drop


def test_report_of_the_last_day(api: TestClient, components: Components, tmp_path) -> None:
    corrupt = tmp_path / "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMX_N05.11.tar"
    corrupt.write_bytes(b"not a tar")
    assert components.ingest.ingest(drop(corrupt, components.settings.inbox)).status == "rejected"
    probes = KpiRepository(components.engine)
    now = datetime.now(UTC)
    for seconds, ok in ((-90, True), (-60, False), (-30, True)):
        probes.record_probe(now + timedelta(seconds=seconds), ok, 0.01, None if ok else "refused")
    report = components.kpi().report(now - timedelta(days=1), now + timedelta(minutes=1))
    timeliness = {r["product_type"]: r for r in report["timeliness"]}
    assert set(timeliness) == {"MSI_L0__GR", "MSI_L0__DS", "MSI_L2A_TL"}
    assert all(r["count"] == 1 and r["p50_s"] >= 0 for r in timeliness.values())
    completeness = {r["product_type"]: r for r in report["completeness"]}
    assert completeness["MSI_L2A_TL"] == {
        "product_type": "MSI_L2A_TL",
        "published": 1,
        "rejected": 1,
        "ratio": 0.5,
    }
    assert report["datastrips"]["datastrips"] == 1 and report["datastrips"]["granules"] == 1
    assert report["availability"]["probes"] == 3 and report["availability"]["ok"] == 2
    assert report["availability"]["longest_outage_s"] == 30.0


def test_kpi_route_is_for_admins_and_checks_dates(api: TestClient, components: Components) -> None:
    components.users.add("ops", cheap_hash("ops-pw"), "admin")
    admin = basic_header("ops", "ops-pw")
    got = api.get("/kpi", headers=admin)
    assert got.status_code == 200 and len(got.json()["timeliness"]) == 3
    assert api.get("/kpi", headers=basic_header("alice", "alice-pw")).status_code == 403
    bad = api.get("/kpi", params={"since": "yesterday"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidQuery"
    backwards = api.get(
        "/kpi", params={"since": "2026-01-02", "until": "2026-01-01"}, headers=admin
    )
    assert backwards.status_code == 400


def test_kpi_cli(api: TestClient, components: Components) -> None:
    data = str(components.settings.data_dir)
    shown = CliRunner().invoke(
        app, ["kpi", "--data-dir", data], env={"PRIP_DB__URL": components.settings.db_url}
    )
    assert shown.exit_code == 0, shown.output
    assert "Timeliness" in shown.output and "MSI_L2A_TL" in shown.output
