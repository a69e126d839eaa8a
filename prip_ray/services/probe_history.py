"""The availability figures of a window from the recorded probes: the ratio, the outages and
the timeline. A month of probes every 30 s is 86,000 rows: the DB counts them and reduces
them to their changes. What each past hour holds is stored once (``ProbeHours``, rolled up
ahead by the health prober) and kept by the process: a fresh process reads a month as ~720
rows. Probes never arrive late by more than the prober's round, see SETTLED.

An hour's changes are those of the span it was rolled up in, so they may start with a
probe whose outcome did not change: outages() reads such a probe as no change at all."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from prip_ray.domain.kpi import Availability
from prip_ray.domain.kpi_series import Changes, Outage, ProbeHour, Slot, hour_of, outages
from prip_ray.ports import ProbeRecords, StoredProbeHours

HOUR = timedelta(hours=1)
SETTLED = timedelta(minutes=5)


class ProbeHistory:
    """``stored``: where past hours are kept; None works them out from the probes."""

    def __init__(
        self, repository: ProbeRecords, slots: int, stored: StoredProbeHours | None = None
    ):
        self._repository = repository
        self._slots = slots
        self._stored = stored
        self._hours: dict[datetime, ProbeHour] = {}
        self._lock = threading.Lock()

    def figures(
        self, since: datetime, until: datetime
    ) -> tuple[Availability, list[Outage], list[Slot]]:
        width = (until - since) / self._slots
        first = hour_of(since) + (HOUR if hour_of(since) < since else timedelta(0))
        closed = min(hour_of(until), hour_of(datetime.now(UTC) - SETTLED))
        if width < HOUR or closed - first < timedelta(days=1):  # short: ask the DB
            counts = self._repository.probe_slots(since, until, self._slots)
            changes = self._repository.probe_changes(since, until)
        else:  # the past hours from what is kept, the edges from the DB
            counts, changes = self._hourly(since, until, first, closed)
            for low, high in ((since, first), (closed, until)):
                if low < high:
                    within = (low, high)
                    counts += self._repository.probe_slots(since, until, self._slots, within)
                    changes += self._repository.probe_changes(low, high)
            last = self._repository.last_probe(since, until)
            changes = sorted(changes + ([last] if last else []))
        return self._summed(since, width, counts, changes)

    def _hourly(
        self, since: datetime, until: datetime, first: datetime, closed: datetime
    ) -> tuple[list[tuple[int, int, int]], Changes]:
        hours = [first + HOUR * i for i in range(int((closed - first) / HOUR))]
        with self._lock:
            missing = [hour for hour in hours if hour not in self._hours]
        if missing:
            self._learn(missing[0], missing[-1] + HOUR)
        width = (until - since) / self._slots
        counts, changes = [], []
        with self._lock:
            for hour in hours:
                good, failed, hour_changes = self._hours[hour]
                counts.append((min(self._slots - 1, int((hour - since) / width)), good, failed))
                changes += hour_changes
        return counts, changes

    def _learn(self, since: datetime, until: datetime) -> None:
        """The hours of [since, until) kept: from the store, the others from the probes
        (and stored)."""
        found = self._stored.read(since, until) if self._stored else {}
        hours = [since + HOUR * i for i in range(int((until - since) / HOUR))]
        absent = [hour for hour in hours if hour not in found]
        if absent:
            fresh = self._from_probes(absent[0], absent[-1] + HOUR)
            fresh = {hour: fresh[hour] for hour in absent}
            if self._stored:
                self._stored.store(fresh)
            found |= fresh
        with self._lock:
            self._hours.update(found)

    def _from_probes(self, since: datetime, until: datetime) -> dict[datetime, ProbeHour]:
        hours = int((until - since) / HOUR)
        found: dict[datetime, ProbeHour] = {since + HOUR * i: (0, 0, []) for i in range(hours)}
        for index, good, failed in self._repository.probe_slots(since, until, hours):
            found[since + HOUR * index] = (good, failed, [])
        by_hour: dict[datetime, Changes] = defaultdict(list)
        for at, ok in self._repository.probe_changes(since, until):
            by_hour[hour_of(at)].append((at, ok))
        return {
            hour: (good, failed, by_hour.get(hour, [])) for hour, (good, failed, _) in found.items()
        }

    def _summed(
        self,
        since: datetime,
        width: timedelta,
        counts: list[tuple[int, int, int]],
        changes: Changes,
    ) -> tuple[Availability, list[Outage], list[Slot]]:
        per_slot: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for index, good, failed in counts:
            per_slot[index][0] += good
            per_slot[index][1] += failed
        timeline = [Slot(since + width * i, *per_slot.get(i, (0, 0))) for i in range(self._slots)]
        good = sum(s.ok for s in timeline)
        found = outages(changes)
        longest = max((o.seconds for o in found), default=0.0)
        return Availability(good + sum(s.failed for s in timeline), good, longest), found, timeline
