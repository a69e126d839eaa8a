"""The KPIs over time: the delay histogram's bins, granules missing from datastrips per
day, outages (from every probe or only the changes), and which KPI misses its target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prip_ray.domain.kpi_series import (
    DELAY_EDGES,
    Incomplete,
    Targets,
    bin_of,
    breaches,
    daily_completeness,
    outages,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DS = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11.tar"


def test_histogram_bins_on_fixed_edges() -> None:
    assert bin_of(0) == 0 and bin_of(59.9) == 0 and bin_of(60) == 1
    assert bin_of(3600) == DELAY_EDGES.index(3600)
    assert bin_of(10 * 86400) == len(DELAY_EDGES) - 1


def test_missing_granules_per_day() -> None:
    day2 = T0 + timedelta(days=1, hours=3)
    found = [
        Incomplete(DS, day2, ("D12",)),
        Incomplete(DS.replace("0620", "0621"), day2, ("D01", "D02")),
    ]
    unreported = {T0 + timedelta(days=2): 4}  # products still without an OLQC report
    rows = daily_completeness(
        {T0: 5}, {T0 + timedelta(days=2): 2}, found, T0, T0 + timedelta(days=3), unreported
    )
    assert [(r.day, r.published, r.quarantined, r.missing, r.unreported) for r in rows] == [
        (T0, 5, 0, 0, 0),
        (T0 + timedelta(days=1), 0, 0, 3, 0),
        (T0 + timedelta(days=2), 0, 2, 0, 4),
    ]


def test_outages_from_every_probe_or_only_the_changes() -> None:
    states = [True, False, False, True, True, False]
    probes = [(T0 + timedelta(minutes=i), ok) for i, ok in enumerate(states)]
    found = outages(probes)
    assert [(o.start, o.end) for o in found] == [
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)),
        (T0 + timedelta(minutes=5), T0 + timedelta(minutes=5)),
    ]
    changes_only = [p for i, p in enumerate(probes) if i in (0, 1, 3, 5)]
    assert outages(changes_only) == found  # what the DB sends for a month


def test_breaches_against_targets() -> None:
    targets = Targets({"GR": 600.0, "default": 3600.0}, 0.99, 0.995)
    found = breaches({"GR": 700.0, "TL": 3000.0, "DS": 4000.0}, 0.98, 0.999, targets)
    assert [(b.kpi, b.subject, b.value, b.target) for b in found] == [
        ("timeliness", "DS", 4000.0, 3600.0),
        ("timeliness", "GR", 700.0, 600.0),
        ("completeness", "all", 0.98, 0.99),
    ]
    assert breaches({}, None, None, targets) == []
    assert Targets({}, 1, 1).timeliness_of("X") == 3600.0
