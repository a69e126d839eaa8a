"""Subscriptions (interface digest, "Subscriptions"): who wants to hear of which products, and
the rules a new one must satisfy before anything is stored, or a paused one before it runs
again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

STATUSES = ("running", "paused", "cancelled", "failed")
EVENTS = ("created", "deleted")
MAX_CREDENTIAL = 256
MAX_ENDPOINT = 2048
# What the ICD's actions do to a status; a cancelled subscription stays cancelled.
ACTIONS = {"Pause": "paused", "Resume": "running", "Cancel": "cancelled"}
# A check of an owner's counts (running, total) of their other subscriptions; raises to refuse
Limits = Callable[[int, int], None]


@dataclass(frozen=True)
class Subscription:
    id: UUID
    owner: str
    status: str
    event: str
    filter_param: str
    endpoint: str
    endpoint_username: str | None
    has_password: bool
    submission_date: datetime
    last_notification_date: datetime | None
    cursor: int
    failing_since: datetime | None = None
    last_error: str | None = None


def check_endpoint(url: str) -> str:
    if len(url) > MAX_ENDPOINT:
        raise ValueError(f"NotificationEndpoint is longer than {MAX_ENDPOINT} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("NotificationEndpoint must be an http(s) URL with a host")
    try:
        parts.port  # noqa: B018 (it raises ValueError for a port that is no number)
    except ValueError:
        raise ValueError("NotificationEndpoint has an invalid port") from None
    return url


def check_credential(field: str, value: str | None) -> str | None:
    if value is not None and (len(value) > MAX_CREDENTIAL or "\x00" in value):
        raise ValueError(f"{field} must be at most {MAX_CREDENTIAL} characters")
    return value


def check_event(event: str) -> str:
    if event not in EVENTS:
        raise ValueError(f"SubscriptionEvent must be one of {', '.join(EVENTS)}")
    return event


def next_status(current: str, wanted: str) -> str:
    """The status after a change request; ValueError if it is not allowed."""
    if wanted not in ("running", "paused", "cancelled"):
        raise ValueError(f"Status can be set to running, paused or cancelled, not {wanted!r}")
    if current == "cancelled" and wanted != "cancelled":
        raise ValueError("a cancelled subscription cannot be resumed")
    return wanted


def limit_reached(
    running: int, total: int, *, max_running: int, max_total: int, new: bool
) -> str | None:
    """Why one more running subscription (a new one if ``new``, else one resumed) would
    break a user's limits; None if it would not. ``running`` and ``total`` are the user's
    counts now (total: every subscription not cancelled)."""
    if running >= max_running or (new and total >= max_total):
        return f"at most {max_running} running and {max_total} subscriptions per user"
    return None
