"""Pull subscriptions (CDSE "PULL Subscription"): a subscription created without a
NotificationEndpoint, whose notifications wait in a queue of its own until its owner reads
them (``Subscriptions(Id)/Read?$top=N``) and acknowledges them (``Ack?$ackid=...``).

An AckId names one queued notification; acknowledging it takes that one and every one
queued before it off the queue, as on CDSE. It is the entry's sequence number and the
subscription's Id, base64-encoded, so an AckId of another subscription is refused.
"""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

PULL_ENDPOINT = ""  # how a pull subscription is stored: it has no endpoint
DEFAULT_TOP = 1  # CDSE: one notification unless $top says more
MAX_TOP = 20  # CDSE: at most 20 a Read


def is_pull(endpoint: str) -> bool:
    return endpoint == PULL_ENDPOINT


def read_top(text: str | None) -> int:
    """How many notifications a Read returns; ValueError unless 1..MAX_TOP."""
    if text is None:
        return DEFAULT_TOP
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_TOP:
        raise ValueError(f"$top of a Read must be a whole number from 1 to {MAX_TOP}")
    return int(text)


def ack_id(subscription_id: UUID, entry: int) -> str:
    return base64.urlsafe_b64encode(f"{entry}:{subscription_id}".encode()).decode()


def entry_of(subscription_id: UUID, token: str) -> int:
    """The queue entry an AckId names; ValueError if it is no AckId of this subscription."""
    try:
        entry, _, owner = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("$ackid is not an AckId this service issued") from None
    if owner != str(subscription_id) or not (entry.isascii() and entry.isdigit()):
        raise ValueError("$ackid is not an AckId of this subscription")
    return int(entry)
