"""The HTTP face of the error tree: one status table and the OData error body.

A failure on our side (5xx) is told to the client in our own words only: its cause (a
driver message, SQL, a host, a bucket, a store path) goes to the log, for the operators.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from prip_ray import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.PripError], int] = {
    errors.InvalidQuery: 400,
    errors.AuthenticationFailed: 401,
    errors.PermissionDenied: 403,
    errors.ProductNotFound: 404,
    errors.RangeNotSatisfiable: 416,
    errors.QuotaExceeded: 429,
    errors.Unavailable: 503,
}


# What a client reads of a 5xx, by class; None: the error's own message is meant for it.
PUBLIC: dict[type[errors.PripError], str | None] = {
    errors.QueryTimeout: None,
    errors.DatabaseUnavailable: "the catalogue database is unavailable for a moment",
    errors.StorageError: "the product store is unavailable for a moment",
    errors.Unavailable: "a part of the PRIP is unavailable for a moment",
}
INTERNAL = "internal error; the PRIP operators have the details"


def odata_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers={"OData-Version": "4.0", **headers})


def _status_of(error: errors.PripError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def _public_message(error: errors.PripError, status: int) -> str:
    if status < 500:
        return str(error)
    for cls in type(error).__mro__:
        if cls in PUBLIC:
            return PUBLIC[cls] or str(error)
    return INTERNAL


async def _prip_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.PripError)
    status = _status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Basic realm="PRIP", charset="UTF-8"'
    if isinstance(exc, errors.QuotaExceeded):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.Unavailable):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.RangeNotSatisfiable):
        headers["Content-Range"] = f"bytes */{exc.length}"
    if status >= 500:
        log.error(
            "%s %s answered %d: %s", request.method, request.url.path, status, exc, exc_info=exc
        )
    return odata_error(status, exc.code, _public_message(exc, status), **headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
    code = codes.get(exc.status_code, "HttpError")
    return odata_error(exc.status_code, code, str(exc.detail), **(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """What was wrong where, from the errors themselves: ``str(exc)`` names the route's
    source file and line."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'/'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()
    ]
    return odata_error(400, "InvalidQuery", "; ".join(problems) or "invalid request")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return odata_error(500, "InternalError", INTERNAL)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.PripError, _prip_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
