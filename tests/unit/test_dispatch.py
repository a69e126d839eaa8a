import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prip_ray.domain.products import NEVER, Product, TimeRange
from prip_ray.domain.sharding import shard_of
from prip_ray.services.dispatch import (
    BUNDLE_MAX_BYTES,
    PoolSizer,
    PublishQueue,
    ReadyList,
    ShardPlan,
    WorkerDeaths,
    bundles,
    desired_workers,
)
from prip_ray.services.ingest import ReadyProduct
from prip_ray.storage.inbox import InboxItem, LocalInbox

NOW = datetime(2025, 8, 1, tzinfo=UTC)


def _items(count: int) -> list[InboxItem]:
    return [InboxItem(f"P{i:03d}.tar", f"/inbox/P{i:03d}.tar", NOW) for i in range(count)]


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
    assert desired_workers(0, 0, 4) == 0
    assert desired_workers(3, 1, 4) == 3
    assert desired_workers(50, 1, 4) == 4


def test_products_backing_off_are_not_selected() -> None:
    plan = ShardPlan(0, 1, max_in_flight=10)
    items = _items(3)
    chosen = plan.select(items, set(), due=lambda name: name != "P001.tar")
    assert [i.name for i in chosen] == ["P000.tar", "P002.tar"]


class FakeInbox:
    def __init__(self, items: list[InboxItem]):
        self.items = items
        self.listings = 0

    def ready(self, wanted: Callable[[str], bool]) -> list[InboxItem]:
        self.listings += 1
        return [item for item in self.items if wanted(item.published_name)]


def test_ready_list_serves_completions_from_one_listing() -> None:
    now = [0.0]
    inbox = FakeInbox(_items(6))
    plan = ShardPlan(0, 1, max_in_flight=2)
    ready = ReadyList(inbox.ready, plan.owns, max_age_s=1.0, clock=lambda: now[0])
    assert len(ready.candidates()) == 6 and inbox.listings == 1
    for item in inbox.items[:4]:  # finished one by one within the interval
        ready.gone(item.name)
        assert item.name not in {i.name for i in ready.candidates()}
    assert inbox.listings == 1


def test_ready_list_lists_again_when_old_or_used_up() -> None:
    now = [0.0]
    inbox = FakeInbox(_items(2))
    ready = ReadyList(inbox.ready, lambda name: True, max_age_s=1.0, clock=lambda: now[0])
    ready.candidates()
    inbox.items.append(_items(3)[2])  # a new delivery
    now[0] = 1.5
    assert len(ready.candidates()) == 3 and inbox.listings == 2
    for item in list(inbox.items):
        ready.gone(item.name)
    inbox.items.clear()
    assert ready.candidates() == [] and inbox.listings == 3  # used up: look again at once


def test_ready_list_keeps_only_this_shards_products() -> None:
    items = _items(50)
    plan = ShardPlan(1, 3, max_in_flight=10)
    ready = ReadyList(FakeInbox(items).ready, plan.owns, max_age_s=1.0)
    assert {i.name for i in ready.candidates()} == {i.name for i in items if plan.owns(i.name)}


def test_pool_grows_at_once_and_shrinks_only_after_a_quiet_spell() -> None:
    now = [0.0]
    sizer = PoolSizer(minimum=1, maximum=4, shrink_after_s=30, clock=lambda: now[0])
    assert sizer.change(size=1, load=3) == 2
    assert sizer.change(size=3, load=0) == 0  # a dip between completion and pick-up
    now[0] = 10
    assert sizer.change(size=3, load=3) == 0  # busy again: the dip is forgotten
    assert sizer.change(size=3, load=0) == 0
    now[0] = 39
    assert sizer.change(size=3, load=0) == 0
    now[0] = 41
    assert sizer.change(size=3, load=0) == -2  # quiet for 31 s: down to the minimum
    assert sizer.change(size=1, load=9) == 3  # never above the maximum


def test_a_pool_of_at_least_none_starts_with_the_first_product_and_ends_when_quiet() -> None:
    now = [0.0]
    sizer = PoolSizer(minimum=0, maximum=2, shrink_after_s=30, clock=lambda: now[0])
    assert sizer.change(size=0, load=0) == 0  # an empty inbox: no QC worker at all
    assert sizer.change(size=0, load=1) == 1
    assert sizer.change(size=1, load=0) == 0
    now[0] = 31
    assert sizer.change(size=1, load=0) == -1


def test_a_product_that_keeps_killing_its_worker_is_poison_at_the_limit() -> None:
    deaths = WorkerDeaths(limit=3)
    assert not deaths.died("a") and not deaths.died("a")
    assert not deaths.died("b")  # counted per product
    assert deaths.died("a") and deaths.count("a") == 3
    deaths.forget("a")  # finished by a worker, or quarantined: starts over
    assert deaths.count("a") == 0 and not deaths.died("a")


def _ready(index: int) -> ReadyProduct:
    product = Product(
        id=uuid.UUID(int=index + 1),
        name=f"P{index:03d}.tar",
        product_type="MSI_L0__GR",
        content_type="application/x-tar",
        content_length=10_000,
        origin_date=NOW,
        publication_date=NOW,
        eviction_date=NEVER,
        modification_date=NOW,
        content_date=TimeRange(NOW, NOW),
        object_key=f"{index}/P{index:03d}.tar",
    )
    return ReadyProduct(product, f"/inbox/{product.name}", remove=True)


def test_a_publish_group_waits_for_company_at_most_its_wait() -> None:
    now = [0.0]
    queue = PublishQueue(batch=4, wait_s=0.05, clock=lambda: now[0])
    assert queue.due_in() is None and queue.take() == []
    queue.add(_ready(0))
    now[0] = 0.02
    queue.add(_ready(1))
    assert queue.take() == []  # the oldest has waited 20 of its 50 ms
    assert queue.due_in() == 0.05 - 0.02
    assert queue.names() == {"P000.tar", "P001.tar"}
    now[0] = 0.05
    assert [r.product.name for r in queue.take()] == ["P000.tar", "P001.tar"]
    assert len(queue) == 0 and queue.names() == set()


def test_a_full_publish_group_goes_at_once_and_the_rest_waits_its_turn() -> None:
    now = [0.0]
    queue = PublishQueue(batch=3, wait_s=10.0, clock=lambda: now[0])
    for index in range(5):
        queue.add(_ready(index))
    assert queue.due_in() == 0.0
    assert [r.product.name for r in queue.take()] == ["P000.tar", "P001.tar", "P002.tar"]
    assert queue.take() == []  # two left: not full, and their wait has not passed
    now[0] = 10.0
    assert [r.product.name for r in queue.take()] == ["P003.tar", "P004.tar"]


def test_small_files_go_to_qc_in_bundles_large_ones_and_folders_alone(tmp_path: Path) -> None:
    inbox = LocalInbox(tmp_path / "inbox", settle_s=0)
    for index in range(7):
        (inbox.root / f"S{index}.xml").write_bytes(b"x" * 10_000)
    (inbox.root / "LARGE.tar").write_bytes(b"x" * (BUNDLE_MAX_BYTES + 1))
    (inbox.root / "FOLDER").mkdir()
    (inbox.root / "FOLDER" / "file").write_bytes(b"x")
    items = inbox.ready()
    assert {i.name: i.size for i in items}["S0.xml"] == 10_000  # the listing's own stat
    calls = bundles(items, workers=2, most=3)
    assert [len(c) for c in calls] == [3, 3, 1, 1, 1]  # 7 small over 2 workers: <= 3 a call
    assert {c[0].name for c in calls[-2:]} == {"LARGE.tar", "FOLDER"}
    assert sorted(i.name for c in calls for i in c) == sorted(i.name for i in items)
    assert [len(c) for c in bundles(items[:4], workers=4, most=3)] == [1, 1, 1, 1]
    # A bundle whose worker died: its products go alone, so the one that kills shows itself.
    suspects = {"S0.xml", "S1.xml"}
    calls = bundles(items, workers=1, most=10, alone=suspects)
    assert [len(c) for c in calls] == [5, 1, 1, 1, 1]
    assert all(len(c) == 1 for c in calls if suspects & {i.name for i in c})
