"""Routes of the DeletedProducts entity set (as CDSE's OData API has it): search and one
entity. Same query options as Products; DeletionDate and DeletionCause are queryable too."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request

from prip_ray.errors import InvalidQuery
from prip_ray.odata.options import QueryOptions, parse_query_options
from prip_ray.odata.serialize import collection_context, deleted_product_json, entity_context
from prip_ray.serve.products import ENTITY_OPTIONS, parse_key
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of

ENTITY_SET = "DeletedProducts"


def deleted_router() -> APIRouter:
    router = APIRouter()

    @router.get(f"/{ENTITY_SET}")
    @guarded("search")
    def search(request: Request) -> FastJSONResponse:
        params = dict(request.query_params)
        options = _options(request, params)
        page = services_of(request).deleted.search(options)
        expand = sorted(options.expand)
        body: dict[str, object] = {
            "@odata.context": collection_context(ENTITY_SET, expand=expand, select=options.select)
        }
        if page.count is not None:
            body["@odata.count"] = page.count
        body["value"] = [
            deleted_product_json(e, select=options.select, expand=options.expand)
            for e in page.entries
        ]
        if page.more:
            body["@odata.nextLink"] = _next_link(request, params, options.skip + options.top)
        return FastJSONResponse(body)

    @router.get(f"/{ENTITY_SET}({{key}})")
    @guarded("search")
    def entity(request: Request, key: str) -> FastJSONResponse:
        params = dict(request.query_params)
        for name in params:
            if name.startswith("$") and name not in ENTITY_OPTIONS:
                raise InvalidQuery(f"{name} does not apply to a single product", token=name)
        options = _options(request, params)
        entry = services_of(request).deleted.get(parse_key(key))
        expand = sorted(options.expand)
        context = entity_context(ENTITY_SET, expand=expand, select=options.select)
        body = {"@odata.context": context}
        body.update(deleted_product_json(entry, select=options.select, expand=options.expand))
        return FastJSONResponse(body)

    return router


def _options(request: Request, params: dict[str, str]) -> QueryOptions:
    api = services_of(request).settings
    return parse_query_options(
        params,
        default_top=api.default_top,
        max_top=api.max_top,
        max_skip=api.max_skip,
        entity_set=ENTITY_SET,
    )


def _next_link(request: Request, params: dict[str, str], skip: int) -> str:
    following = {**params, "$skip": str(skip)}
    return str(request.url.replace(query=urlencode(following, safe="$/,()':", quote_via=quote)))
