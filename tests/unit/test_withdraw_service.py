"""The withdrawal on in-memory ports: the product goes offline announced as deleted with the
operator's cause, then its bytes; withdrawing again or an evicted product announces nothing
new; a store failure leaves the bytes to the Roller's sweep."""

from __future__ import annotations

import uuid

import pytest

from prip_ray.domain.products import RETENTION_EXPIRED, Product
from prip_ray.errors import ProductNotFound, StorageError
from prip_ray.services.withdraw import Withdrawer
from tests.unit.fakes import FakeArchive, FakeClock, FakeObjectStore, a_product


class World:
    def __init__(self) -> None:
        self.archive = FakeArchive()
        self.store = FakeObjectStore()
        self.time = FakeClock()
        self.withdrawer = Withdrawer(
            self.archive, self.archive, self.archive, self.store, now=self.time.now
        )

    def publish(self, name: str) -> Product:
        product = self.archive.add(a_product(name, b"0123456789"))
        self.store.objects[product.object_key] = b"0123456789"
        return product


def test_a_withdrawn_product_is_offline_announced_and_its_bytes_are_gone() -> None:
    world = World()
    product = world.publish("WRONG")

    report = world.withdrawer.withdraw_name("WRONG", "  wrong   orbit ")

    assert report.announced and report.freed_bytes == 10
    assert report.cause == "Withdrawn: wrong orbit"
    assert not world.archive.products[product.id].online
    assert world.archive.events == [("deleted", product.id)]
    assert world.archive.deleted[product.id] == (world.time.now(), "Withdrawn: wrong orbit")
    assert world.store.objects == {} and world.archive.products[product.id].object_key == ""


def test_withdrawing_twice_keeps_the_first_cause_and_announces_once() -> None:
    world = World()
    product = world.publish("WRONG")
    world.withdrawer.withdraw(product.id, "first")

    again = world.withdrawer.withdraw(product.id, "second")

    assert not again.announced and again.freed_bytes == 0 and again.cause == "Withdrawn: first"
    assert world.archive.events == [("deleted", product.id)]


def test_withdrawing_an_evicted_product_only_changes_its_cause() -> None:
    world = World()
    product = world.publish("EVICTED")
    world.archive.mark_evicted(product.id, world.time.now(), RETENTION_EXPIRED)

    report = world.withdrawer.withdraw(product.id, "recalled")

    assert not report.announced and report.cause == "Withdrawn: recalled"
    assert world.archive.deleted[product.id][1] == "Withdrawn: recalled"
    assert world.archive.events == [("deleted", product.id)]  # from the eviction
    assert world.store.objects == {}  # the bytes the eviction left go now


def test_unknown_products_cannot_be_withdrawn() -> None:
    world = World()

    with pytest.raises(ProductNotFound):
        world.withdrawer.withdraw_name("NOBODY", "cause")
    with pytest.raises(ProductNotFound):
        world.withdrawer.withdraw(uuid.uuid4(), "cause")


def test_bytes_the_store_failed_to_delete_stay_for_the_rollers_sweep() -> None:
    world = World()
    product = world.publish("WRONG")
    world.store.broken = True

    with pytest.raises(StorageError):
        world.withdrawer.withdraw(product.id, "cause")

    assert not world.archive.products[product.id].online
    assert world.archive.orphans(10) == [(product.id, product.object_key)]
