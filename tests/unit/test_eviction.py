import uuid
from datetime import UTC, datetime, timedelta

from prip_ray.domain.eviction import Candidate, choose

T0 = datetime(2025, 8, 1, tzinfo=UTC)


def candidate(index: int, size: int = 100, due_days: int = -1) -> Candidate:
    return Candidate(
        uuid.UUID(int=index + 1),
        f"P{index}",
        size,
        T0 + timedelta(days=due_days),
        T0 + timedelta(hours=index),
    )


def test_due_products_go_and_busy_ones_wait() -> None:
    due = [candidate(0), candidate(1), candidate(2)]
    decision = choose(
        due, [], stored_bytes=300, watermark_bytes=None, busy_ids={due[1].id}, limit=10
    )
    assert [c.name for c in decision.evict] == ["P0", "P2"]
    assert [c.name for c in decision.busy] == ["P1"]
    assert "EvictionDate" in decision.reason[due[0].id]


def test_watermark_evicts_oldest_first_until_below() -> None:
    oldest = [candidate(i, size=100, due_days=5) for i in range(5)]
    decision = choose([], oldest, stored_bytes=500, watermark_bytes=250, busy_ids=set(), limit=10)
    assert [c.name for c in decision.evict] == ["P0", "P1", "P2"]
    assert "watermark" in decision.reason[oldest[0].id]


def test_due_evictions_count_towards_the_watermark_and_the_limit_bounds_a_round() -> None:
    due = [candidate(9, size=300)]
    oldest = [candidate(i, size=100, due_days=5) for i in range(5)]
    decision = choose(due, oldest, stored_bytes=600, watermark_bytes=250, busy_ids=set(), limit=10)
    assert [c.name for c in decision.evict] == ["P9", "P0"]  # 600 - 300 - 100 <= 250
    bounded = choose(due, oldest, stored_bytes=600, watermark_bytes=0, busy_ids=set(), limit=2)
    assert len(bounded.evict) == 2


def test_held_products_stay_whatever_the_date_or_the_watermark() -> None:
    due = [candidate(0), candidate(1)]
    oldest = [due[1], candidate(2, due_days=5), candidate(3, due_days=5)]
    decision = choose(
        due,
        oldest,
        stored_bytes=400,
        watermark_bytes=150,
        busy_ids=set(),
        limit=10,
        held_ids={due[1].id, oldest[1].id},
    )
    assert [c.name for c in decision.evict] == ["P0", "P3"]
    assert [c.name for c in decision.held] == ["P1"]
