"""Authentication and roles: every route names the action it needs with ``guarded``.

``Authorization: Basic ...`` is checked against the user store, ``Authorization: Bearer ...``
against the PRIP's own token keys or the configured OpenID Connect provider. Every
authenticated request also counts against the user's per-minute request quota.
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from prip_ray.domain.users import User
from prip_ray.errors import AuthenticationFailed
from prip_ray.serve.services import services_of as services_of  # routes in flight import it here
from prip_ray.services.auth import authorise

MAX_AUTHORIZATION = 16_384


def client_address(request: Request) -> str:
    """The caller's address: the TCP peer, or what trusted proxies say it forwarded."""
    peer = request.client.host if request.client else ""
    return services_of(request).proxies.client(peer, request.headers.get("x-forwarded-for"))


def authenticated(request: Request) -> User:
    services = services_of(request)
    header = request.headers.get("authorization", "")
    if len(header) > MAX_AUTHORIZATION:
        raise AuthenticationFailed("the Authorization header is too long")
    scheme, _, value = header.partition(" ")
    address = client_address(request)
    if scheme.lower() == "basic":
        name, password = parse_basic(value.strip())
        user = services.authenticator.login(name, password, address)
    elif scheme.lower() == "bearer":
        user = services.authenticator.bearer(value.strip(), address)
    else:
        raise AuthenticationFailed("credentials are required (HTTP Basic or a Bearer token)")
    if services.quotas is not None:
        services.authenticator.count_request(user, services.quotas.limits_for(user))
    return user


def parse_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    name, colon, password = decoded.partition(":")
    if not colon:
        raise AuthenticationFailed("malformed Basic credentials")
    return name, password


def guarded(action: str) -> Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]:
    """THE way a route names the action it needs: ``@guarded("search")`` under the route
    decorator. The route must take ``request: Request``; one that takes ``user: User`` gets
    the authorised user (the parameter is hidden from FastAPI, which would read it from the
    query or body). The route audit reads ``required_action``.

    A sync route (blocking work: DB reads, store calls) runs on the replica's own threads
    (serve/blocking.py) right after the check, in one hop: FastAPI would run a sync
    dependency and a sync route in a thread hop each, on threads started per request under
    Serve (0.5-1.4 ms of a replica's CPU per hop under load; the search routes' throughput
    depends on it). An async route (it awaits the request body) is checked in one hop to
    those threads, then runs on the event loop."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        signature = inspect.signature(handler)
        takes_user = "user" in signature.parameters

        def check(request: Request, kwargs: dict[str, Any]) -> None:
            user = authorise(authenticated(request), action)
            if takes_user:
                kwargs["user"] = user

        if inspect.iscoroutinefunction(handler):

            async def checked(*args: Any, **kwargs: Any) -> Any:
                request: Request = kwargs["request"]
                await services_of(request).blocking.run(lambda: check(request, kwargs))
                return await handler(*args, **kwargs)

        else:

            async def checked(*args: Any, **kwargs: Any) -> Any:
                request: Request = kwargs["request"]

                def work() -> Any:
                    check(request, kwargs)
                    return handler(*args, **kwargs)

                return await services_of(request).blocking.run(work)

        functools.update_wrapper(checked, handler)
        params = [p for name, p in signature.parameters.items() if name != "user"]
        checked.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        checked.required_action = action  # type: ignore[attr-defined]
        return checked

    return decorate


def basic_header(name: str, password: str) -> dict[str, str]:
    """Request headers with HTTP Basic credentials (for clients and tests)."""
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
