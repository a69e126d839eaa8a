"""KPI arithmetic: nearest-rank percentiles, completeness ratios, granules per datastrip,
availability and the longest outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prip_ray.domain.kpi import (
    availability,
    completeness,
    datastrip_completeness,
    percentile,
    timeliness,
)

DS = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11.tar"


def granule(detector: int, sensing: str = "20250801T070620") -> str:
    return f"S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S{sensing}_D{detector:02d}_N05.11.tar"


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (
        50,
        95,
        100,
    )
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_timeliness_per_type() -> None:
    rows = timeliness([("GR", 1.0), ("GR", 3.0), ("GR", 2.0), ("TL", 10.0)])
    assert [(r.product_type, r.count, r.p50_s, r.max_s) for r in rows] == [
        ("GR", 3, 2.0, 3.0), ("TL", 1, 10.0, 10.0),
    ]  # fmt: skip


def test_completeness_ratio() -> None:
    rows = {r.product_type: r for r in completeness({"GR": 9, "DS": 1}, {"GR": 1, "TL": 2})}
    assert rows["GR"].ratio == 0.9 and rows["DS"].ratio == 1.0 and rows["TL"].ratio == 0.0


def test_granules_are_counted_against_their_datastrip() -> None:
    names = [DS, *(granule(d) for d in range(1, 13)), granule(3, "20250801T080000")]
    report = datastrip_completeness(names)
    assert (report.datastrips, report.granules, report.all_detectors) == (1, 12, 1)
    assert report.orphan_granules == 1 and report.without_granules == []
    alone = datastrip_completeness([DS])
    assert alone.without_granules == [DS] and alone.all_detectors == 0


def test_availability_and_longest_outage() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    states = [True, True, False, False, False, True, False, True]
    probes = [(t0 + timedelta(seconds=30 * i), ok) for i, ok in enumerate(states)]
    found = availability(probes)
    assert found.ratio == 4 / 8 and found.longest_outage_s == 90.0
    assert availability([]).ratio is None
