"""The API's blocking work runs in no more threads than the DB pool has connections."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from prip_ray.serve.measure import ThreadLimit


def test_sync_routes_never_run_in_more_threads_than_the_limit() -> None:
    app = FastAPI()
    app.add_middleware(ThreadLimit, threads=2)
    lock = threading.Lock()
    running = peak = 0

    @app.get("/work")
    def work() -> dict[str, int]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return {"ok": 1}

    with TestClient(app) as client:
        callers = [threading.Thread(target=client.get, args=("/work",)) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert peak == 2  # eight requests at once, two threads at a time
