"""A replica SIGKILLed in a burst of searches: what every request of the burst got back.
Shared by the ingress tests of `prip-ray up` (test_cli_up.py) and of the RayService
(haproxy_app.py, in a network namespace of its own)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import httpx
import psutil


def replicas_of(root: int) -> list[int]:
    """The PIDs of the API replicas among ``root``'s descendants (its Ray's workers)."""
    children = psutil.Process(root).children(recursive=True)
    return sorted(c.pid for c in children if c.name().startswith("ray::ServeReplica:prip"))


def statuses_while_killing(
    url: str, auth: tuple[str, str], replica: int, *, clients: int = 16
) -> Counter[str]:
    """``clients`` clients search ``url`` for 4 s; one second in, ``replica`` gets SIGKILL.
    How many answers of each status came back, and the error of any request that got
    none (its repr)."""
    seen: Counter[str] = Counter()
    stop = time.monotonic() + 4

    def client() -> None:
        with httpx.Client(auth=auth, timeout=30) as http:
            while time.monotonic() < stop:
                try:
                    seen[str(http.get(url, params={"$top": "5"}).status_code)] += 1
                except httpx.HTTPError as e:
                    seen[repr(e)] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    os.kill(replica, signal.SIGKILL)
    for thread in threads:
        thread.join()
    return seen
