"""``GET /kpi?since=...&until=...``: the KPI report of a window (admins; default: last day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prip_ray.errors import InvalidQuery
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of


def parse_when(text: str | None, default: datetime, name: str) -> datetime:
    if text is None:
        return default
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuery(f"{name}={text!r} is not an ISO date", token=text) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def kpi_router() -> APIRouter:
    router = APIRouter()

    @router.get("/kpi")
    @guarded("admin")
    def kpi(
        request: Request,
        since: str | None = None,
        until: str | None = None,
    ) -> JSONResponse:
        service = services_of(request).kpi
        if service is None:
            raise InvalidQuery("this PRIP computes no KPIs")
        end = parse_when(until, datetime.now(UTC), "until")
        try:
            day_before = end - timedelta(days=1)
        except OverflowError:  # until=0001-01-01
            raise InvalidQuery("until is too early", token=until) from None
        start = parse_when(since, day_before, "since")
        if start >= end:
            raise InvalidQuery("since must be before until", token=since)
        return JSONResponse(service.report(start, end))

    return router
