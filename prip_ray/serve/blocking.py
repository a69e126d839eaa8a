"""Blocking route work on threads that live as long as the replica.

FastAPI hands sync routes and dependencies to anyio's worker threads, and anyio ties each
new worker to the task it finds as the loop's root. On Serve's user-code event loop (run
with ``run_forever`` in a thread of its own) it finds none and takes the request's task, so
the worker stopped when the request ended: a thread started per request (680 in 6 s on one
replica), each start blocking the event loop until the new thread ran. Routes that send
their work here use a fixed pool instead.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class BlockingPool:
    def __init__(self, threads: int):
        self._threads = max(1, threads)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on one of the pool's threads, with the caller's context variables
        (Serve's request id for the access log, among others)."""
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(self._pool(), context.run, work)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:  # made on first use, in the process that serves
                self._executor = ThreadPoolExecutor(self._threads, "prip-blocking")
            return self._executor
