"""The Tracer on in-memory ports: each publication and eviction traced once, a failing
service backs off, a refused trace is not retried, a restart does not send twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prip_ray.domain.backoff import Backoff
from prip_ray.domain.deliveries import DONE, REFUSED, SENDING
from prip_ray.errors import DeliveryFailed
from prip_ray.security.signing import TraceSigner, verify_signature
from prip_ray.services.trace import Tracer
from tests.pki import write_key_and_cert
from tests.unit.fakes import (
    FakeCatalogue,
    FakeClock,
    FakeDeliveryQueue,
    FakeObjectStore,
    FakeTraceService,
    a_product,
)


class LosingReplies(FakeTraceService):
    """Keeps the trace, then the reply is lost: the Tracer cannot know it arrived."""

    def put(self, trace: dict[str, Any]) -> None:
        super().put(trace)
        raise DeliveryFailed("connection reset after the request was sent")


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> TraceSigner:
    directory: Path = tmp_path_factory.mktemp("pki")
    return TraceSigner.from_files(*write_key_and_cert(directory, "ec"))


class World:
    def __init__(self, signer: TraceSigner, service: FakeTraceService | None = None) -> None:
        self.queue = FakeDeliveryQueue()
        self.catalogue = FakeCatalogue()
        self.store = FakeObjectStore()
        self.service = service or FakeTraceService()
        self.time = FakeClock()
        self.tracer = Tracer(
            self.queue,
            self.catalogue,
            self.store,
            signer,
            self.service,
            hash_algorithm="SHA256",
            concurrency=2,
            backoff=Backoff(2.0, 60.0),
            now=self.time.now,
            clock=self.time.clock,
        )

    def publish(self, name: str, data: bytes) -> None:
        product = self.catalogue.add(a_product(name, data))
        self.store.objects[product.object_key] = data
        self.queue.publish("created", product)


def test_each_publication_is_traced_once_and_signed(signer: TraceSigner) -> None:
    world = World(signer)
    world.publish("A.tar", b"alpha")
    world.publish("B.tar", b"bravo")

    first = world.tracer.run_once()
    again = world.tracer.run_once()

    assert (first.sent, again.sent) == (2, 0)
    assert sorted(t["product"]["name"] for t in world.service.traces) == ["A.tar", "B.tar"]
    assert all(verify_signature(t["signature"]) for t in world.service.traces)
    assert set(world.queue.states().values()) == {DONE}
    assert world.tracer.verify("A.tar").ok


def test_a_failing_service_backs_off_then_gets_every_trace(signer: TraceSigner) -> None:
    world = World(signer)
    for name in ("A.tar", "B.tar", "C.tar"):
        world.publish(name, name.encode())
    world.service.down = True

    failed = world.tracer.run_once()
    world.service.down = False
    paused = world.tracer.run_once()  # the whole wave failed: the service looks down
    world.time.advance(61)
    recovered = world.tracer.run_once()

    assert failed.failed >= 2 and failed.sent == 0
    assert paused.sent == 0
    assert recovered.sent == 3
    assert len(world.service.traces) == 3


def test_a_refused_trace_is_recorded_and_not_retried(signer: TraceSigner) -> None:
    world = World(signer)
    world.publish("BAD.tar", b"x")
    world.service.refuse.add("BAD.tar")

    refused = world.tracer.run_once()
    world.time.advance(3600)
    later = world.tracer.run_once()

    assert (refused.refused, later.refused, later.sent) == (1, 0, 0)
    assert world.queue.states() == {"BAD.tar created": REFUSED}
    assert "400" in next(iter(world.queue.errors.values()))


def test_a_trace_that_arrived_before_a_lost_reply_is_not_sent_again(
    signer: TraceSigner,
) -> None:
    world = World(signer, LosingReplies())
    world.publish("A.tar", b"alpha")

    lost = world.tracer.run_once()
    assert lost.failed == 1 and world.queue.states() == {"A.tar created": SENDING}
    world.time.advance(61)
    recovered = world.tracer.run_once()

    assert (recovered.recovered, recovered.sent) == (1, 0)
    assert len(world.service.traces) == 1
    assert world.queue.states() == {"A.tar created": DONE}


def test_a_delete_waits_for_its_create(signer: TraceSigner) -> None:
    world = World(signer)
    world.publish("A.tar", b"alpha")
    world.queue.publish("deleted", world.catalogue.by_name("A.tar"))  # type: ignore[arg-type]

    first = world.tracer.run_once()
    second = world.tracer.run_once()

    assert (first.sent, second.sent) == (1, 1)
    assert [t["event"] for t in world.service.traces] == ["CREATE", "DELETE"]
    assert world.service.traces[1]["product"] == world.service.traces[0]["product"]
