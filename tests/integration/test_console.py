"""The operator console over a real database: the page's plots show the history ingested,
the period changes what they show, the exports carry the same figures as GET /kpi, and only
admins see any of it (a Basic challenge for the others)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prip_ray.bootstrap import Components
from prip_ray.config import KpiSettings
from prip_ray.console.plots import volume
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.kpi_hours import KpiHours
from prip_ray.db.probe_hours import ProbeHours
from prip_ray.db.quarantine import QuarantineRepository
from prip_ray.serve.app import basic_header, create_app
from prip_ray.serve.wiring import api_services
from prip_ray.services.kpi import KpiService
from prip_ray.services.probe_history import ProbeHistory
from tests.console_history import (
    ADMIN,
    DOWNLOADER,
    OLQC_EXPECTED,
    OUTAGE,
    PROBE_EVERY,
    SYNTHETIC,
    History,
    build_history,
)
from tests.fixtures.components import BuildComponents
from tests.samples import GRANULE

AS_ADMIN = basic_header(*ADMIN)


@pytest.fixture
def console(components: Components, tmp_path: Path) -> tuple[TestClient, History]:
    history = build_history(components, datetime.now(UTC), tmp_path / "work")
    with TestClient(create_app(api_services(components))) as client:
        yield client, history


def marks(page: str, plot: str, mark: str) -> list[str]:
    """The tooltips of one kind of mark in one plot of the page."""
    svg = re.search(rf'<svg class="plot" data-plot="{re.escape(plot)}".*?</svg>', page, re.S)
    assert svg, f"no plot {plot}"
    return re.findall(rf"<{mark} [^>]*><title>([^<]*)</title>", svg.group(0))


def test_console_shows_the_history(
    console: tuple[TestClient, History], components: Components
) -> None:
    client, history = console
    dana = basic_header(*DOWNLOADER)
    found = client.get("/odata/v1/Products", params={"$top": 1}, headers=dana).json()["value"]
    body = client.get(f"/odata/v1/Products({found[0]['Id']})/$value", headers=dana).content
    waiting = components.settings.inbox / "S2B_OPER_MSI_L0__GR_waiting.tar"
    waiting.write_bytes(b"not picked up: no ingestion runs here")
    page = client.get("/console", headers=AS_ADMIN)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for section in ("timeliness", "completeness", "availability", "operations", "breaches"):
        assert f'<section id="{section}"' in html
    # a p50 and a p95 point per hour with granules published in the last 24 h (one each)
    trend = marks(html, "delay-trend MSI_L0__GR", "circle")
    assert len(trend) == 2 * len(history.granule_delays_24h)
    assert any("p95 20.6 min (1 products)" in t for t in trend)  # the sample granule, 1234 s
    bars = marks(html, "delay-histogram MSI_L0__GR", "rect")
    counts = [int(re.search(r": (\d+) products", t).group(1)) for t in bars]
    assert sum(counts) == len(history.granule_delays_24h)
    assert "MSI_L0__GR 15.0 min to 30.0 min: 1 products" in bars
    # the L2A tile's 90 min miss the default target of 60 min: a breach, shown
    assert re.search(r'id="breaches" class="breach".*MSI_L2A_TL', html, re.S)
    # the datastrip lacks 11 of its 12 detectors' granules; the corrupt tile was quarantined
    assert "D01 D02 D03 D05 D06 D07 D08 D09 D10 D11 D12" in html
    quarantined = re.search(r'data-table="quarantine".*?</table>', html, re.S).group(0)
    assert "T47XMX" in quarantined and "InvalidPackage" in quarantined
    slots = re.findall(r'data-state="failed"', html)
    assert 1 <= len(slots) <= OUTAGE[1]
    assert "<h3>1 outage(s)</h3>" in html
    downloads = re.search(r'data-table="downloads".*?</table>', html, re.S).group(0)
    assert f"<td>dana</td><td>1</td><td>{volume(len(body))}</td>" in downloads
    assert "startswith(Name" not in html and ">running<" in html  # state, never the filter
    assert "No product type is set to expect OLQC reports" in html  # the default
    assert 'data-series="unreported"' not in html
    assert 'data-backlog="1">Inbox: 1 waiting; 0 being stored.' in html
    hours = marks(html, "throughput", "rect")
    assert sum(int(re.search(r": (\d+) published", t).group(1)) for t in hours) == (
        history.published_24h
    )


def test_the_period_changes_the_plots(console: tuple[TestClient, History]) -> None:
    client, history = console
    week = client.get("/console", params={"period": "7d"}, headers=AS_ADMIN).text
    day = client.get("/console", params={"period": "24h"}, headers=AS_ADMIN).text
    in_week = len(history.granule_delays_24h) + sum(1 for _, h in SYNTHETIC if 24 <= h < 168)
    assert len(marks(week, "delay-trend MSI_L0__GR", "circle")) == 2 * in_week
    assert len(marks(day, "delay-trend MSI_L0__GR", "circle")) == 2 * len(
        history.granule_delays_24h
    )
    assert len(marks(week, "completeness-daily", "rect")) > len(
        marks(day, "completeness-daily", "rect")
    )
    custom = client.get(
        "/console",
        params={"period": "custom", "since": "2020-01-01T00:00", "until": "2020-01-02T00:00"},
        headers=AS_ADMIN,
    )
    assert custom.status_code == 200 and "nothing in this period" in custom.text
    bad = client.get("/console", params={"period": "custom", "since": "soon"}, headers=AS_ADMIN)
    assert bad.status_code == 400
    assert client.get("/console", params={"period": "1y"}, headers=AS_ADMIN).status_code == 400


def test_exports_carry_the_kpi_figures(console: tuple[TestClient, History]) -> None:
    client, _ = console
    now = datetime.now(UTC)  # a window within the 400 days of KPI history kept
    window = {"since": (now - timedelta(days=300)).isoformat(), "until": now.isoformat()}
    kpi = client.get("/kpi", params=window, headers=AS_ADMIN).json()
    exported = client.get("/console/export.json", params=window, headers=AS_ADMIN)
    assert exported.headers["content-disposition"].startswith("attachment; filename=")
    assert exported.json() == kpi
    assert len(kpi["series"]["timeliness_hourly"]) >= len(SYNTHETIC)
    table = client.get("/console/export.csv", params=window, headers=AS_ADMIN)
    assert table.headers["content-type"].startswith("text/csv")
    rows = {(r["section"], r["subject"], r["metric"]): r["value"]
            for r in csv.DictReader(io.StringIO(table.text))}  # fmt: skip
    for t in kpi["timeliness"]:
        assert float(rows[("timeliness", t["product_type"], "p95_s")]) == t["p95_s"]
    assert rows[("timeliness", "MSI_L2A_TL", "met")] == "False"
    assert int(rows[("availability", "all", "probes")]) == kpi["availability"]["probes"]
    assert rows[("completeness", "MSI_L2A_TL", "quarantined")] == "1"


def test_only_admins_get_in(console: tuple[TestClient, History], components: Components) -> None:
    client, _ = console
    anonymous = client.get("/console")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    for path in ("/console", "/console/export.csv", "/console/export.json"):
        assert client.get(path, headers=basic_header(*DOWNLOADER)).status_code == 403
    # the same tokens as the API: an admin's Bearer token opens the console, a user's does not
    for name, status in ((ADMIN[0], 200), (DOWNLOADER[0], 403)):
        token = components.tokens.issue(components.users.get(name)).access_token
        answer = client.get("/console", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == status, name


def test_targets_come_from_settings(
    components: Components, built_components: BuildComponents
) -> None:
    kpi = KpiSettings(timeliness_targets={"MSI_L2A_TL": 7200, "default": 600})
    settings = components.settings.model_copy(update={"kpi": kpi})
    other = built_components(settings)
    targets = other.kpi().targets
    assert targets.timeliness_of("MSI_L2A_TL") == 7200 and targets.timeliness_of("X") == 600


def test_products_without_their_olqc_report_are_counted_and_listed(
    components: Components, built_components: BuildComponents, tmp_path: Path
) -> None:
    """The Level-0 products published while the PRIP expects their OLQC reports: the one
    whose report came is not listed, the others are, per day and by name."""
    settings = components.settings.model_copy(update={"kpi": KpiSettings(**OLQC_EXPECTED)})
    expecting = built_components(settings)
    history = build_history(expecting, datetime.now(UTC), tmp_path / "work")
    with TestClient(create_app(api_services(expecting))) as other:
        week = other.get("/console", params={"period": "7d"}, headers=AS_ADMIN).text
        listed = re.search(r'data-table="unreported".*?</table>', week, re.S).group(0)
        assert sorted(re.findall(r"<td>(S2B_[^<]*)</td>", listed)) == sorted(history.unreported)
        assert GRANULE not in listed  # its report was published
        parts = re.findall(r'data-series="unreported" data-value="(\d+)"', week)
        assert sum(int(n) for n in parts) == len(history.unreported)
        assert f"Products without an OLQC report: {len(history.unreported)}</h3>" in week
        csv_rows = other.get("/console/export.csv", params={"period": "7d"}, headers=AS_ADMIN)
        assert f"completeness,all,missing_olqc_reports,{len(history.unreported)}" in csv_rows.text
        since = (history.now - timedelta(days=7)).isoformat()
        kpi = other.get("/kpi", params={"since": since}, headers=AS_ADMIN).json()
        found = kpi["series"]["olqc_unreported"]
        assert found["count"] == len(history.unreported)
        assert {u["name"] for u in found["latest"]} == set(history.unreported)
        per_day = Counter(u["published"][:10] for u in found["latest"])  # the DB's UTC days
        daily = {d["day"]: d["unreported"] for d in kpi["series"]["completeness_daily"]}
        assert {day: n for day, n in daily.items() if n} == per_day
    # a report still within its grace period is not missing yet
    graced = KpiSettings(olqc_types=OLQC_EXPECTED["olqc_types"], olqc_grace_s=86400 * 7)
    waiting = built_components(components.settings.model_copy(update={"kpi": graced}))
    now = datetime.now(UTC)
    assert waiting.kpi().figures(now - timedelta(days=7), now).unreported_count == 0


def test_stored_rollups_give_the_figures_of_the_products(
    components: Components, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    build_history(components, now, tmp_path / "work")
    window = (now - timedelta(days=3), now)
    first = components.kpi().figures(*window)  # rolls the past hours up, and stores them
    done, stored = KpiHours(components.engine).read(window[0], now)
    assert len(done) >= 70 and sum(r.published for r in stored) > 0
    again = components.kpi().figures(*window)  # a new process: reads what was stored
    plain = KpiService(
        KpiRepository(components.engine), QuarantineRepository(components.engine)
    ).figures(*window)  # every hour from the products
    for figures in (again, plain):
        assert figures.timeliness == first.timeliness and figures.hourly == first.hourly
        assert figures.histogram == first.histogram and figures.daily == first.daily
        assert figures.incomplete == first.incomplete
        assert figures.datastrips == first.datastrips
        assert figures.availability == first.availability


def test_days_rolled_up_ahead_give_a_cold_process_the_same_figures(
    components: Components, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    build_history(components, now, tmp_path / "work")
    window = (now - timedelta(days=3), now)
    components.kpi().roll_up(*window)  # the prober's work: hours, whole days, probe hours
    days = KpiHours(components.engine).read_days(window[0], now)
    assert len({day for day, _ in days}) == 2  # the two whole days of the three
    plain = KpiService(KpiRepository(components.engine), QuarantineRepository(components.engine))
    cold = components.kpi()  # a new process: whole days' buckets merged, their hours bare
    # the 3 days, then 36 hours that cut a day held bare (its hours' buckets are fetched)
    for since in (window[0], now - timedelta(hours=36)):
        expected, found = plain.figures(since, now), cold.figures(since, now)
        assert found.timeliness == expected.timeliness and found.hourly == expected.hourly
        assert found.histogram == expected.histogram and found.daily == expected.daily
        assert found.availability == expected.availability
        assert found.outages == expected.outages and found.timeline == expected.timeline


def test_probe_hours_stored_give_the_figures_of_the_probes(
    components: Components, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    build_history(components, now, tmp_path / "work")
    window = (now - timedelta(days=2), now)
    repository, stored = KpiRepository(components.engine), ProbeHours(components.engine)
    direct = ProbeHistory(repository, 500).figures(*window)
    ProbeHistory(repository, 20, stored).figures(*window)  # works the hours out, stores them
    assert len(stored.read(*window)) >= 40
    cold = ProbeHistory(repository, 20, stored).figures(*window)  # reads them
    assert cold[0] == direct[0] and cold[1] == direct[1]


def test_probe_hours_kept_give_the_figures_of_the_probes(
    components: Components, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    build_history(components, now, tmp_path / "work")
    window = (now - timedelta(days=2), now)
    repository = KpiRepository(components.engine)
    direct = ProbeHistory(repository, 500).figures(*window)  # 6-minute slots: the DB counts
    hourly = ProbeHistory(repository, 20)  # 2.4-hour slots: past hours learnt and kept
    for _ in range(2):  # learnt, then from what it kept
        found = hourly.figures(*window)
        assert found[0] == direct[0] and found[1] == direct[1]  # availability, outages
        assert sum(s.ok + s.failed for s in found[2]) == direct[0].probes
    # the outage: from its first failed probe to the next good one, PROBE_EVERY apart
    assert [o.seconds for o in direct[1]] == [OUTAGE[1] * PROBE_EVERY.total_seconds()]
