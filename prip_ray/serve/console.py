"""``GET /console``: the operator console (admins), and its KPI exports as CSV and JSON.

The period comes from the page's links and form: ``period=24h|7d|30d`` (the default is
24 h), or ``since``/``until`` (ISO dates; the form's local times are read as UTC). The page
is built in the replica's blocking pool like every DB-reading route.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from prip_ray.console.export import kpi_csv
from prip_ray.console.page import PERIODS, render
from prip_ray.errors import InvalidQuery
from prip_ray.serve.kpi import parse_when
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of
from prip_ray.services.console import ConsoleService

SPANS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def console_of(request: Request) -> ConsoleService:
    console = services_of(request).console
    if console is None:
        raise InvalidQuery("this PRIP has no operator console")
    return console


def window(request: Request) -> tuple[str, datetime, datetime]:
    """(period name, since, until) from the query: a named period, or since/until."""
    params = request.query_params
    period = params.get("period") or ("custom" if "since" in params else "24h")
    if period not in (*PERIODS, "custom"):
        raise InvalidQuery(f"period={period!r}: one of {', '.join(PERIODS)} or custom")
    now = datetime.now(UTC)
    if period in SPANS:
        return period, now - SPANS[period], now
    until = parse_when(params.get("until") or None, now, "until")
    try:
        day_before = until - SPANS["24h"]
    except OverflowError:  # until=0001-01-01
        raise InvalidQuery("until is too early", token=params.get("until")) from None
    since = parse_when(params.get("since") or None, day_before, "since")
    if since >= until:
        raise InvalidQuery("since must be before until", token=params.get("since"))
    return period, since, until


def _filename(since: datetime, until: datetime, suffix: str) -> str:
    return f"prip-kpi-{since:%Y%m%dT%H%M}-{until:%Y%m%dT%H%M}.{suffix}"


def console_router() -> APIRouter:
    router = APIRouter()

    @router.get("/console", include_in_schema=False)
    @guarded("admin")
    def console(request: Request) -> HTMLResponse:
        period, since, until = window(request)
        base = request.scope.get("root_path", "") + "/console"
        return HTMLResponse(render(console_of(request).view(since, until), period, base))

    @router.get("/console/export.csv", include_in_schema=False)
    @guarded("admin")
    def export_csv(request: Request) -> Response:
        _, since, until = window(request)
        body = kpi_csv(console_of(request).kpi.figures(since, until))
        disposition = f'attachment; filename="{_filename(since, until, "csv")}"'
        return Response(body, media_type="text/csv", headers={"Content-Disposition": disposition})

    @router.get("/console/export.json", include_in_schema=False)
    @guarded("admin")
    def export_json(request: Request) -> JSONResponse:
        _, since, until = window(request)
        body = console_of(request).kpi.report(since, until)
        disposition = f'attachment; filename="{_filename(since, until, "json")}"'
        return JSONResponse(body, headers={"Content-Disposition": disposition})

    return router
