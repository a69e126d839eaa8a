"""``GET /odata/v1/Quotas``: a user's own limits and what is used of them now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prip_ray.domain.users import User
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of


def quotas_router() -> APIRouter:
    router = APIRouter()

    @router.get("/Quotas")
    @guarded("search")
    def quotas(request: Request, user: User) -> JSONResponse:
        service = services_of(request).quotas
        if service is None:
            return JSONResponse({"@odata.context": "$metadata#Quotas", "value": []})
        limits, usage = service.limits_for(user), service.usage(user)
        days = limits.window.total_seconds() / 86400
        parallel = {"Limit": limits.max_parallel, "Used": usage.active_downloads}
        volume = {"Limit": limits.volume_bytes, "Used": usage.window_bytes, "WindowDays": days}
        value: list[dict[str, Any]] = [
            {"Name": "ParallelDownloads", **parallel},
            {"Name": "DownloadVolume", "Unit": "bytes", **volume},
            {"Name": "RequestsPerMinute", "Limit": limits.requests_per_minute},
        ]
        return JSONResponse(
            {"@odata.context": "$metadata#Quotas", "User": user.name, "value": value}
        )

    return router
