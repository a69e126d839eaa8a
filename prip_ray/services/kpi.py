"""The KPI report of a time window, from the PRIP DB (products, quarantine entries, probes).

One computation, two renderings: :meth:`KpiService.figures` is what ``GET /kpi`` returns as
JSON (:meth:`KpiService.report`) and what the operator console draws and exports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from prip_ray.domain.kpi import Timeliness, completeness
from prip_ray.domain.kpi_figures import KpiFigures
from prip_ray.domain.kpi_rollup import (
    HourRollup,
    datastrip_summary,
    incomplete,
    merged_buckets,
    merged_percentiles,
    merged_strips,
    roll_up,
)
from prip_ray.domain.kpi_series import (
    HourPoint,
    OlqcExpected,
    Targets,
    Unreported,
    daily_completeness,
    day_of,
    hour_of,
)
from prip_ray.domain.naming import product_type_of
from prip_ray.domain.quarantine import QuarantineEntry
from prip_ray.errors import InvalidQuery
from prip_ray.ports import KpiRecords, QuarantineLog, StoredProbeHours, StoredRollups
from prip_ray.services.kpi_cache import RollupCache
from prip_ray.services.probe_history import ProbeHistory

DEFAULT_TARGETS = Targets({"default": 3600.0}, 0.99, 0.99)
TIMELINE_SLOTS = 120  # the probe timeline's resolution, whatever the window
LATEST_QUARANTINED = 20
LATEST_UNREPORTED = 50  # the products without an OLQC report listed (all are counted)
L0_NAMES = "%_MSI_L0__%"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# An hour is rolled up this long after it ends: a product stamped 10:59:59 may commit later.
SETTLED = timedelta(minutes=5)
WARMED = timedelta(days=30)  # the console's longest named period
LONGEST_WINDOW = timedelta(days=400)  # the KPI history kept (probes, hourly rollups)


class KpiService:
    """``hours``: where past hours' rollups are kept; None computes every hour from the
    products each time (what a month of a busy PRIP cannot afford). ``probe_hours``: the
    same for the probes of past hours; None works them out from the probes once a process.
    ``olqc``: the product types whose products should have an OLQC report (None: none)."""

    def __init__(
        self,
        repository: KpiRecords,
        quarantine: QuarantineLog,
        targets: Targets = DEFAULT_TARGETS,
        hours: StoredRollups | None = None,
        probe_hours: StoredProbeHours | None = None,
        olqc: OlqcExpected | None = None,
    ):
        self._repository = repository
        self.olqc = olqc if olqc and olqc.product_types else None
        self._quarantine = quarantine
        self.targets = targets
        self._hours = hours
        self._cache = RollupCache(load=hours.fill_buckets if hours else None)
        self._probes = ProbeHistory(repository, TIMELINE_SLOTS, probe_hours)

    def report(self, since: datetime, until: datetime) -> dict[str, Any]:
        return self.figures(since, until).to_json()

    def figures(self, since: datetime, until: datetime) -> KpiFigures:
        """Raises InvalidQuery for a window longer than the KPI history kept: its hours and
        days are worked out one by one, so a window from year 1 would take the process's
        memory (``GET /kpi?since=0001-01-01``)."""
        if until - since > LONGEST_WINDOW:
            raise InvalidQuery(
                f"a KPI window is at most {LONGEST_WINDOW.days} days (the history kept)",
                token=since.isoformat(),
            )
        quarantined = self._quarantined(since, until)
        rejected = Counter(product_type_of(entry.name) for entry in quarantined)
        per_day = Counter(day_of(entry.last_seen) for entry in quarantined)
        rollups = self.rollups(since, until)
        by_type: dict[str, list[HourRollup]] = defaultdict(list)
        published_per_hour: Counter[datetime] = Counter()
        for rollup in rollups:
            if rollup.published:
                by_type[rollup.product_type].append(rollup)
                published_per_hour[rollup.hour] += rollup.published
        published_per_day: Counter[datetime] = Counter()
        for hour, count in published_per_hour.items():
            published_per_day[day_of(hour)] += count
        strips = merged_strips(rollups)
        missing = incomplete(strips)
        availability, found_outages, timeline = self._probes.figures(since, until)
        unreported, unreported_per_day = self._unreported(since, until)
        return KpiFigures(
            since=since,
            until=until,
            targets=self.targets,
            timeliness=[
                _timeliness(t, by_type[t], self._cache.condensed(by_type[t]))
                for t in sorted(by_type)
            ],
            hourly=[
                HourPoint(r.hour, r.product_type, r.published, r.p50_s, r.p95_s)
                for r in rollups
                if r.published
            ],
            histogram={
                t: [sum(col) for col in zip(*(r.bins for r in rs), strict=True)]
                for t, rs in sorted(by_type.items())
            },
            published_per_hour=dict(published_per_hour),
            completeness=completeness(
                {t: sum(r.published for r in rs) for t, rs in by_type.items()}, rejected
            ),
            daily=daily_completeness(
                published_per_day, per_day, missing, since, until, unreported_per_day
            ),
            datastrips=datastrip_summary(strips),
            incomplete=missing,
            availability=availability,
            outages=found_outages,
            timeline=timeline,
            latest_quarantined=quarantined[:LATEST_QUARANTINED],  # newest first
            olqc=self.olqc,
            unreported=unreported,
        )

    def _unreported(
        self, since: datetime, until: datetime
    ) -> tuple[list[Unreported], dict[datetime, int]]:
        """The latest products of the window without their OLQC report, and how many per
        day; a product published within the grace period is not missing a report yet."""
        if self.olqc is None:
            return [], {}
        end = min(until, datetime.now(UTC) - self.olqc.grace)
        if end <= since:
            return [], {}
        per_day, latest = self._repository.unreported(
            since, end, self.olqc.product_types, LATEST_UNREPORTED
        )
        return [Unreported(name, published) for name, published in latest], per_day

    def roll_up(self, since: datetime, until: datetime) -> None:
        """The past hours of the window rolled up and stored, products and probes, and its
        whole days' delay buckets merged, as a console showing it would need them: the
        health prober does it ahead of any request."""
        rollups = self.rollups(since, until)
        if self._hours is not None:
            self._store_days(_whole_days(_ceil_hour(since), self._closed(until)), rollups)
        self._probes.figures(since, until)

    def _store_days(self, days: list[datetime], rollups: list[HourRollup]) -> None:
        assert self._hours is not None
        if not days:
            return
        stored = {day for day, _ in self._hours.read_days(days[0], days[-1] + DAY)}
        by_day: dict[tuple[datetime, str], list[HourRollup]] = defaultdict(list)
        for rollup in rollups:
            if (day := day_of(rollup.hour)) in days and day not in stored:
                by_day[(day, rollup.product_type)].append(rollup)
        merged = []
        for (day, _), found in sorted(by_day.items()):
            merged.append(merged_buckets(found))
            merged[-1].hour = day
        self._hours.store_days(merged)

    def warm(self, span: timedelta = WARMED) -> None:
        """The past hours of the last ``span`` read into this process: a replica does it
        when it starts, so that the first operator to open the console does not wait."""
        until = datetime.now(UTC)
        self.figures(until - span, until)

    def rollups(self, since: datetime, until: datetime) -> list[HourRollup]:
        """The window's rollups: whole past hours from the store of rollups (rolling up and
        storing those not there yet), the partial and the current hours from the products."""
        first = _ceil_hour(since)
        closed = self._closed(until)
        if self._hours is None or first >= closed:
            return self._from_products(since, until)
        wanted = [first + HOUR * i for i in range(_hours_between(first, closed))]
        held, missing = self._cache.split(wanted)
        if missing:
            held += self._stored(missing)
        edges = []
        if since < first:
            edges += self._from_products(since, first)
        if closed < until:
            edges += self._from_products(closed, until)
        return sorted(held + edges, key=lambda r: (r.hour, r.product_type))

    def _closed(self, until: datetime) -> datetime:
        """The end of the window's last hour that can be rolled up."""
        return min(hour_of(until), hour_of(datetime.now(UTC) - SETTLED))

    def _stored(self, hours: list[datetime]) -> list[HourRollup]:
        """The rollups of past ``hours``, from the DB, rolled up there first if need be;
        those of whole days with their buckets stored merged, bare (services/kpi_cache)."""
        assert self._hours is not None
        since, until = hours[0], hours[-1] + HOUR
        days = {
            key: day
            for key, day in self._hours.read_days(since, until).items()
            if key[0] + DAY <= until
        }
        done, stored = self._hours.read(since, until, {day for day, _ in days})
        wanted = set(hours)
        stored = [r for r in stored if r.hour in wanted]
        absent = [hour for hour in hours if hour not in done]
        if absent:
            fresh = self._from_products(absent[0], absent[-1] + HOUR)
            fresh = [r for r in fresh if r.hour in set(absent)]
            self._hours.store(absent, fresh)
            stored += fresh
        self._cache.put(hours, stored, days)
        return stored

    def _from_products(self, since: datetime, until: datetime) -> list[HourRollup]:
        return roll_up(
            self._repository.timed_delays(since, until),
            self._repository.named(since, until, L0_NAMES),
        )

    def _quarantined(self, since: datetime, until: datetime) -> list[QuarantineEntry]:
        """The products refused in the window (last refused in it), newest first."""
        return self._quarantine.entries(since, until)


def _timeliness(
    product_type: str, rollups: list[HourRollup], condensed: list[HourRollup]
) -> Timeliness:
    p50, p95 = merged_percentiles(condensed, (50, 95))
    count = sum(r.published for r in rollups)
    return Timeliness(product_type, count, p50, p95, max(r.max_s for r in rollups))


def _ceil_hour(when: datetime) -> datetime:
    floor = hour_of(when)
    return floor if floor == when else floor + HOUR


def _whole_days(first: datetime, closed: datetime) -> list[datetime]:
    """The days whose 24 hours all lie in [first, closed)."""
    day = day_of(first) if day_of(first) == first else day_of(first) + DAY
    return [day + DAY * i for i in range(max(0, int((closed - day) / DAY)))]


def _hours_between(first: datetime, last: datetime) -> int:
    return int((last - first) / HOUR)
