"""KPI rollups per hour add up to the window's figures: exact per hour, percentiles over a
window at most 1% above the exact ones (never below), datastrips matched across hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from prip_ray.domain.kpi import datastrip_completeness, percentile
from prip_ray.domain.kpi_rollup import (
    bucket_of,
    datastrip_summary,
    incomplete,
    merged_percentiles,
    merged_strips,
    roll_up,
)
from prip_ray.services.kpi_cache import RollupCache

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DS = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11.tar"


def granule(detector: int) -> str:
    return f"S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D{detector:02d}_N05.11.tar"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-5, max_value=500_000), min_size=1, max_size=300))
def test_window_percentiles_are_within_one_percent_above(delays: list[float]) -> None:
    rows = [(T0 + timedelta(minutes=7 * i), "GR", d) for i, d in enumerate(delays)]
    rollups = roll_up(rows, [])
    exact = sorted(delays)
    for q, found in zip((50, 95, 100), merged_percentiles(rollups, (50, 95, 100)), strict=True):
        true = percentile(exact, q)
        assert true <= found <= max(true * 1.01, 1.0), (q, true, found)
    assert sum(r.published for r in rollups) == len(delays)


def test_hours_are_exact_and_buckets_are_one_percent_wide() -> None:
    rows = [(T0 + timedelta(minutes=m), "GR", float(d)) for m, d in ((1, 10), (2, 30), (3, 20))]
    rows.append((T0 + timedelta(hours=1), "GR", 99.0))
    first, second = roll_up(rows, [])
    assert (first.published, first.p50_s, first.p95_s, first.max_s) == (3, 20.0, 30.0, 30.0)
    assert second.hour == T0 + timedelta(hours=1) and second.published == 1
    assert bucket_of(0.5) == 0 and bucket_of(100) < bucket_of(101.5)
    assert sum(first.bins) == 3


def test_datastrips_match_their_granules_across_hours() -> None:
    named = [(DS, T0 + timedelta(hours=5)), *((granule(d), T0) for d in range(1, 12))]
    strips = merged_strips(roll_up([], named))
    assert [(i.datastrip, i.missing) for i in incomplete(strips)] == [(DS, ("D12",))]
    assert datastrip_summary(strips) == datastrip_completeness(n for n, _ in named)


def test_the_cache_condenses_whole_days_to_the_same_percentiles() -> None:
    rng = random.Random(7)
    rows = [(T0 + timedelta(minutes=10 * i), "GR", rng.uniform(60, 7200)) for i in range(6 * 60)]
    rollups = roll_up(rows, [])
    hours = [T0 + timedelta(hours=h) for h in range(60)]
    cache = RollupCache()
    cache.put(hours, rollups)
    held, missing = cache.split([*hours, T0 + timedelta(hours=99)])
    assert missing == [T0 + timedelta(hours=99)] and len(held) == len(rollups)
    condensed = cache.condensed(held)
    assert len(condensed) == 12 + 1  # the hours of the third day, and the two whole ones
    assert cache.condensed(held)[-1] is condensed[-1]  # merged once, kept
    assert merged_percentiles(condensed, (50, 95)) == merged_percentiles(rollups, (50, 95))


def test_a_day_merged_before_never_stands_for_part_of_it() -> None:
    rng = random.Random(11)
    rows = [(T0 + timedelta(minutes=10 * i), "GR", rng.uniform(60, 7200)) for i in range(6 * 48)]
    rollups = roll_up(rows, [])
    cache = RollupCache()
    cache.put([T0 + timedelta(hours=h) for h in range(48)], rollups)
    cache.condensed(rollups)  # both days merged and kept
    later = [r for r in rollups if r.hour >= T0 + timedelta(hours=30)]  # cuts the second day
    assert merged_percentiles(cache.condensed(later), (50, 95)) == merged_percentiles(
        later, (50, 95)
    )
