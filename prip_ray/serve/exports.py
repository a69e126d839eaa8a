"""``/odata/v1/CatalogueExports``: the catalogue exports in the object store, for admins."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from prip_ray.errors import InvalidQuery, ProductNotFound
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of
from prip_ray.services.export import MEDIA_TYPES, PREFIX, CatalogueExporter, export_summary

_NAME = re.compile(r"^(full|incremental)-(catalogue-\1-\d{8}T\d{6}(\.jsonl\.gz|\.parquet))$")


def exports_router() -> APIRouter:
    router = APIRouter()

    @router.get("/CatalogueExports")
    @guarded("admin")
    def listing(request: Request) -> JSONResponse:
        found = _exporter(request).exports()
        value = [export_summary(r) for r in found]
        return JSONResponse({"@odata.context": "$metadata#CatalogueExports", "value": value})

    @router.get("/CatalogueExports({name})/$value")
    @guarded("admin")
    def download(request: Request, name: str) -> Response:
        match = _NAME.match(name.strip("'"))
        if not match:
            raise InvalidQuery(f"{name!r} is not a catalogue export name", token=name)
        key = f"{PREFIX}{match.group(1)}/{match.group(2)}"
        store = services_of(request).store
        size = store.size(key)
        if size is None:
            raise ProductNotFound(f"no catalogue export {name}")
        headers = {
            "Content-Length": str(size),
            "Content-Disposition": f'attachment; filename="{match.group(2)}"',
        }
        media_type = MEDIA_TYPES[match.group(3)]
        return StreamingResponse(store.read(key), 200, headers, media_type=media_type)

    return router


def _exporter(request: Request) -> CatalogueExporter:
    services = services_of(request)
    return CatalogueExporter(services.products, services.store, services.work_dir)
