"""Request metrics of an HTTP app (the OData API, the download gateway): count and duration
by route template and status, and quota refusals."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request, Response

from prip_ray.metrics import Metrics


def route_of(request: Request) -> str:
    """The matched route's template (``/odata/v1/Products({key})``): a bounded label."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def install_request_metrics(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def _measured(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = route_of(request)
        metrics.request(route, response.status_code, time.perf_counter() - started)
        if response.status_code == 429:
            metrics.quota_refused(route)
        return response
