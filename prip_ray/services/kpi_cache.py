"""The rollups of past hours a process has read, kept: a past hour never changes, so a
console showing 30 days reads only the hours it has not seen yet, and merges whole days'
delay buckets once instead of on every request."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from prip_ray.domain.kpi_rollup import HourRollup
from prip_ray.domain.kpi_series import day_of

KEEP_HOURS = 24 * 400  # a year of KPIs, and a bit, then the oldest go


class RollupCache:
    def __init__(self, keep_hours: int = KEEP_HOURS):
        self._keep = keep_hours
        self._hours: dict[datetime, list[HourRollup]] = {}
        self._days: dict[tuple[datetime, str], HourRollup] = {}
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

    def put(self, hours: Iterable[datetime], rollups: Iterable[HourRollup]) -> None:
        """The rollups of ``hours`` (an hour without any is held too: nothing published)."""
        by_hour: dict[datetime, list[HourRollup]] = {hour: [] for hour in hours}
        for rollup in rollups:
            by_hour.setdefault(rollup.hour, []).append(rollup)
        with self._lock:
            self._hours.update(by_hour)
            for old in sorted(self._hours)[: max(0, len(self._hours) - self._keep)]:
                self._held -= {id(r) for r in self._hours.pop(old)}
                self._days = {k: v for k, v in self._days.items() if k[0] != day_of(old)}
            self._held |= {id(r) for found in by_hour.values() for r in found}

    def condensed(self, rollups: Sequence[HourRollup]) -> list[HourRollup]:
        """``rollups`` (of one product type) with the whole days held replaced by one
        rollup of their delay buckets merged, kept for the next request over the same days:
        what period percentiles are computed from."""
        members: dict[tuple[datetime, str], list[HourRollup]] = defaultdict(list)
        loose = []
        with self._lock:
            for rollup in rollups:
                if id(rollup) in self._held:
                    members[(day_of(rollup.hour), rollup.product_type)].append(rollup)
                else:
                    loose.append(rollup)
            whole: list[tuple[datetime, str]] = []
            for key, found in members.items():
                if key in self._days or self._whole_day(*key, found):
                    self._day(*key, found)
                    whole.append(key)
                else:
                    loose += found
            if whole:
                loose.append(self._span(sorted(whole)))
        return loose

    def _span(self, days: list[tuple[datetime, str]]) -> HourRollup:
        """The whole days merged, the last span of each product type kept: a 30-day window
        moves on by a day a day, so each type is merged about once a day."""
        key, product_type = tuple(days), days[0][1]
        kept = self._spans.get(product_type)
        if kept is None or kept[0] != key:
            kept = self._spans[product_type] = (key, _merged([self._days[d] for d in days]))
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
            self._days[key] = _merged(found)
        return self._days[key]


def _merged(rollups: Sequence[HourRollup]) -> HourRollup:
    """One rollup holding the delay buckets (and count) of ``rollups``."""
    merged = HourRollup(rollups[0].hour, rollups[0].product_type, 0)
    for rollup in rollups:
        merged.published += rollup.published
        for bucket, (count, largest) in rollup.buckets.items():
            held = merged.buckets.setdefault(bucket, [0, largest])
            held[0] += count
            held[1] = max(held[1], largest)
    return merged
