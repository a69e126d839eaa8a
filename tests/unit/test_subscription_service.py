"""The subscription service on in-memory ports: users see and change only their own (admin:
all), the per-user limits hold at creation and when one is set running again, and endpoint
passwords are stored sealed."""

from __future__ import annotations

from pathlib import Path

import pytest

from prip_ray.config import SubscriptionSettings
from prip_ray.domain.subscriptions import Subscription
from prip_ray.domain.users import User
from prip_ray.errors import EndpointNotAllowed, ProductNotFound, QuotaExceeded
from prip_ray.security.secrets import SecretBox
from prip_ray.services.subscriptions import SubscriptionService
from tests.unit.fakes import T0, FakeSubscriptions

ALICE = User("alice", "subscriptions", False, T0, "")
BOB = User("bob", "subscriptions", False, T0, "")
ADMIN = User("root", "admin", False, T0, "")
FILTER = "startswith(Name,'S2')"


class AllowedEndpoints:
    def __init__(self) -> None:
        self.refused: set[str] = set()

    def check(self, url: str) -> None:
        if url in self.refused:
            raise EndpointNotAllowed(f"{url} reaches a private address")


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.subscriptions = FakeSubscriptions()
        self.endpoints = AllowedEndpoints()
        self.secrets = SecretBox(tmp_path / "subscription.key")
        self.service = SubscriptionService(
            self.subscriptions,
            self.secrets,
            SubscriptionSettings(max_running=1, max_total=2),
            self.endpoints,
        )

    def create(self, user: User, password: str | None = None) -> Subscription:
        return self.service.create(
            user, event="created", filter_param=FILTER, endpoint="https://hooks.example/in",
            username="ep" if password else None, password=password, now=T0,
        )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_users_see_only_their_own_and_admin_sees_all(world: World) -> None:
    mine = world.create(ALICE)

    assert world.service.listing(ALICE) == [mine] and world.service.listing(BOB) == []
    assert world.service.listing(ADMIN) == [mine]
    assert world.service.get(ADMIN, mine.id) == mine
    with pytest.raises(ProductNotFound):
        world.service.get(BOB, mine.id)
    with pytest.raises(ProductNotFound):
        world.service.delete(BOB, mine.id)
    world.service.delete(ALICE, mine.id)
    assert world.service.listing(ADMIN) == []


def test_the_limits_hold_at_creation_and_when_one_runs_again(world: World) -> None:
    first = world.create(ALICE)
    with pytest.raises(QuotaExceeded):
        world.create(ALICE)  # one running at most
    world.service.set_status(ALICE, first, "paused")
    second = world.create(ALICE)
    with pytest.raises(QuotaExceeded):
        world.service.set_status(ALICE, world.service.get(ALICE, first.id), "running")
    with pytest.raises(QuotaExceeded):
        world.create(ALICE)  # two in all at most

    assert [s.status for s in world.service.listing(ALICE)] == ["paused", "running"]
    assert second.status == "running"
    assert world.create(ADMIN).owner == "root"  # admin is not limited


def test_endpoint_passwords_are_stored_sealed(world: World) -> None:
    made = world.create(ALICE, password="s3cret")

    sealed = world.subscriptions.subs[made.id][1]
    assert made.has_password and sealed is not None and "s3cret" not in sealed
    assert world.secrets.open(sealed) == "s3cret"


def test_an_endpoint_the_policy_refuses_stores_nothing(world: World) -> None:
    world.endpoints.refused.add("https://hooks.example/in")

    with pytest.raises(EndpointNotAllowed):
        world.create(ALICE)
    assert world.service.listing(ADMIN) == []
