"""Users and roles of the PRIP (who may search, who may download)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ROLES = ("download", "catalogue", "subscriptions", "admin")

# What each role may do; admin may do everything.
_GRANTS: dict[str, frozenset[str]] = {
    "catalogue": frozenset({"search"}),
    "download": frozenset({"search", "download"}),
    "subscriptions": frozenset({"search", "subscribe"}),
    "admin": frozenset({"search", "download", "subscribe", "admin"}),
}


@dataclass(frozen=True)
class QuotaOverrides:
    """A user's own quota values; None keeps the configured default."""

    max_parallel: int | None = None
    volume_bytes: int | None = None
    window_days: int | None = None
    requests_per_minute: int | None = None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    disabled: bool
    created_at: datetime
    password_hash: str
    quotas: QuotaOverrides = field(default_factory=QuotaOverrides)

    def may(self, action: str) -> bool:
        return not self.disabled and action in _GRANTS.get(self.role, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def check_user_name(name: str) -> str:
    if not is_user_name(name):
        raise ValueError("a user name is 1-64 letters, digits or . _ - @")
    return name


def is_user_name(name: str) -> bool:
    return 0 < len(name) <= 64 and all(c.isalnum() or c in "._-@" for c in name)
