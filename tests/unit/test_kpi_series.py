"""The KPIs over time: per-hour percentiles, the delay histogram, granules missing from
datastrips per day, outages and the probe timeline, and which KPI misses its target."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prip_ray.domain.kpi_series import (
    DELAY_EDGES,
    DelaySeries,
    Targets,
    bin_of,
    breaches,
    daily_completeness,
    incomplete_datastrips,
    outages,
    probe_slots,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DS = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11.tar"


def granule(detector: int) -> str:
    return f"S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D{detector:02d}_N05.11.tar"


def test_percentiles_per_hour_and_type() -> None:
    series = DelaySeries()
    for i, delay in enumerate([10.0, 20.0, 30.0, 40.0]):
        series.add(T0 + timedelta(minutes=10 * i), "GR", delay)
    series.add(T0 + timedelta(hours=1, minutes=5), "GR", 500.0)
    series.add(T0 + timedelta(minutes=5), "TL", 7.0)
    points = [(p.hour, p.product_type, p.count, p.p50_s, p.p95_s) for p in series.hourly()]
    assert points == [
        (T0, "GR", 4, 20.0, 40.0),
        (T0, "TL", 1, 7.0, 7.0),
        (T0 + timedelta(hours=1), "GR", 1, 500.0, 500.0),
    ]
    assert series.published_per_hour == {T0: 5, T0 + timedelta(hours=1): 1}
    assert series.published_per_day == {T0: 6}


def test_histogram_bins_on_fixed_edges() -> None:
    assert bin_of(0) == 0 and bin_of(59.9) == 0 and bin_of(60) == 1
    assert bin_of(3600) == DELAY_EDGES.index(3600)
    assert bin_of(10 * 86400) == len(DELAY_EDGES) - 1
    series = DelaySeries()
    for delay in (30.0, 45.0, 4000.0):
        series.add(T0, "GR", delay)
    counts = series.histogram["GR"]
    assert counts[0] == 2 and counts[DELAY_EDGES.index(3600)] == 1 and sum(counts) == 3


def test_missing_detectors_per_datastrip_and_day() -> None:
    day2 = T0 + timedelta(days=1, hours=3)
    named = [(DS, day2), *((granule(d), T0) for d in range(1, 12)), ("garbage.tar", T0)]
    found = incomplete_datastrips(named)
    assert [(i.datastrip, i.missing) for i in found] == [(DS, ("D12",))]
    complete = incomplete_datastrips([(DS, T0), *((granule(d), T0) for d in range(1, 13))])
    assert complete == []
    rows = daily_completeness(
        {T0: 5}, {T0 + timedelta(days=2): 2}, found, T0, T0 + timedelta(days=3)
    )
    assert [(r.day, r.published, r.quarantined, r.missing) for r in rows] == [
        (T0, 5, 0, 0),
        (T0 + timedelta(days=1), 0, 0, 1),
        (T0 + timedelta(days=2), 0, 2, 0),
    ]


def test_outages_and_timeline_slots() -> None:
    states = [True, False, False, True, True, False]
    probes = [(T0 + timedelta(minutes=i), ok) for i, ok in enumerate(states)]
    found = outages(probes)
    assert [(o.start, o.end) for o in found] == [
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)),
        (T0 + timedelta(minutes=5), T0 + timedelta(minutes=5)),
    ]
    changes_only = [p for i, p in enumerate(probes) if i in (0, 1, 3, 5)]
    assert outages(changes_only) == found  # what the DB sends for a month
    slots = probe_slots(probes, T0, T0 + timedelta(minutes=8), 4)
    assert [(s.ok, s.failed) for s in slots] == [(1, 1), (1, 1), (1, 1), (0, 0)]
    assert slots[1].start == T0 + timedelta(minutes=2)


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
