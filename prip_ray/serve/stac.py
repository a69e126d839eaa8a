"""Routes of the STAC API (``/stac``): landing page, conformance, collections, items and
item search. Same users, roles and quotas as OData (``search``; the item assets download
through OData's ``$value``). The work is in ``prip_ray/stac/``: parameters become the
search options of the OData Product search, products become Items."""

from __future__ import annotations

from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from prip_ray.domain.products import Product
from prip_ray.errors import InvalidQuery, ProductNotFound
from prip_ray.serve import openapi
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of
from prip_ray.stac.collections import StacCollection, collection_of, stac_collections
from prip_ray.stac.items import (
    CONFORMANCE,
    GEOJSON,
    collection_json,
    collections_json,
    item_collection,
    item_json,
    landing_page,
    post_links,
    search_links,
)
from prip_ray.stac.search import (
    ItemSearch,
    Limits,
    query_options,
    search_from_body,
    search_from_query,
)

STAC_ROOT = "/stac"


def stac_router() -> APIRouter:
    router = APIRouter(prefix=STAC_ROOT)

    @router.get("")
    @router.get("/")
    @guarded("search")
    def landing(request: Request) -> FastJSONResponse:
        return FastJSONResponse(landing_page(_base(request), _collections(request).values()))

    @router.get("/conformance")
    @guarded("search")
    def conformance(request: Request) -> FastJSONResponse:
        return FastJSONResponse({"conformsTo": list(CONFORMANCE)})

    @router.get("/collections")
    @guarded("search")
    def collections(request: Request) -> FastJSONResponse:
        return FastJSONResponse(collections_json(_base(request), _collections(request).values()))

    @router.get("/collections/{collection_id}")
    @guarded("search")
    def collection(request: Request, collection_id: str) -> FastJSONResponse:
        found = _collection(request, collection_id)
        return FastJSONResponse(collection_json(_base(request), found))

    @router.get(
        "/collections/{collection_id}/items",
        openapi_extra=openapi.documented(openapi.STAC_ITEMS),
    )
    @guarded("search")
    def items(request: Request, collection_id: str) -> Response:
        _collection(request, collection_id)
        params = dict(request.query_params)
        search = search_from_query(params, _limits(request), collection=collection_id)
        return _get_page(request, search, drop=("collections",))

    @router.get("/collections/{collection_id}/items/{item_id}")
    @guarded("search")
    def item(request: Request, collection_id: str, item_id: str) -> Response:
        found = _collection(request, collection_id)
        product = services_of(request).products.by_name(item_id, with_assets=True)
        if product is None or not found.holds(product.name, product.product_type):
            raise ProductNotFound(f"no item {item_id} in {collection_id}")
        body = orjson.dumps(item_json(_base(request), product, found))
        return Response(body, media_type=GEOJSON)

    @router.get("/search", openapi_extra=openapi.documented(openapi.STAC_SEARCH))
    @guarded("search")
    def search_get(request: Request) -> Response:
        search = search_from_query(dict(request.query_params), _limits(request))
        return _get_page(request, search)

    @router.post("/search", openapi_extra=openapi.documented(body=openapi.STAC_SEARCH_BODY))
    @guarded("search")
    async def search_post(request: Request) -> Response:
        search = search_from_body(await _body(request), _limits(request))
        services = services_of(request)
        response: Response = await services.blocking.run(partial(_post_page, request, search))
        return response

    return router


def _get_page(request: Request, search: ItemSearch, drop: tuple[str, ...] = ()) -> Response:
    features, more = _features(request, search)
    following = search.following().as_query() if more else None
    if following is not None:
        following = {k: v for k, v in following.items() if k not in drop}
    page_url = str(request.url.replace(query="")).rstrip("?")
    links = search_links(_base(request), page_url, following)
    return _feature_collection(features, links)


def _post_page(request: Request, search: ItemSearch) -> Response:
    features, more = _features(request, search)
    links = post_links(_base(request), search.following().as_body() if more else None)
    return _feature_collection(features, links)


def _features(request: Request, search: ItemSearch) -> tuple[list[bytes], bool]:
    """The page's Items, encoded, and whether more follow. They come from the replica's
    entity cache where it holds the product's version (as OData's do)."""
    services = services_of(request)
    collections = _collections(request)
    spans = services.products.longest_spans() if search.datetime is not None else None
    page = services.products.search_page(query_options(search, collections, spans))
    base = _base(request)
    load = partial(services.products.by_ids, with_attributes=True, with_assets=True)
    features = services.entities.encoded(
        page.versions, ("stac", base), load, partial(_encode, base, collections)
    )
    return features, page.more


def _encode(base: str, collections: dict[str, StacCollection], product: Product) -> bytes:
    found = collection_of(collections, product.name, product.product_type)
    return orjson.dumps(item_json(base, product, found))


def _feature_collection(features: list[bytes], links: list[Any]) -> Response:
    head, tail = item_collection(features, links)
    return Response(head + b",".join(features) + tail, media_type=GEOJSON)


def _collections(request: Request) -> dict[str, StacCollection]:
    return stac_collections(services_of(request).product_types)


def _collection(request: Request, collection_id: str) -> StacCollection:
    found = _collections(request).get(collection_id)
    if found is None:
        raise ProductNotFound(f"no collection {collection_id}")
    return found


def _limits(request: Request) -> Limits:
    api = services_of(request).settings
    return Limits(max_limit=api.max_top, max_offset=api.max_skip)


async def _body(request: Request) -> Any:
    body = await request.body()  # bounded by BodyLimit's default
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:  # orjson refuses nesting past 1024 levels itself
        raise InvalidQuery(f"the request body is not JSON: {e}") from None


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")
