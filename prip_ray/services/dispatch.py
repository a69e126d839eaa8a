"""How an ingestion shard picks work: its own products only, bounded in-flight, sized pool."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from prip_ray.domain.sharding import shard_of
from prip_ray.ports.inbox import InboxItem
from prip_ray.services.ingest import ReadyProduct


@dataclass(frozen=True)
class ShardPlan:
    shard: int
    shards: int
    max_in_flight: int

    def owns(self, name: str) -> bool:
        return shard_of(name, self.shards) == self.shard

    def select(
        self,
        ready: Sequence[InboxItem],
        in_flight: Collection[str],
        due: Callable[[str], bool] = lambda name: True,
    ) -> list[InboxItem]:
        """The next products to send to QC: ours, not already in QC, due (not backing off
        after a downstream failure), within the in-flight bound."""
        room = self.max_in_flight - len(in_flight)
        if room <= 0:
            return []  # backpressure: finish what is in flight first
        chosen: list[InboxItem] = []
        for item in ready:  # stops at ``room``: a backlog is thousands long, room a few
            if item.name not in in_flight and self.owns(item.published_name) and due(item.name):
                chosen.append(item)
                if len(chosen) == room:
                    break
        return chosen


# A product this small costs its QC worker a few ms: several go in one call, so the Ray call
# and the PRIP DB look-ups are paid once for them all, and none waits long for the others.
BUNDLE_MAX_BYTES = 1 << 20


def bundles(
    items: Sequence[InboxItem], workers: int, most: int, alone: Collection[str] = ()
) -> list[list[InboxItem]]:
    """The products chosen for QC as calls: small files shared out evenly among ``workers``
    (at most ``most`` a call); anything larger, folders, and the names ``alone`` (their
    bundle's worker died: which of them kills workers shows when each goes alone), one a
    call."""

    def bundled(item: InboxItem) -> bool:
        return not item.is_dir and item.size <= BUNDLE_MAX_BYTES and item.name not in alone

    small = [i for i in items if bundled(i)]
    large = [[i] for i in items if not bundled(i)]
    if not small:
        return large
    each = max(1, min(most, -(-len(small) // max(1, workers))))
    return [small[k : k + each] for k in range(0, len(small), each)] + large


def desired_workers(load: int, minimum: int, maximum: int) -> int:
    """One QC worker per product in flight, between the configured bounds."""
    return max(minimum, min(maximum, load))


@dataclass
class PoolSizer:
    """Grows the QC pool at once, shrinks it only after the load has stayed low for
    ``shrink_after_s``: the load dips between a completion and the next pick-up, and a Ray
    worker killed there costs seconds of CPU to start again a moment later."""

    minimum: int
    maximum: int
    shrink_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _low_since: float | None = None

    def change(self, size: int, load: int) -> int:
        """Workers to start (> 0) or to stop (< 0) now."""
        wanted = desired_workers(load, self.minimum, self.maximum)
        if wanted >= size:
            self._low_since = None
            return wanted - size
        now = self.clock()
        if self._low_since is None:
            self._low_since = now
        return wanted - size if now - self._low_since >= self.shrink_after_s else 0


@dataclass
class ReadyList:
    """A shard's ready products, from an inbox listing at most ``max_age_s`` old, less those
    finished since. Listing a busy inbox costs a stat or two per file: done on every
    completion it would cost more than the QC itself; done only once a poll interval, it
    would leave QC workers idle for the rest of the interval."""

    list_ready: Callable[[Callable[[str], bool]], list[InboxItem]]  # LocalInbox.ready
    owns: Callable[[str], bool]
    max_age_s: float
    clock: Callable[[], float] = time.monotonic
    _items: list[InboxItem] = field(default_factory=list)
    _listed_at: float = float("-inf")
    _gone: set[str] = field(default_factory=set)

    def candidates(self) -> list[InboxItem]:
        """Oldest first (the inbox lists by modification time): under a backlog every
        product type waits alike, rather than in the order of their names."""
        left = [item for item in self._items if item.name not in self._gone]
        if not left or self.clock() - self._listed_at >= self.max_age_s:
            self._items = self.list_ready(self.owns)
            self._listed_at, self._gone = self.clock(), set()
            left = self._items
        return left

    def gone(self, name: str) -> None:
        """``name`` left the inbox (published, quarantined): never offer it again."""
        self._gone.add(name)


@dataclass
class PublishQueue:
    """Products that finished QC, waiting to share one publishing transaction: a group goes
    once it holds ``batch`` products or its oldest has waited ``wait_s``. The wait bounds
    what grouping adds to a product's latency; the batch bounds one transaction."""

    batch: int
    wait_s: float
    clock: Callable[[], float] = time.monotonic
    _waiting: list[tuple[float, ReadyProduct]] = field(default_factory=list)

    def add(self, ready: ReadyProduct) -> None:
        self._waiting.append((self.clock(), ready))

    def names(self) -> set[str]:
        """Names waiting here: still in the inbox, but not to be offered to QC again."""
        return {ready.product.name for _, ready in self._waiting}

    def take(self) -> list[ReadyProduct]:
        """The next group if it is due (full, or its oldest waited long enough), else []."""
        due_in = self.due_in()
        if due_in is None or due_in > 0:
            return []
        group, self._waiting = self._waiting[: self.batch], self._waiting[self.batch :]
        return [ready for _, ready in group]

    def due_in(self) -> float | None:
        """Seconds until a group is due (0: now); None when nothing waits."""
        if not self._waiting:
            return None
        if len(self._waiting) >= self.batch:
            return 0.0
        return max(0.0, self._waiting[0][0] + self.wait_s - self.clock())

    def __len__(self) -> int:
        return len(self._waiting)


@dataclass
class WorkerDeaths:
    """Products whose QC worker died under them. Ray restarts the worker and the product
    stays in the inbox; one that kills every worker that takes it (memory exhausted while
    unpacking, a crash in a native library) would do so for ever. After ``limit`` deaths it
    is poison: quarantined instead of offered again."""

    limit: int = 3
    _deaths: dict[str, int] = field(default_factory=dict)

    def died(self, name: str) -> bool:
        """Count a death under ``name``; True when it has reached the limit."""
        self._deaths[name] = self._deaths.get(name, 0) + 1
        return self._deaths[name] >= self.limit

    def count(self, name: str) -> int:
        return self._deaths.get(name, 0)

    def forget(self, name: str) -> None:
        """``name`` was finished by a worker (or quarantined): its count starts over."""
        self._deaths.pop(name, None)
