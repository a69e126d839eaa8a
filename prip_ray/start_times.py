"""How long each step of ``prip-ray up`` took: one log line says where the start went."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StartTimes:
    """How long each step of the start took, for the log line that sums it up."""

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.steps: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        yield
        self.steps.append((name, time.monotonic() - began))

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.steps)
        return f"started in {self.elapsed():.1f} s ({parts})"
