"""A withdrawal: an operator takes a published product back, with a cause of their own."""

from __future__ import annotations

from dataclasses import dataclass

from prip_ray.domain.products import WITHDRAWN


@dataclass(frozen=True)
class Withdrawn:
    object_key: str  # bytes still to delete ("" when they are gone already)
    announced: bool  # this call appended the ``deleted`` event
    cause: str  # the DeletionCause recorded


def withdrawal_cause(text: str) -> str:
    """The DeletionCause of a withdrawal: ``Withdrawn: <operator's text>``."""
    text = " ".join(text.split())
    return f"{WITHDRAWN}: {text}" if text else WITHDRAWN


def is_withdrawal(cause: str) -> bool:
    return cause.startswith(WITHDRAWN)
