"""Routes of the Products entity set: search, one entity, FilterList, and the media stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from prip_ray.config import ApiSettings
from prip_ray.domain.products import Product, ProductVersion
from prip_ray.domain.users import User
from prip_ray.errors import InvalidQuery
from prip_ray.odata.options import QueryOptions, parse_query_options
from prip_ray.odata.serialize import (
    collection_body,
    collection_context,
    entity_context,
    product_json,
)
from prip_ray.serve import openapi
from prip_ray.serve.downloads import download_response
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import ApiServices, services_of

ENTITY_OPTIONS = {"$expand", "$select", "$format"}


def products_router() -> APIRouter:
    router = APIRouter()

    @router.get("/Products", openapi_extra=openapi.documented(openapi.SEARCH_OPTIONS))
    @guarded("search")
    def search(request: Request) -> Response:
        services = services_of(request)
        params = dict(request.query_params)
        options = _options(request, params)
        page = services.products.search_page(options)
        link = _next_link(request, params, options.skip + options.top) if page.more else None
        loader = _loader(services, options)
        root = service_root(request)
        return _collection(services, options, page.versions, loader, page.count, link, root)

    @router.get("/Products({key})", openapi_extra=openapi.documented(openapi.ENTITY_OPTIONS))
    @guarded("search")
    def entity(request: Request, key: str) -> FastJSONResponse:
        params = dict(request.query_params)
        for name in params:
            if name.startswith("$") and name not in ENTITY_OPTIONS:
                raise InvalidQuery(f"{name} does not apply to a single product", token=name)
        options = _options(request, params)
        with_assets = "Assets" in options.expand
        product = services_of(request).products.get(parse_key(key), with_assets=with_assets)
        expand = sorted(options.expand)
        body = {"@odata.context": entity_context("Products", expand=expand, select=options.select)}
        root = service_root(request)
        body.update(
            product_json(product, select=options.select, expand=options.expand, service_root=root)
        )
        return FastJSONResponse(body)

    @router.post(
        "/Products/OData.CSC.FilterList",
        openapi_extra=openapi.documented(openapi.SEARCH_OPTIONS, openapi.FILTER_LIST),
    )
    @guarded("search")
    async def filter_list(request: Request) -> Response:
        services = services_of(request)
        names = _filter_list_names(await _json(request), services.settings.max_filter_list)
        options = _options(request, dict(request.query_params))
        versions = services.products.versions_by_names(names)
        count = len(versions) if options.count else None
        loader = _loader(services, options)
        return _collection(services, options, versions, loader, count, None, service_root(request))

    @router.get("/Products({key})/$value", openapi_extra=openapi.documented([openapi.RANGE]))
    @guarded("download")
    def download(request: Request, key: str, user: User) -> Response:
        services = services_of(request)
        product = services.products.get(parse_key(key))
        return download_response(services, user, product, request.headers.get("range"))

    return router


def _options(request: Request, params: dict[str, str]) -> QueryOptions:
    api = services_of(request).settings
    return parse_query_options(
        params, default_top=api.default_top, max_top=api.max_top, max_skip=api.max_skip
    )


def _loader(
    services: ApiServices, options: QueryOptions
) -> Callable[[list[UUID]], Iterable[Product]]:
    """Reads products in full, with attributes and assets if they are to be expanded."""
    return partial(
        services.products.by_ids,
        with_attributes="Attributes" in options.expand,
        with_assets="Assets" in options.expand,
    )


def _collection(
    services: ApiServices,
    options: QueryOptions,
    versions: list[ProductVersion],
    load: Callable[[list[UUID]], Iterable[Product]],
    count: int | None,
    next_link: str | None = None,
    root: str = "",
) -> Response:
    """Products in the form the options ask for, taken encoded from the replica's entity
    cache where it holds their version and read with ``load`` where it does not. Assets'
    links start with the URL the client used (``root``), so that is part of the form."""
    expand = sorted(options.expand)
    root = root if "Assets" in options.expand else ""
    form = (options.select, tuple(expand), root)

    def encode(product: Product) -> bytes:
        body = product_json(
            product, select=options.select, expand=options.expand, service_root=root
        )
        return orjson.dumps(body)

    entities = services.entities.encoded(versions, form, load, encode)
    context = collection_context("Products", expand=expand, select=options.select)
    body = collection_body(context, count, entities, next_link)
    return Response(body, media_type="application/json")


def filter_list_limit(settings: ApiSettings) -> int:
    """The largest FilterList body (serve/bodies.py): a KiB per name allowed is far more than
    a product name and its JSON take, 1 MiB for the default 1000 names."""
    return settings.max_filter_list * 1024


async def _json(request: Request) -> Any:
    body = await request.body()  # no longer than filter_list_limit: BodyLimit saw to it
    try:
        return json.loads(body)
    except RecursionError:  # [[[[... deeper than the interpreter's stack
        raise InvalidQuery("the request body is not JSON: nested too deeply") from None
    except ValueError as e:
        raise InvalidQuery(f"the request body is not JSON: {e}") from None


def _filter_list_names(body: Any, limit: int) -> list[str]:
    items = body.get("FilterProducts") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidQuery('FilterList takes {"FilterProducts": [{"Name": "..."}, ...]}')
    if len(items) > limit:
        raise InvalidQuery(f"FilterList takes at most {limit} names, not {len(items)}")
    names = [item.get("Name") if isinstance(item, dict) else None for item in items]
    if not all(isinstance(name, str) and "\x00" not in name for name in names):
        raise InvalidQuery("every FilterProducts item needs a Name string (without NUL)")
    return list(dict.fromkeys(names))  # type: ignore[arg-type]


def service_root(request: Request) -> str:
    """``https://<host>/odata/v1/`` as the client reached it (the URL before /Products)."""
    return str(request.url.replace(query="")).rsplit("/Products", 1)[0] + "/"


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


def _next_link(request: Request, params: dict[str, str], skip: int) -> str:
    following = {**params, "$skip": str(skip)}
    # "$" and the OData punctuation stay readable, as the ICD's and CDSE's links show them.
    return str(request.url.replace(query=urlencode(following, safe="$/,()':", quote_via=quote)))
