"""ASGI middleware of the HTTP apps (the OData API, the download gateway): request metrics by
route template and status, quota refusals, the OData-Version header, and the thread limit.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: that one runs every request
through a task group and memory streams, which cost more CPU than a small search itself.
"""

from __future__ import annotations

import time
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prip_ray.metrics import Metrics


def route_of(scope: Scope) -> str:
    """The matched route's template (``/odata/v1/Products({key})``): a bounded label. The
    router records the route in the request's scope, which the middleware shares."""
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before it answers

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = route_of(scope)
            self.metrics.request(route, status, time.perf_counter() - started)
            if status == 429:
                self.metrics.quota_refused(route)


class ODataVersionHeader:
    """``OData-Version: 4.0`` on every answer that does not set its own."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("OData-Version", "4.0")
            await send(message)

        await self.app(scope, receive, with_version)


class StartWithBody:
    """Holds an answer's status and headers until its first body part, and sends them
    together: a replica killed between the two would leave HAProxy with headers it has
    passed on and cannot retry, and the client with a cut answer instead of a retried one."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def start_with_body(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
                return
            while held:
                await send(held.pop())
            await send(message)

        await self.app(scope, receive, start_with_body)


class ThreadLimit:
    """Sync routes and dependencies share anyio's thread limiter of the event loop serving
    the request (40 threads by default). Sized to the DB pool, a burst of requests queues
    for a thread instead of opening, and at once closing again, overflow connections beyond
    the pool. Set per request because the loop is Serve's choice: its proxy path and its
    direct ingress serve from different loops, and neither runs the app's lifespan there."""

    def __init__(self, app: ASGIApp, threads: int):
        self.app = app
        self.threads = max(1, threads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limiter = to_thread.current_default_thread_limiter()
            if limiter.total_tokens != self.threads:
                limiter.total_tokens = self.threads
        await self.app(scope, receive, send)


def install_request_metrics(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(RequestMetrics, metrics=metrics)
