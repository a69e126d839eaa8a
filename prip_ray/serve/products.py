"""Routes of the Products entity set: search, one entity, and its media stream ($value)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from prip_ray.domain.products import Product
from prip_ray.domain.users import User
from prip_ray.errors import InvalidQuery
from prip_ray.odata.options import parse_query_options
from prip_ray.odata.serialize import collection_context, entity_context, product_json
from prip_ray.serve.ranges import parse_range


def products_router(searcher: Callable[..., User], downloader: Callable[..., User]) -> APIRouter:
    router = APIRouter()

    # Dependencies go in the decorator: a closure's names cannot be resolved from annotations.
    @router.get("/Products", dependencies=[Depends(searcher)])
    def search(request: Request) -> JSONResponse:
        services = request.app.state.services
        api = services.settings
        params = dict(request.query_params)
        options = parse_query_options(
            params, default_top=api.default_top, max_top=api.max_top, max_skip=api.max_skip
        )
        result = services.products.search(options)
        expand = sorted(options.expand)
        body: dict[str, Any] = {"@odata.context": collection_context("Products", expand=expand)}
        if result.count is not None:
            body["@odata.count"] = result.count
        with_attributes = "Attributes" in options.expand
        body["value"] = [
            product_json(p, with_attributes=with_attributes, select=options.select)
            for p in result.products
        ]
        if result.more:
            body["@odata.nextLink"] = _next_link(request, params, options.skip + options.top)
        return JSONResponse(body)

    @router.get("/Products({key})", dependencies=[Depends(searcher)])
    def entity(request: Request, key: str) -> JSONResponse:
        product = request.app.state.services.products.get(parse_key(key))
        expand = "Attributes" in request.query_params.get("$expand", "")
        body = {"@odata.context": entity_context("Products")}
        body.update(product_json(product, with_attributes=expand))
        return JSONResponse(body)

    @router.get("/Products({key})/$value", dependencies=[Depends(downloader)])
    def download(request: Request, key: str) -> Response:
        services = request.app.state.services
        product: Product = services.products.get(parse_key(key))
        return _stream(services.store, product, request.headers.get("range"))

    return router


def parse_key(key: str) -> UUID:
    """``Products(<guid>)``, ``Products('<guid>')`` and ``Products(Id=<guid>)`` all name one."""
    text = key.strip()
    if text.startswith("Id="):
        text = text[3:]
    text = text.strip("'")
    try:
        return UUID(text)
    except ValueError as e:
        raise InvalidQuery(f"{key!r} is not a product Id (a GUID)", token=key, position=0) from e


def _stream(store: Any, product: Product, range_header: str | None) -> Response:
    length = product.content_length
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'attachment; filename="{product.name}"',
    }
    md5 = product.checksum("MD5")
    if md5:
        headers["ETag"] = f'"{md5}"'
    selected = parse_range(range_header, length)
    if selected is None:
        headers["Content-Length"] = str(length)
        body = _primed(store.read(product.object_key))
        return StreamingResponse(body, 200, headers, media_type=product.content_type)
    start, end = selected
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{length}"
    body = _primed(store.read(product.object_key, start, end))
    return StreamingResponse(body, 206, headers, media_type=product.content_type)


def _primed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Read the first chunk now, so a store failure is an error status, not a cut stream."""
    first = next(chunks, b"")
    return itertools.chain([first], chunks)


def _next_link(request: Request, params: dict[str, str], skip: int) -> str:
    following = {**params, "$skip": str(skip)}
    # "$" and the OData punctuation stay readable, as the ICD's and CDSE's links show them.
    return str(request.url.replace(query=urlencode(following, safe="$/,()':", quote_via=quote)))
