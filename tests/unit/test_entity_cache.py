"""The replica's cache of encoded products: by version and form, bounded, never stale."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from prip_ray.domain.products import NEVER, Product, TimeRange
from prip_ray.odata.entity_cache import EntityCache

T0 = datetime(2025, 8, 1, tzinfo=UTC)


def product(index: int) -> Product:
    return Product(
        id=uuid.UUID(int=index + 1),
        name=f"P{index}",
        product_type="MSI_L1C_TL",
        content_type="application/octet-stream",
        content_length=index,
        origin_date=T0,
        publication_date=T0,
        eviction_date=NEVER,
        modification_date=T0,
        content_date=TimeRange(T0, T0),
        object_key=f"{index}",
    )


class Store:
    """What the database holds, and which Ids each load asked for."""

    def __init__(self, products: list[Product]):
        self.rows = {p.id: p for p in products}
        self.loads: list[list[uuid.UUID]] = []

    def load(self, ids: list[uuid.UUID]) -> list[Product]:
        self.loads.append(list(ids))
        return [self.rows[i] for i in reversed(ids) if i in self.rows]  # in no useful order


def encode(p: Product) -> bytes:
    return f"{p.name}:{p.online}".encode()


def test_kept_products_are_not_read_again_and_the_order_is_the_pages() -> None:
    store = Store([product(i) for i in range(4)])
    cache = EntityCache(10)
    first = [store.rows[uuid.UUID(int=i)].version for i in (3, 1, 2)]
    assert cache.encoded(first, "plain", store.load, encode) == [b"P2:True", b"P0:True", b"P1:True"]
    again = [store.rows[uuid.UUID(int=i)].version for i in (1, 4, 3)]
    assert cache.encoded(again, "plain", store.load, encode) == [b"P0:True", b"P3:True", b"P2:True"]
    assert store.loads == [
        [uuid.UUID(int=3), uuid.UUID(int=1), uuid.UUID(int=2)],
        [uuid.UUID(int=4)],
    ]


def test_another_form_or_version_is_read_afresh() -> None:
    store = Store([product(0)])
    cache = EntityCache(10)
    seen = store.rows[uuid.UUID(int=1)].version
    cache.encoded([seen], "plain", store.load, encode)
    cache.encoded([seen], ("Name",), store.load, encode)
    evicted = replace(store.rows[seen.id], online=False, modification_date=T0 + timedelta(days=1))
    store.rows[seen.id] = evicted
    assert cache.encoded([evicted.version], "plain", store.load, encode) == [b"P0:False"]
    assert len(store.loads) == 3


def test_a_product_changed_or_gone_since_the_search_is_served_as_it_is_now() -> None:
    store = Store([product(0), product(1)])
    cache = EntityCache(10)
    found = [p.version for p in store.rows.values()]
    store.rows[found[0].id] = replace(store.rows[found[0].id], online=False)
    del store.rows[found[1].id]
    assert cache.encoded(found, "plain", store.load, encode) == [b"P0:False"]
    # kept as the version it is now, so a search that finds that version takes it from here
    now = store.rows[found[0].id].version
    assert cache.encoded([now], "plain", store.load, encode) == [b"P0:False"]
    assert len(store.loads) == 1


def test_the_least_recently_used_go_first_and_zero_keeps_none() -> None:
    store = Store([product(i) for i in range(3)])
    versions = [p.version for p in store.rows.values()]
    cache = EntityCache(2)
    cache.encoded(versions[:2], "plain", store.load, encode)
    cache.encoded(versions[:1], "plain", store.load, encode)  # P0 used again: P1 is oldest
    cache.encoded(versions[2:], "plain", store.load, encode)
    assert len(cache) == 2
    store.loads.clear()
    cache.encoded(versions, "plain", store.load, encode)
    assert store.loads == [[versions[1].id]]
    none = EntityCache(0)
    none.encoded(versions, "plain", store.load, encode)
    none.encoded(versions, "plain", store.load, encode)
    assert len(none) == 0 and len(store.loads) == 3
