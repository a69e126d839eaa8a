"""What the operator console shows: the KPI figures of a window (the same computation as
``GET /kpi``) and, beside them, the state of ingestion, downloads and subscriptions."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from prip_ray.domain.kpi import UserDownloads
from prip_ray.domain.kpi_figures import KpiFigures
from prip_ray.domain.subscriptions import Subscription
from prip_ray.ports import ConsoleFigures, SubscriptionListing
from prip_ray.services.kpi import KpiService


@dataclass(frozen=True)
class ConsoleView:
    figures: KpiFigures
    downloads: list[UserDownloads]
    subscriptions: list[Subscription]
    outbox_head: int  # a running subscription whose cursor is behind it has events to send
    inbox_waiting: int | None  # None: this process cannot see the inbox
    storing: int


class ConsoleService:
    def __init__(
        self,
        kpi: KpiService,
        repository: ConsoleFigures,
        subscriptions: SubscriptionListing,
        inbox: Path | None,
    ):
        self.kpi = kpi
        self._repository = repository
        self._subscriptions = subscriptions
        self._inbox = inbox

    def view(self, since: datetime, until: datetime) -> ConsoleView:
        return ConsoleView(
            figures=self.kpi.figures(since, until),
            downloads=self._repository.downloads_per_user(since, until),
            subscriptions=self._subscriptions.list(),
            outbox_head=self._repository.outbox_head(),
            inbox_waiting=self._waiting(),
            storing=self._repository.storing(),
        )

    def _waiting(self) -> int | None:
        """Entries in the inbox not being written (dot files are deliveries in progress)."""
        if self._inbox is None or not self._inbox.is_dir():
            return None
        with os.scandir(self._inbox) as entries:
            return sum(1 for entry in entries if not entry.name.startswith("."))
