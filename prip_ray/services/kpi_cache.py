"""The rollups of past hours a process has read, kept: a past hour never changes, so a
console showing 30 days reads only the hours it has not seen yet, and merges whole days'
delay buckets once instead of on every request.

A month of hours holds ~900k delay buckets: a fresh process reads whole days' buckets
already merged (``put(..., days=...)``) and its hours of those days without theirs, "bare";
should a later window cut such a day, ``load`` fetches the buckets of the hours it needs."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from prip_ray.domain.kpi_rollup import HourRollup, merged_buckets
from prip_ray.domain.kpi_series import day_of

KEEP_HOURS = 24 * 400  # a year of KPIs, and a bit, then the oldest go
Day = tuple[datetime, str]  # (day, product type)


class RollupCache:
    def __init__(
        self,
        keep_hours: int = KEEP_HOURS,
        load: Callable[[Sequence[HourRollup]], None] | None = None,
    ):
        self._keep = keep_hours
        self._load = load  # fills in the buckets of bare rollups
        self._bare: set[int] = set()  # id() of the rollups held without their buckets
        self._hours: dict[datetime, list[HourRollup]] = {}
        self._days: dict[Day, HourRollup] = {}
        self._spans: dict[str, tuple[tuple[tuple[datetime, str], ...], HourRollup]] = {}
        self._held: set[int] = set()  # id() of every rollup held: membership without __eq__
        self._lock = threading.Lock()  # replicas serve requests on several threads

    def split(self, hours: Sequence[datetime]) -> tuple[list[HourRollup], list[datetime]]:
        """(the rollups of the hours held, the hours not held)."""
        held, missing = [], []
        with self._lock:
            for hour in hours:
                if hour in self._hours:
                    held += self._hours[hour]
                else:
                    missing.append(hour)
        return held, missing

    def put(
        self,
        hours: Iterable[datetime],
        rollups: Iterable[HourRollup],
        days: Mapping[Day, HourRollup] | None = None,
    ) -> None:
        """The rollups of ``hours`` (an hour without any is held too: nothing published);
        ``days``: whole days' buckets merged, whose hours' rollups come bare."""
        by_hour: dict[datetime, list[HourRollup]] = {hour: [] for hour in hours}
        for rollup in rollups:
            by_hour.setdefault(rollup.hour, []).append(rollup)
        bare = {day for day, _ in days or {}}
        with self._lock:
            self._hours.update(by_hour)
            self._days.update(days or {})
            for old in sorted(self._hours)[: max(0, len(self._hours) - self._keep)]:
                gone = {id(r) for r in self._hours.pop(old)}
                self._held -= gone
                self._bare -= gone
                self._days = {k: v for k, v in self._days.items() if k[0] != day_of(old)}
            self._held |= {id(r) for found in by_hour.values() for r in found}
            self._bare |= {
                id(r) for hour, found in by_hour.items() if day_of(hour) in bare for r in found
            }

    def condensed(self, rollups: Sequence[HourRollup]) -> list[HourRollup]:
        """``rollups`` (of one product type) with the whole days held replaced by one
        rollup of their delay buckets merged, kept for the next request over the same days:
        what period percentiles are computed from."""
        members: dict[Day, list[HourRollup]] = defaultdict(list)
        loose = []
        with self._lock:
            for rollup in rollups:
                if id(rollup) in self._held:
                    members[(day_of(rollup.hour), rollup.product_type)].append(rollup)
                else:
                    loose.append(rollup)
            whole: list[Day] = []
            for key, found in members.items():
                # a day merged before stands only for all of its hours, never for some
                if self._whole_day(*key, found) and (
                    key in self._days or not any(id(r) in self._bare for r in found)
                ):
                    self._day(*key, found)
                    whole.append(key)
                else:
                    loose += found
            bare = [r for r in loose if id(r) in self._bare]
        self._fill(bare)
        with self._lock:
            if whole:
                loose.append(self._span(sorted(whole)))
        return loose

    def _fill(self, bare: list[HourRollup]) -> None:
        """The buckets of ``bare`` rollups, loaded (outside the lock: the DB is slow)."""
        if not bare:
            return
        assert self._load is not None, "bare rollups need a loader"
        self._load(bare)
        with self._lock:
            self._bare -= {id(r) for r in bare}

    def _span(self, days: list[Day]) -> HourRollup:
        """The whole days merged, the last span of each product type kept: a 30-day window
        moves on by a day a day, so each type is merged about once a day."""
        key, product_type = tuple(days), days[0][1]
        kept = self._spans.get(product_type)
        if kept is None or kept[0] != key:
            kept = self._spans[product_type] = (key, merged_buckets([self._days[d] for d in days]))
        return kept[1]

    def _whole_day(self, day: datetime, product_type: str, found: list[HourRollup]) -> bool:
        hours = [day + timedelta(hours=h) for h in range(24)]
        if not all(hour in self._hours for hour in hours):
            return False
        return len(found) == sum(
            1 for hour in hours for r in self._hours[hour] if r.product_type == product_type
        )

    def _day(self, day: datetime, product_type: str, found: list[HourRollup]) -> HourRollup:
        key = (day, product_type)
        if key not in self._days:
            self._days[key] = merged_buckets(found)
        return self._days[key]
