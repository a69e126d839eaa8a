from datetime import UTC, datetime
from pathlib import Path

from prip_ray.domain.sharding import shard_of
from prip_ray.services.dispatch import ShardPlan, desired_workers
from prip_ray.storage.inbox import InboxItem

NOW = datetime(2025, 8, 1, tzinfo=UTC)


def _items(count: int) -> list[InboxItem]:
    return [InboxItem(f"P{i:03d}.tar", Path(f"/inbox/P{i:03d}.tar"), NOW) for i in range(count)]


def test_shards_split_the_inbox_without_overlap() -> None:
    items = _items(200)
    plans = [ShardPlan(i, 3, max_in_flight=1000) for i in range(3)]
    chosen = [{i.name for i in plan.select(items, set())} for plan in plans]
    assert set().union(*chosen) == {i.name for i in items}
    assert sum(len(c) for c in chosen) == len(items)
    assert all(shard_of(n, 3) == k for k, names in enumerate(chosen) for n in names)


def test_backpressure_bounds_what_is_in_flight() -> None:
    plan = ShardPlan(0, 1, max_in_flight=4)
    items = _items(10)
    first = plan.select(items, set())
    assert len(first) == 4
    in_flight = {i.name for i in first[:3]}
    second = plan.select(items, in_flight)
    assert len(second) == 1 and second[0].name not in in_flight
    assert plan.select(items, {i.name for i in items[:4]}) == []


def test_pool_follows_the_load_within_bounds() -> None:
    assert desired_workers(0, 1, 4) == 1
    assert desired_workers(3, 1, 4) == 3
    assert desired_workers(50, 1, 4) == 4


def test_products_backing_off_are_not_selected() -> None:
    plan = ShardPlan(0, 1, max_in_flight=10)
    items = _items(3)
    chosen = plan.select(items, set(), due=lambda name: name != "P001.tar")
    assert [i.name for i in chosen] == ["P000.tar", "P002.tar"]
