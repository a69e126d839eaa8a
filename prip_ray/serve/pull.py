"""``Subscriptions(Id)/Read`` and ``Subscriptions(Id)/Ack``: a pull subscription's owner
takes its queued notifications, as on CDSE (services/pull.py).

Read answers a JSON array of notifications, each with its AckId, as CDSE does (not an
OData collection). Ack takes ``$ackid`` by GET or POST, CDSE documenting POST and clients
behind proxies sometimes able to send only GET.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prip_ray.domain.users import User
from prip_ray.errors import ConfigurationError
from prip_ray.serve import openapi
from prip_ray.serve.products import parse_key
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of
from prip_ray.services.pull import PullService


def pull_router() -> APIRouter:
    router = APIRouter()

    @router.get("/Subscriptions({key})/Read", openapi_extra=openapi.documented(openapi.PULL_READ))
    @guarded("subscribe")
    def read(request: Request, key: str, user: User) -> JSONResponse:
        top = request.query_params.get("$top")
        return JSONResponse(_service(request).read(user, parse_key(key), top))

    @router.get("/Subscriptions({key})/Ack", openapi_extra=openapi.documented(openapi.PULL_ACK))
    @router.post("/Subscriptions({key})/Ack", openapi_extra=openapi.documented(openapi.PULL_ACK))
    @guarded("subscribe")
    def ack(request: Request, key: str, user: User) -> JSONResponse:
        token = request.query_params.get("$ackid")
        return JSONResponse(_service(request).ack(user, parse_key(key), token))

    return router


def _service(request: Request) -> PullService:
    found = services_of(request).pull_service
    if found is None:
        raise ConfigurationError("this app was built without the pull subscription service")
    return found
