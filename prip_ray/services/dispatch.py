"""How an ingestion shard picks work: its own products only, bounded in-flight, sized pool."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from prip_ray.domain.sharding import shard_of
from prip_ray.storage.inbox import InboxItem


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
        mine = [
            i
            for i in ready
            if self.owns(i.published_name) and i.name not in in_flight and due(i.name)
        ]
        return mine[:room]


def desired_workers(load: int, minimum: int, maximum: int) -> int:
    """One QC worker per product in flight, between the configured bounds."""
    return max(minimum, min(maximum, load))
