"""The routes' own worker threads: reused, bounded, and carrying the caller's context."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from prip_ray.serve.blocking import BlockingPool

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def test_work_runs_on_a_few_threads_that_stay() -> None:
    pool = BlockingPool(3)

    async def many() -> list[tuple[int, str, str]]:
        async def one(i: int) -> tuple[int, str, str]:
            REQUEST_ID.set(f"r{i}")

            def work() -> tuple[int, str, str]:
                return threading.get_ident(), threading.current_thread().name, REQUEST_ID.get()

            return await pool.run(work)

        first = await asyncio.gather(*(one(i) for i in range(20)))
        second = await asyncio.gather(*(one(i) for i in range(20, 40)))
        return first + second

    seen = asyncio.run(many())
    assert [request for _, _, request in seen] == [f"r{i}" for i in range(40)]
    assert 1 <= len({ident for ident, _, _ in seen}) <= 3
    assert all(name.startswith("prip-blocking") for _, name, _ in seen)
    loop_thread = threading.get_ident()
    assert loop_thread not in {ident for ident, _, _ in seen}


def test_an_error_in_the_work_reaches_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no such product")

    with pytest.raises(LookupError, match="no such product"):
        asyncio.run(BlockingPool(1).run(fail))
