"""Pull subscriptions off the DB: $top and AckId rules, and the Notifier queuing a pull
subscription's matching notifications (bounded, oldest dropped) instead of POSTing them."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from prip_ray.config import SubscriptionSettings
from prip_ray.domain.pull import PULL_ENDPOINT, ack_id, entry_of, read_top
from prip_ray.security.secrets import SecretBox
from prip_ray.services.notify import Notifier
from tests.unit.fakes import (
    FakeCatalogue,
    FakeClock,
    FakeDeletedProducts,
    FakePullQueue,
    FakeSubscriptions,
    FakeWebhooks,
    a_product,
)


@pytest.mark.parametrize(("text", "top"), [(None, 1), ("1", 1), ("20", 20)])
def test_top_defaults_to_one_and_goes_up_to_twenty(text: str | None, top: int) -> None:
    assert read_top(text) == top


@pytest.mark.parametrize("text", ["0", "21", "-1", "x", "", "2.5", "²"])
def test_other_tops_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="1 to 20"):
        read_top(text)


def test_an_ack_id_names_its_entry_of_its_subscription_only() -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    token = ack_id(mine, 42)
    assert entry_of(mine, token) == 42
    with pytest.raises(ValueError, match="of this subscription"):
        entry_of(other, token)
    not_a_number = base64.urlsafe_b64encode(f"x:{mine}".encode()).decode()
    for garbage in ("not base64!", "", "w6k=", not_a_number):
        with pytest.raises(ValueError):
            entry_of(mine, garbage)


def test_the_notifier_queues_matching_notifications_and_drops_the_oldest(
    tmp_path: Path,
) -> None:
    subs, catalogue, queue, webhooks = (
        FakeSubscriptions(), FakeCatalogue(), FakePullQueue(), FakeWebhooks()
    )  # fmt: skip
    time = FakeClock()
    notifier = Notifier(
        subs, catalogue, SecretBox(tmp_path / "key"), SubscriptionSettings(max_queue_length=2),
        send=webhooks, now=time.now, clock=time.clock, deleted=FakeDeletedProducts(), pull=queue,
    )  # fmt: skip
    key = subs.subscribe("startswith(Name,'S2')", PULL_ENDPOINT)
    for name in ("S2A_1", "S1A_2", "S2B_3", "S2B_4"):
        subs.publish("created", catalogue.add(a_product(name)))

    assert notifier.run_once() == 3
    notifier.close()

    names = [body["ProductName"] for _, body in queue.queues[key]]
    assert names == ["S2B_3", "S2B_4"] and queue.dropped[key] == 1
    assert webhooks.received == [] and subs.get(key).cursor == 4
    assert subs.get(key).last_error is None
