"""``/odata/v1/Subscriptions``: create, list, read, change status (PATCH or the ICD's
Pause/Resume/Cancel actions) and delete. Users see only their own; admin sees all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from prip_ray.domain.pull import PULL_ENDPOINT, is_pull
from prip_ray.domain.subscriptions import (
    ACTIONS,
    Subscription,
    check_credential,
    check_endpoint,
    check_event,
)
from prip_ray.domain.users import User
from prip_ray.errors import ConfigurationError, InvalidQuery
from prip_ray.odata.filter import parse_filter
from prip_ray.odata.serialize import odata_datetime
from prip_ray.serve import openapi
from prip_ray.serve.products import parse_key
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of
from prip_ray.services.subscriptions import SubscriptionService

CONTEXT = "$metadata#Subscriptions"
MAX_BODY = 64 * 1024  # the body limit of every route but FilterList and the token


def subscriptions_router() -> APIRouter:
    router = APIRouter()

    @router.post("/Subscriptions", openapi_extra=openapi.documented(body=openapi.SUBSCRIPTION))
    @guarded("subscribe")
    async def create(request: Request, user: User) -> JSONResponse:
        services = services_of(request)
        fields = _validated(await _body(request))
        rules = _rules(request)
        # Off the event loop: it resolves the endpoint's name and reads the DB.
        created = await services.blocking.run(
            lambda: rules.create(user, now=datetime.now(UTC), **fields)
        )
        answer = {
            "@odata.context": "$metadata#OData.CSC.Subscription",
            **subscription_json(created),
        }
        return JSONResponse(answer, status_code=201)

    @router.get("/Subscriptions")
    @guarded("subscribe")
    def listing(request: Request, user: User) -> JSONResponse:
        found = _rules(request).listing(user)
        return JSONResponse(
            {"@odata.context": CONTEXT, "value": [subscription_json(s) for s in found]}
        )

    @router.get("/Subscriptions({key})")
    @guarded("subscribe")
    def one(request: Request, key: str, user: User) -> JSONResponse:
        found = _rules(request).get(user, parse_key(key))
        return JSONResponse({"@odata.context": f"{CONTEXT}/$entity", **subscription_json(found)})

    @router.patch("/Subscriptions({key})", openapi_extra=openapi.documented(body=openapi.STATUS))
    @guarded("subscribe")
    async def change(request: Request, key: str, user: User) -> Response:
        rules = _rules(request)
        found = rules.get(user, parse_key(key))
        body = await _body(request)
        if set(body) - {"Status"} or not isinstance(body.get("Status"), str):
            raise InvalidQuery('PATCH takes {"Status": "running" | "paused" | "cancelled"}')
        rules.set_status(user, found, body["Status"])
        return Response(status_code=204)

    @router.post("/Subscriptions({key})/OData.CSC.{action}")
    @guarded("subscribe")
    def act(request: Request, key: str, action: str, user: User) -> Response:
        if action not in ACTIONS:
            raise InvalidQuery(
                f"unknown action {action}; actions are {', '.join(ACTIONS)}", token=action
            )
        rules = _rules(request)
        rules.set_status(user, rules.get(user, parse_key(key)), ACTIONS[action])
        return Response(status_code=204)

    @router.delete("/Subscriptions({key})")
    @guarded("subscribe")
    def remove(request: Request, key: str, user: User) -> Response:
        _rules(request).delete(user, parse_key(key))
        return Response(status_code=204)

    return router


def subscription_json(sub: Subscription) -> dict[str, Any]:
    return {
        "Id": str(sub.id),
        "Status": sub.status,
        "SubscriptionEvent": sub.event,
        "FilterParam": sub.filter_param,
        "SubmissionDate": odata_datetime(sub.submission_date),
        "LastNotificationDate": _date(sub.last_notification_date),
        "NotificationEndpoint": None if is_pull(sub.endpoint) else sub.endpoint,
        "NotificationEpUsername": sub.endpoint_username,
        "Owner": sub.owner,
        "FailingSince": _date(sub.failing_since),
        "LastError": sub.last_error,
    }


def _date(value: datetime | None) -> str | None:
    return odata_datetime(value) if value is not None else None


def _validated(body: dict[str, Any]) -> dict[str, Any]:
    text = body.get("FilterParam")
    if not isinstance(text, str):
        raise InvalidQuery("FilterParam (a $filter expression) is required")
    for field, value in body.items():
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL stores no NUL in text
            raise InvalidQuery(f"{field} contains a NUL character")
    parse_filter(text)  # the same parser as Products: a wrong filter is refused here
    try:
        return {
            "filter_param": text,
            "event": check_event(str(body.get("SubscriptionEvent", "created"))),
            "endpoint": _endpoint(body.get("NotificationEndpoint")),
            "username": check_credential(
                "NotificationEpUsername", _optional(body, "NotificationEpUsername")
            ),
            "password": check_credential(
                "NotificationEpPassword", _optional(body, "NotificationEpPassword")
            ),
        }
    except ValueError as e:
        raise InvalidQuery(str(e)) from None


def _endpoint(value: Any) -> str:
    """None or absent: a pull subscription (CDSE), whose owner reads its notifications."""
    return PULL_ENDPOINT if value is None else check_endpoint(str(value))


def _optional(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise InvalidQuery(f"{field} must be a string")
    return value


def _rules(request: Request) -> SubscriptionService:
    rules = services_of(request).subscription_service
    if rules is None:
        raise ConfigurationError("this app was built without the subscription service")
    return rules


def _reason(error: Exception) -> str:
    return "nested too deeply" if isinstance(error, RecursionError) else str(error)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()  # no longer than MAX_BODY: BodyLimit (serve/bodies.py)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:  # RecursionError: [[[[... nested too deep
        raise InvalidQuery(f"the request body is not JSON: {_reason(e)}") from None
    if not isinstance(body, dict):
        raise InvalidQuery("the request body must be a JSON object")
    return body
