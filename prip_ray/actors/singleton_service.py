"""What a leased singleton (``actors/leased_service.py``) needs of a service, and ``Every``,
which makes a job that runs every so often into rounds of the service loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SingletonService:
    """A service as the generic singleton runs it."""

    work: Callable[[], int]  # one round of the loop: how much it did (more than 0: go on)
    interval_s: float  # between rounds that did nothing (capped by the lease's TTL / 3)
    run: Callable[[], Any]  # one run asked for now (``LeasedService.run_now``)
    stats: Callable[[], dict[str, Any]] = field(default=dict)
    ttl_s: float | None = None  # the lease's; None: ``lease.ttl_s``


class Every:
    """A round that runs ``job`` once every ``interval_s`` and otherwise does nothing, so the
    loop's shorter rounds keep the lease between runs. The first run comes one interval after
    the start (a restart does not run at once); a failed run is tried again an interval
    later; a run that leaves more due (``more(result)``) is followed by the next at once."""

    def __init__(
        self,
        interval_s: float,
        job: Callable[[], Any],
        more: Callable[[Any], bool] = lambda _: False,
    ):
        self._interval = interval_s
        self._job = job
        self._more = more
        self._due = time.monotonic() + interval_s

    def __call__(self) -> int:
        now = time.monotonic()
        if now < self._due:
            return 0
        self._due = now + self._interval
        if not self._more(self._job()):
            return 0
        self._due = now
        return 1
