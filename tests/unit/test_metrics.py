"""Counting into Ray counters from rounds that often have nothing to count."""

from __future__ import annotations

from prip_ray.metrics import add


class StrictCounter:
    """Behaves as ``ray.util.metrics.Counter.inc`` does: an increment of 0 is an error."""

    def __init__(self) -> None:
        self.total = 0.0
        self.tags: list[dict[str, str] | None] = []

    def inc(self, value: float = 1.0, tags: dict[str, str] | None = None) -> None:
        if value <= 0:
            raise ValueError(f"value must be >0, got {value}")
        self.total += value
        self.tags.append(tags)


def test_idle_rounds_add_nothing_and_raise_nothing() -> None:
    counter = StrictCounter()
    for value in (0, 3, 0, 2):
        add(counter, value)
    assert counter.total == 5
    add(counter, 4, {"kind": "full"})
    assert counter.tags[-1] == {"kind": "full"}
