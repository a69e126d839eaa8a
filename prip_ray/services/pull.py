"""Reading and acknowledging a pull subscription's notifications, by its owner only.

Admin sees every subscription, but a queue is its owner's: one read or acknowledged by
someone else would be lost to the owner, so admin gets 403 and other users 404 (they do
not see others' subscriptions at all). A push subscription has no queue: Read and Ack on
it are refused (400).
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from prip_ray.config import SubscriptionSettings
from prip_ray.domain.pull import ack_id, entry_of, is_pull, read_top
from prip_ray.domain.subscriptions import Subscription
from prip_ray.domain.users import User
from prip_ray.errors import InvalidQuery, PermissionDenied, ProductNotFound


class SubscriptionLookup(Protocol):
    def get(self, subscription_id: UUID) -> Subscription: ...


class PullQueueReader(Protocol):
    def read(self, subscription_id: UUID, top: int) -> list[tuple[int, dict[str, Any]]]: ...

    def ack(self, subscription_id: UUID, entry: int) -> tuple[int, int]: ...


class PullService:
    def __init__(
        self,
        subscriptions: SubscriptionLookup,
        queue: PullQueueReader,
        settings: SubscriptionSettings,
    ):
        self._subscriptions = subscriptions
        self._queue = queue
        self._settings = settings

    def read(self, user: User, subscription_id: UUID, top: str | None) -> list[dict[str, Any]]:
        """The oldest ``top`` queued notifications, each with its AckId; they stay queued."""
        sub = self._queue_of(user, subscription_id)
        try:
            count = read_top(top)
        except ValueError as e:
            raise InvalidQuery(str(e), token=top) from None
        entries = self._queue.read(sub.id, count)
        return [{**body, "AckId": ack_id(sub.id, entry)} for entry, body in entries]

    def ack(self, user: User, subscription_id: UUID, token: str | None) -> dict[str, Any]:
        """Acknowledge the notification ``token`` names and every one before it."""
        sub = self._queue_of(user, subscription_id)
        if not token:
            raise InvalidQuery("Ack needs $ackid, the AckId of the last notification read")
        try:
            entry = entry_of(sub.id, token)
        except ValueError as e:
            raise InvalidQuery(str(e), token=token) from None
        acknowledged, left = self._queue.ack(sub.id, entry)
        return {
            "@odata.context": "$metadata#Notification/$entity",
            "AckMessagesNum": acknowledged,
            "CurrentQueueLength": left,
            "MaxQueueLength": self._settings.max_queue_length,
        }

    def _queue_of(self, user: User, subscription_id: UUID) -> Subscription:
        sub = self._subscriptions.get(subscription_id)
        if sub.owner != user.name:
            if user.role != "admin":
                raise ProductNotFound(f"no subscription with Id {sub.id}")  # others' are unseen
            raise PermissionDenied("only its owner reads and acknowledges a subscription's queue")
        if not is_pull(sub.endpoint):
            raise InvalidQuery("Read and Ack are for pull subscriptions (no NotificationEndpoint)")
        return sub
