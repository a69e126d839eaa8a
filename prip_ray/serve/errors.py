"""The HTTP face of the error tree: one status table and the OData error body."""

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


def odata_error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers={"OData-Version": "4.0", **headers})


def _status_of(error: errors.PripError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _prip_error(_: Request, exc: Exception) -> JSONResponse:
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
        log.error("request failed: %s", exc)
    return odata_error(status, exc.code, str(exc), **headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
    code = codes.get(exc.status_code, "HttpError")
    return odata_error(exc.status_code, code, str(exc.detail), **(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    return odata_error(400, "InvalidQuery", str(exc))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return odata_error(500, "InternalError", "internal error; the PRIP operators have the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.PripError, _prip_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
