"""Subscriptions as their owners manage them: creating, listing, reading, changing the status
of and deleting their own (admin: anyone's; others' are invisible, as if absent), under the
per-user limits (``subscriptions.max_running`` / ``max_total``; admin is not limited).

The limits are counted whenever a subscription would start to count: at creation, and when
a paused or failed one is set running again (pause, create, resume must not give two
running), in the transaction that writes the change (db/subscriptions.py), so requests at
once cannot each find room for one. The NotificationEndpoint is checked against the
EndpointPolicy at creation; the notifier checks it again at every POST, since DNS can
change in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from prip_ray.config import SubscriptionSettings
from prip_ray.domain.pull import is_pull
from prip_ray.domain.subscriptions import Limits, Subscription, limit_reached, next_status
from prip_ray.domain.users import User
from prip_ray.errors import InvalidQuery, ProductNotFound, QuotaExceeded
from prip_ray.ports import SubscriptionRecords
from prip_ray.security.secrets import SecretBox


class EndpointCheck(Protocol):
    def check(self, url: str) -> None:
        """EndpointNotAllowed if ``url`` reaches addresses subscribers may not."""


class SubscriptionService:
    def __init__(
        self,
        subscriptions: SubscriptionRecords,
        secrets: SecretBox,
        settings: SubscriptionSettings,
        endpoints: EndpointCheck,
    ):
        self._subscriptions = subscriptions
        self._secrets = secrets
        self._settings = settings
        self._endpoints = endpoints

    def create(
        self,
        user: User,
        *,
        event: str,
        filter_param: str,
        endpoint: str,
        username: str | None,
        password: str | None,
        now: datetime,
    ) -> Subscription:
        """A running subscription of ``user``'s (fields already checked for form)."""
        if not is_pull(endpoint):  # a pull subscription reaches no endpoint
            self._endpoints.check(endpoint)
        return self._subscriptions.create(
            owner=user.name, event=event, filter_param=filter_param, endpoint=endpoint,
            username=username, sealed_password=self._secrets.seal(password) if password else None,
            now=now, within=self._limits(user, new=True),
        )  # fmt: skip

    def listing(self, user: User) -> list[Subscription]:
        """``user``'s subscriptions; admin's: everyone's."""
        return self._subscriptions.list(None if user.role == "admin" else user.name)

    def get(self, user: User, subscription_id: UUID) -> Subscription:
        """``ProductNotFound`` for another user's too (admin sees all)."""
        found = self._subscriptions.get(subscription_id)
        if found.owner != user.name and user.role != "admin":
            raise ProductNotFound(f"no subscription with Id {found.id}")  # others' are invisible
        return found

    def delete(self, user: User, subscription_id: UUID) -> None:
        self._subscriptions.delete(self.get(user, subscription_id).id)

    def set_status(self, user: User, sub: Subscription, wanted: str) -> None:
        """PATCH Status or the Pause/Resume/Cancel actions, by ``user`` (owner or admin)."""
        try:
            status = next_status(sub.status, wanted)
        except ValueError as e:
            raise InvalidQuery(str(e)) from None
        starts = status == "running" and sub.status != "running"
        within = self._limits(user, new=False) if starts else None
        self._subscriptions.set_status(sub.id, status, owner=sub.owner, within=within)

    def _limits(self, user: User, *, new: bool) -> Limits | None:
        """The check of the owner's counts (the others') that the write runs; admin has none."""
        if user.role == "admin":
            return None
        limits = self._settings

        def within(running: int, total: int) -> None:
            reason = limit_reached(
                running, total, max_running=limits.max_running, max_total=limits.max_total,
                new=new,
            )  # fmt: skip
            if reason is not None:
                raise QuotaExceeded(reason, retry_after=3600)

        return within
