"""Subscriptions as the Notifier, the subscription service and the console use them, their
outbox, and the subscribers' endpoints."""

from __future__ import annotations

import builtins  # the method `list` hides the type inside the class
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from prip_ray.domain.events import OutboxEvent
from prip_ray.domain.subscriptions import Limits, Subscription


class SubscriptionStore(Protocol):
    """Subscriptions as the Notifier uses them: the running ones, the outbox they read,
    and their delivery progress."""

    def running(self) -> list[tuple[Subscription, str | None]]:
        """Running subscriptions with their sealed endpoint passwords."""
        ...

    def events_after(self, seq: int, limit: int) -> list[OutboxEvent]: ...

    def advance(self, subscription_id: UUID, cursor: int, notified: datetime | None) -> None:
        """Every event up to ``cursor`` is handled (and the failure, if any, is over)."""
        ...

    def advance_many(self, progress: list[tuple[UUID, int, datetime | None]]) -> None: ...

    def failing(self, subscription_id: UUID, since: datetime, error: str, failed: bool) -> None:
        """Delivery fails since ``since``; ``failed``: for good (status ``failed``)."""
        ...


class PullQueueStore(Protocol):
    """Where the Notifier queues a pull subscription's notifications (db/pull.py)."""

    def enqueue(self, subscription_id: UUID, body: dict[str, Any], max_length: int) -> None:
        """Queued; past ``max_length`` the oldest are dropped."""
        ...


class SubscriptionListing(Protocol):
    """The subscriptions, every user's or one owner's."""

    def list(self, owner: str | None = None) -> builtins.list[Subscription]: ...


class SubscriptionRecords(SubscriptionListing, Protocol):
    """Subscriptions as their owners change them. ``within`` checks the owner's counts in
    the transaction that writes the change, so requests at once cannot each find room."""

    def create(
        self,
        *,
        owner: str,
        event: str,
        filter_param: str,
        endpoint: str,
        username: str | None,
        sealed_password: str | None,
        now: datetime,
        within: Limits | None = None,
    ) -> Subscription:
        """Stored running; it hears of products published after."""
        ...

    def get(self, subscription_id: UUID) -> Subscription:
        """``ProductNotFound`` when there is none with that Id."""
        ...

    def set_status(
        self, subscription_id: UUID, status: str, *, owner: str = "", within: Limits | None = None
    ) -> None: ...

    def delete(self, subscription_id: UUID) -> None: ...


class WebhookSender(Protocol):
    """POSTs a notification to a subscriber's endpoint; ``DeliveryFailed`` when it does not
    take it (not 2xx, unreachable, not allowed)."""

    def __call__(
        self, url: str, body: dict[str, Any], *, username: str | None, password: str | None
    ) -> None: ...
