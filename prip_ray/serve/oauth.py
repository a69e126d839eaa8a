"""The PRIP's OAuth 2.0 token endpoint, ``POST /oauth2/token`` (RFC 6749 §4.3 and §4.4), and
its public keys, ``GET /oauth2/certs`` (JWKS), for clients that verify tokens themselves.

``password`` grant: form fields ``username``/``password``. ``client_credentials`` grant: a
service account is a PRIP user; its name and password come as ``client_id``/``client_secret``
form fields or as HTTP Basic. Errors follow RFC 6749 §5.2, not the OData error body.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from prip_ray.errors import AuthenticationFailed, QuotaExceeded
from prip_ray.security.keys import public_jwk
from prip_ray.serve import openapi
from prip_ray.serve.security import client_address, parse_basic
from prip_ray.serve.services import services_of

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM = 8192  # bytes; longer forms get 413 before they are read (serve/bodies.py)


def oauth_router() -> APIRouter:
    router = APIRouter()

    @router.post("/oauth2/token", openapi_extra=openapi.documented(body=openapi.TOKEN_FORM))
    async def token(request: Request) -> JSONResponse:
        services = services_of(request)
        if services.tokens is None:
            return _oauth_error(400, "unsupported_grant_type", "this PRIP issues no tokens")
        body = await request.body()
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        try:
            name, password = _credentials(request, form, grant)
        except ValueError as e:
            return _oauth_error(400, *e.args)
        try:
            user = services.authenticator.login(name, password, client_address(request))
        except AuthenticationFailed:
            kind = "invalid_client" if grant == "client_credentials" else "invalid_grant"
            return _oauth_error(401 if kind == "invalid_client" else 400, kind, "wrong credentials")
        except QuotaExceeded as e:
            return _oauth_error(429, "slow_down", str(e), {"Retry-After": str(e.retry_after)})
        issued = services.tokens.issue(user)
        body_out = {
            "access_token": issued.access_token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
        }
        return JSONResponse(body_out, headers=NO_STORE)

    @router.get("/oauth2/certs")
    def certs(request: Request) -> JSONResponse:
        tokens = services_of(request).tokens
        keys = [public_jwk(tokens.public_key)] if tokens is not None else []
        return JSONResponse({"keys": keys})

    return router


def _credentials(request: Request, form: dict[str, str], grant: str | None) -> tuple[str, str]:
    if grant == "password":
        if "username" not in form or "password" not in form:
            raise ValueError("invalid_request", "the password grant needs username and password")
        return form["username"], form["password"]
    if grant == "client_credentials":
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                return parse_basic(header[6:].strip())
            except AuthenticationFailed:
                raise ValueError("invalid_client", "malformed Basic credentials") from None
        if "client_id" not in form or "client_secret" not in form:
            raise ValueError("invalid_client", "client_id and client_secret are required")
        return form["client_id"], form["client_secret"]
    raise ValueError("unsupported_grant_type", f"grant_type {grant!r} is not supported")


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )
