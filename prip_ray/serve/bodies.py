"""Request bodies are limited before they are read: ``BodyLimit``, an ASGI middleware.

A route that reads its body and then checks its size has already held all of it in memory;
``POST /oauth2/token`` does so for anyone, unauthenticated. Here the limit of the route's
path is checked against ``Content-Length`` before the app runs, and the chunks the app
receives are counted as they arrive (chunked transfer declares no length), so no more than
the limit is ever read: beyond it the answer is 413.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prip_ray.serve.errors import odata_error


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body crosses its limit. An HTTPException, so FastAPI's
    body parsing lets it through and the app's error handler answers 413 in OData form. The
    answer closes the connection: the rest of the body is never read, and a server that kept
    the connection open would wait for it until its keep-alive timeout."""

    def __init__(self, limit: int):
        message = f"the request body is larger than {limit} bytes"
        super().__init__(413, message, headers={"Connection": "close"})


class BodyLimit:
    """``limits``: bytes allowed per exact path (``/oauth2/token``); ``default`` elsewhere."""

    def __init__(self, app: ASGIApp, limits: Mapping[str, int], default: int):
        self.app = app
        self.limits = dict(limits)
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(_route_path(scope), self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, noting_start)
        except BodyTooLarge:
            if started:  # the app answered already: nothing better to say
                raise
            await _refuse(scope, receive, send, limit)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                return None  # the server refuses such a request before it gets here
            return int(text) if len(text) <= 18 else 10**18  # int() refuses 4,300 digits
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    error = odata_error(413, "PayloadTooLarge", f"the request body is larger than {limit} bytes")
    error.headers["Connection"] = "close"  # the rest of the body is not read
    await error(scope, receive, send)
