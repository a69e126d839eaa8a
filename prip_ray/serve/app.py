"""``create_app``: the OData API as a FastAPI app, runnable without Ray (tests use httpx's
ASGI transport); ``prip_ray.serve.deployment`` wraps it in a Ray Serve deployment."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from prip_ray.errors import InvalidQuery
from prip_ray.odata.csdl import metadata_json_text, metadata_xml, service_document
from prip_ray.serve.bodies import BodyLimit
from prip_ray.serve.console import console_router
from prip_ray.serve.deleted import deleted_router
from prip_ray.serve.errors import install_error_handlers
from prip_ray.serve.exports import exports_router
from prip_ray.serve.kpi import kpi_router
from prip_ray.serve.measure import (
    ODataVersionHeader,
    StartWithBody,
    ThreadLimit,
    install_request_metrics,
)
from prip_ray.serve.nodes import nodes_router
from prip_ray.serve.oauth import MAX_FORM, oauth_router
from prip_ray.serve.openapi import METADATA_OPTIONS, documented
from prip_ray.serve.products import filter_list_limit, products_router
from prip_ray.serve.pull import pull_router
from prip_ray.serve.quarantine import quarantine_router
from prip_ray.serve.quotas import quotas_router
from prip_ray.serve.security import basic_header, guarded
from prip_ray.serve.services import ApiServices
from prip_ray.serve.stac import stac_router
from prip_ray.serve.subscriptions import MAX_BODY, subscriptions_router
from prip_ray.serve.withdraw import withdraw_router

__all__ = ["ODATA_ROOT", "ApiServices", "basic_header", "create_app"]

ODATA_ROOT = "/odata/v1"


def create_app(services: ApiServices) -> FastAPI:
    app = FastAPI(title="prip-ray OData API", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    install_error_handlers(app)

    app.add_middleware(ODataVersionHeader)
    app.add_middleware(StartWithBody)
    app.add_middleware(ThreadLimit, threads=services.sync_threads)
    limits = {
        "/oauth2/token": MAX_FORM,
        ODATA_ROOT + "/Products/OData.CSC.FilterList": filter_list_limit(services.settings),
    }
    app.add_middleware(BodyLimit, limits=limits, default=MAX_BODY)
    install_request_metrics(app, services.metrics)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(ODATA_ROOT)
    @app.get(ODATA_ROOT + "/")
    @guarded("search")
    def root(request: Request) -> JSONResponse:
        return JSONResponse(service_document())

    @app.get(ODATA_ROOT + "/$metadata", openapi_extra=documented(METADATA_OPTIONS))
    @guarded("search")
    def metadata(request: Request) -> Response:
        wanted = request.query_params.get("$format", "")
        if wanted.lower() in ("json", "application/json"):
            return Response(metadata_json_text(), media_type="application/json")
        if wanted and wanted.lower() not in ("xml", "application/xml"):
            raise InvalidQuery(f"$metadata comes as xml or json, not {wanted!r}", token=wanted)
        return Response(metadata_xml(), media_type="application/xml")

    app.include_router(products_router(), prefix=ODATA_ROOT)
    app.include_router(nodes_router(), prefix=ODATA_ROOT)
    app.include_router(deleted_router(), prefix=ODATA_ROOT)
    app.include_router(withdraw_router(), prefix=ODATA_ROOT)
    app.include_router(quarantine_router(), prefix=ODATA_ROOT)
    app.include_router(quotas_router(), prefix=ODATA_ROOT)
    app.include_router(subscriptions_router(), prefix=ODATA_ROOT)
    app.include_router(pull_router(), prefix=ODATA_ROOT)
    app.include_router(exports_router(), prefix=ODATA_ROOT)
    app.include_router(stac_router())
    app.include_router(oauth_router())
    app.include_router(kpi_router())
    app.include_router(console_router())
    return app
