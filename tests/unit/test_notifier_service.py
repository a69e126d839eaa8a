"""The Notifier on in-memory ports: matching events reach each subscriber once and in
order, a failing endpoint backs off without holding up the others and turns "failed" after
``fail_after_s``, and the endpoint password travels opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from prip_ray.config import SubscriptionSettings
from prip_ray.security.secrets import SecretBox
from prip_ray.services.notify import Notifier
from tests.unit.fakes import (
    FakeCatalogue,
    FakeClock,
    FakeDeletedProducts,
    FakeSubscriptions,
    FakeWebhooks,
    a_product,
)

GOOD, BAD = "https://good.example/notify", "https://bad.example/notify"


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.subscriptions = FakeSubscriptions()
        self.catalogue = FakeCatalogue()
        self.endpoints = FakeWebhooks()
        self.time = FakeClock()
        self.secrets = SecretBox(tmp_path / "fernet.key")
        settings = SubscriptionSettings(
            retry_base_s=2.0, retry_max_s=60.0, fail_after_s=600.0, senders=2
        )
        self.notifier = Notifier(
            self.subscriptions,
            self.catalogue,
            self.secrets,
            settings,
            send=self.endpoints,
            now=self.time.now,
            clock=self.time.clock,
            deleted=FakeDeletedProducts(),
        )

    def publish(self, *names: str) -> None:
        for name in names:
            self.subscriptions.publish("created", self.catalogue.add(a_product(name)))

    def run(self) -> int:
        return self.notifier.run_once()


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_matching_products_reach_the_subscriber_once_in_order(world: World) -> None:
    sub = world.subscriptions.subscribe("startswith(Name,'S2')", GOOD)
    world.publish("S2A_1", "S1A_2", "S2B_3")

    delivered = world.run()
    again = world.run()

    assert (delivered, again) == (2, 0)
    assert world.endpoints.names(GOOD) == ["S2A_1", "S2B_3"]
    assert world.subscriptions.get(sub).cursor == 3


def test_a_failing_endpoint_backs_off_and_does_not_hold_up_the_others(world: World) -> None:
    bad = world.subscriptions.subscribe("startswith(Name,'S2')", BAD)
    world.subscriptions.subscribe("startswith(Name,'S2')", GOOD)
    world.endpoints.down.add(BAD)
    world.publish("S2A_1", "S2A_2")

    first = world.run()
    world.endpoints.down.clear()
    backing_off = world.run()
    world.time.advance(3)
    caught_up = world.run()

    assert (first, backing_off, caught_up) == (2, 0, 2)
    assert world.endpoints.names(BAD) == ["S2A_1", "S2A_2"]
    assert world.subscriptions.get(bad).last_error is None
    assert world.notifier.failures == 1


def test_an_endpoint_failing_past_fail_after_turns_the_subscription_failed(
    world: World,
) -> None:
    bad = world.subscriptions.subscribe("startswith(Name,'S2')", BAD)
    world.endpoints.down.add(BAD)
    world.publish("S2A_1")

    world.run()
    assert world.subscriptions.get(bad).status == "running"
    assert "503" in (world.subscriptions.get(bad).last_error or "")
    world.time.advance(601)
    world.run()

    assert world.subscriptions.get(bad).status == "failed"
    assert world.endpoints.received == []


def test_the_endpoint_password_is_sent_opened(world: World) -> None:
    world.subscriptions.subscribe("startswith(Name,'S2')", GOOD, world.secrets.seal("s3cret"))
    world.publish("S2A_1")

    world.run()

    assert [(u, p) for _, _, u, p in world.endpoints.received] == [("ep", "s3cret")]
