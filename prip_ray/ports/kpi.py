"""What the KPI report and the operator console read: publication delays, the availability
probes, the hourly rollups kept of both, quarantine entries and the console's figures."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from prip_ray.domain.kpi import UserDownloads
from prip_ray.domain.kpi_rollup import Day, HourRollup
from prip_ray.domain.kpi_series import ProbeHour
from prip_ray.domain.quarantine import QuarantineEntry


class ProbeRecords(Protocol):
    """The availability probes, counted and reduced to their changes by the store."""

    def probe_slots(
        self,
        since: datetime,
        until: datetime,
        slots: int,
        within: tuple[datetime, datetime] | None = None,
    ) -> list[tuple[int, int, int]]:
        """(slot, good, failed) in each of ``slots`` equal parts of the window that had any;
        ``within``: only the probes of that part of it."""
        ...

    def probe_changes(self, since: datetime, until: datetime) -> list[tuple[datetime, bool]]:
        """The probes whose outcome differs from the one before, and the last probe."""
        ...

    def last_probe(self, since: datetime, until: datetime) -> tuple[datetime, bool] | None: ...


class KpiRecords(ProbeRecords, Protocol):
    """Publications (streamed) and probes, as the KPI report reads them."""

    def timed_delays(
        self, since: datetime, until: datetime
    ) -> Iterator[tuple[datetime, str, float]]:
        """(publication time, product type, delay in seconds) of the window's publications."""
        ...

    def named(self, since: datetime, until: datetime, like: str) -> Iterator[tuple[str, datetime]]:
        """(name, publication time) of the window's publications named ``like``."""
        ...

    def unreported(
        self, since: datetime, until: datetime, product_types: Collection[str], latest: int
    ) -> tuple[dict[datetime, int], list[tuple[str, datetime]]]:
        """The window's listed products of ``product_types`` with no OLQC report linked:
        how many per day, and the ``latest`` (name, publication time), newest first."""
        ...


class StoredRollups(Protocol):
    """The rollups of past hours and the merged delay buckets of whole days, kept."""

    def read(
        self, since: datetime, until: datetime, bare: Collection[datetime] = ()
    ) -> tuple[set[datetime], list[HourRollup]]:
        """(the hours rolled up, their rollups); those of the days in ``bare`` without
        their delay buckets."""
        ...

    def fill_buckets(self, rollups: Sequence[HourRollup]) -> None: ...

    def read_days(self, since: datetime, until: datetime) -> dict[Day, HourRollup]: ...

    def store_days(self, days: Sequence[HourRollup]) -> None: ...

    def store(self, hours: Sequence[datetime], rollups: Sequence[HourRollup]) -> None: ...


class StoredProbeHours(Protocol):
    """The probes of past hours, rolled up and kept."""

    def read(self, since: datetime, until: datetime) -> dict[datetime, ProbeHour]: ...

    def store(self, hours: Mapping[datetime, ProbeHour]) -> None: ...


class QuarantineLog(Protocol):
    """The quarantine entries (refused products), newest first."""

    def entries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        reason_contains: str | None = None,
    ) -> list[QuarantineEntry]: ...


class ConsoleFigures(Protocol):
    """What the operator console shows beside the KPI figures."""

    def downloads_per_user(self, since: datetime, until: datetime) -> list[UserDownloads]: ...

    def storing(self) -> int:
        """Products whose bytes are on their way to the store."""
        ...

    def outbox_head(self) -> int: ...


class QuarantineRecords(QuarantineLog, Protocol):
    """The quarantine entries as the quarantine service keeps them beside the bytes."""

    def record(
        self, name: str, code: str, reason: str, at: datetime, size: int, location: str
    ) -> QuarantineEntry | None:
        """Add a refusal of ``name`` seen ``at``; the entry it replaces (whose bytes are
        superseded), None if the name is new or the row is newer already."""
        ...

    def get(self, name: str) -> QuarantineEntry | None: ...

    def forget(self, name: str, location: str) -> bool:
        """Drop the entry if it still names these bytes (False: replaced meanwhile)."""
        ...
