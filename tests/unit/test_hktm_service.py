"""The HKTM forwarder on in-memory ports: HKTM products reach FOS in publication order,
each once; FOS away or a cut transfer backs off; a conflict or an evicted product is refused."""

from __future__ import annotations

from prip_ray.config import FosSettings
from prip_ray.domain.deliveries import DONE, PENDING, REFUSED
from prip_ray.services.hktm import HktmForwarder
from tests.unit.fakes import (
    FakeCatalogue,
    FakeClock,
    FakeDeliveryQueue,
    FakeFos,
    FakeObjectStore,
    a_product,
)

HKTM = "PRD_HKTM__"


class World:
    def __init__(self) -> None:
        self.queue = FakeDeliveryQueue()
        self.catalogue = FakeCatalogue()
        self.store = FakeObjectStore()
        self.fos = FakeFos()
        self.time = FakeClock()
        settings = FosSettings(
            sftp_url="sftp://fos@fos.example/in",
            layout="{mission}/{year}/{doy}/{name}",
            retry_base_s=2.0,
            retry_max_s=60.0,
        )
        self.forwarder = HktmForwarder(
            self.queue,
            self.catalogue,
            self.store,
            self.fos,
            settings,
            now=self.time.now,
            clock=self.time.clock,
        )

    def publish(self, name: str, product_type: str = HKTM, online: bool = True) -> str:
        data = name.encode()
        product = self.catalogue.add(a_product(name, data, product_type, online=online))
        self.store.objects[product.object_key] = data
        self.queue.publish("created", product)
        return f"S1A/2025/213/{name}"


def test_hktm_products_reach_fos_once_and_others_are_not_queued() -> None:
    world = World()
    first = world.publish("S1A_HKTM_1")
    second = world.publish("S1A_HKTM_2")
    world.publish("S1A_OTHER", product_type="MSI_L1C_TL")

    sent = world.forwarder.run_once()
    again = world.forwarder.run_once()

    assert (sent.delivered, sent.failed, again.delivered) == (2, 0, 0)
    assert world.fos.files == {first: b"S1A_HKTM_1", second: b"S1A_HKTM_2"}
    assert world.queue.states() == {"S1A_HKTM_1 created": DONE, "S1A_HKTM_2 created": DONE}
    assert world.fos.sessions == 1


def test_fos_away_backs_off_then_everything_goes() -> None:
    world = World()
    world.publish("S1A_HKTM_1")
    world.fos.down = True

    away = world.forwarder.run_once()
    world.fos.down = False
    waiting = world.forwarder.run_once()
    world.time.advance(3)
    back = world.forwarder.run_once()

    assert (away.failed, waiting.delivered, back.delivered) == (1, 0, 1)


def test_a_cut_transfer_stops_the_round_and_order_is_kept() -> None:
    world = World()
    world.publish("S1A_HKTM_1")
    world.publish("S1A_HKTM_2")
    world.publish("S1A_HKTM_3")
    world.fos.cut_after = 1

    cut = world.forwarder.run_once()
    states = world.queue.states()
    world.fos.cut_after = None
    world.time.advance(3)
    rest = world.forwarder.run_once()

    assert (cut.delivered, cut.failed) == (1, 1)
    assert states["S1A_HKTM_3 created"] == PENDING  # not sent ahead of the one that failed
    assert rest.delivered == 2
    assert list(world.fos.files) == [f"S1A/2025/213/S1A_HKTM_{i}" for i in (1, 2, 3)]


def test_a_file_already_complete_at_fos_is_recorded_not_sent_again() -> None:
    world = World()
    path = world.publish("S1A_HKTM_1")
    world.fos.files[path] = b"S1A_HKTM_1"  # delivered before a restart

    found = world.forwarder.run_once()

    assert (found.already, found.delivered) == (1, 0)
    assert world.queue.states() == {"S1A_HKTM_1 created": DONE}
    assert next(iter(world.queue.rows.values())).detail == {"path": path, "found_at_fos": True}


def test_a_conflicting_file_or_an_evicted_product_is_refused_and_the_rest_goes_on() -> None:
    world = World()
    clash = world.publish("S1A_HKTM_1")
    world.fos.files[clash] = b"another file"
    world.publish("S1A_HKTM_2", online=False)
    world.publish("S1A_HKTM_3")

    result = world.forwarder.run_once()

    assert (result.refused, result.delivered) == (2, 1)
    assert world.fos.files[clash] == b"another file"
    assert world.queue.states()["S1A_HKTM_2 created"] == REFUSED
