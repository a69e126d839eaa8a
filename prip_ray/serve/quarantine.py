"""``GET /odata/v1/Quarantine``: the products the QC refused, for admins (newest first).

``?since=<ISO date>`` keeps those last seen since then, ``?reasonContains=<text>`` those
whose reason has the text; ``prip-ray quarantine`` lists, retries and purges the same."""

from __future__ import annotations

from fastapi import APIRouter, Request

from prip_ray.domain.quarantine import QuarantineEntry
from prip_ray.odata.serialize import odata_datetime
from prip_ray.serve.kpi import parse_when
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of


def quarantine_router() -> APIRouter:
    router = APIRouter()

    @router.get("/Quarantine")
    @guarded("admin")
    def listing(
        request: Request,
        since: str | None = None,
        reasonContains: str | None = None,
    ) -> FastJSONResponse:
        when = parse_when(since, None, "since") if since else None  # type: ignore[arg-type]
        entries = services_of(request).quarantine.entries(when, reasonContains)
        value = [entry_json(e) for e in entries]
        return FastJSONResponse({"@odata.context": "$metadata#Quarantine", "value": value})

    return router


def entry_json(entry: QuarantineEntry) -> dict[str, object]:
    return {
        "Name": entry.name,
        "Code": entry.code,
        "Reason": entry.reason,
        "FirstSeen": odata_datetime(entry.first_seen),
        "LastSeen": odata_datetime(entry.last_seen),
        "Times": entry.times,
        "ContentLength": entry.size,
        "Location": entry.location,
    }
