"""``create_app``: the OData API as a FastAPI app, runnable without Ray (tests use httpx's
ASGI transport); ``prip_ray.serve.deployment`` wraps it in a Ray Serve deployment."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from prip_ray.config import ApiSettings
from prip_ray.db.repository import ProductRepository
from prip_ray.domain.users import User
from prip_ray.errors import AuthenticationFailed, InvalidQuery
from prip_ray.odata.csdl import metadata_json_text, metadata_xml, service_document
from prip_ray.ports import ObjectStore
from prip_ray.serve.errors import install_error_handlers
from prip_ray.serve.products import products_router
from prip_ray.services.auth import Authenticator, authorise

ODATA_ROOT = "/odata/v1"


@dataclass
class ApiServices:
    products: ProductRepository
    store: ObjectStore
    authenticator: Authenticator
    settings: ApiSettings


_basic = HTTPBasic(auto_error=False, realm="PRIP")


def create_app(services: ApiServices) -> FastAPI:
    app = FastAPI(title="prip-ray OData API", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    install_error_handlers(app)

    @app.middleware("http")
    async def _odata_version(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("OData-Version", "4.0")
        return response

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(ODATA_ROOT)
    @app.get(ODATA_ROOT + "/")
    def root(_: Annotated[User, Depends(searcher)]) -> JSONResponse:
        return JSONResponse(service_document())

    @app.get(ODATA_ROOT + "/$metadata")
    def metadata(request: Request, _: Annotated[User, Depends(searcher)]) -> Response:
        wanted = request.query_params.get("$format", "")
        if wanted.lower() in ("json", "application/json"):
            return Response(metadata_json_text(), media_type="application/json")
        if wanted and wanted.lower() not in ("xml", "application/xml"):
            raise InvalidQuery(f"$metadata comes as xml or json, not {wanted!r}", token=wanted)
        return Response(metadata_xml(), media_type="application/xml")

    app.include_router(products_router(searcher, downloader), prefix=ODATA_ROOT)
    return app


def services_of(request: Request) -> ApiServices:
    services: ApiServices = request.app.state.services
    return services


def authenticated(
    request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> User:
    if credentials is None:
        raise AuthenticationFailed("credentials are required (HTTP Basic)")
    return services_of(request).authenticator.login(credentials.username, credentials.password)


def searcher(user: Annotated[User, Depends(authenticated)]) -> User:
    return authorise(user, "search")


def downloader(user: Annotated[User, Depends(authenticated)]) -> User:
    return authorise(user, "download")


def basic_header(name: str, password: str) -> dict[str, str]:
    """Request headers with HTTP Basic credentials (for clients and tests)."""
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
