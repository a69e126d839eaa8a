"""``POST /odata/v1/Products(<Id>)/OData.CSC.Withdraw``: an admin takes a product back.

A bound OData action like FilterList; the body names the cause,
``{"DeletionCause": "corrupted granule"}``, and the answer is the product's DeletedProducts
entity. Withdrawing again answers the same entity (the action is idempotent).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from prip_ray.errors import InvalidQuery
from prip_ray.odata.serialize import deleted_product_json, entity_context
from prip_ray.serve.products import parse_key
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import services_of

MAX_CAUSE = 200  # DeletionCause holds 255 characters, "Withdrawn: " included


def withdraw_router() -> APIRouter:
    router = APIRouter()

    @router.post("/Products({key})/OData.CSC.Withdraw")
    @guarded("admin")
    def withdraw(
        request: Request,
        key: str,
        body: Annotated[dict[str, Any] | None, Body()] = None,
    ) -> FastJSONResponse:
        services = services_of(request)
        cause = withdrawal_text(body)
        report = services.withdrawer.withdraw(parse_key(key), cause)
        entry = services.deleted.get(report.product_id)
        answer = {"@odata.context": entity_context("DeletedProducts")}
        answer.update(deleted_product_json(entry))
        return FastJSONResponse(answer)

    return router


def withdrawal_text(body: dict[str, Any] | None) -> str:
    cause = (body or {}).get("DeletionCause")
    if not isinstance(cause, str) or not cause.strip():
        raise InvalidQuery('Withdraw takes {"DeletionCause": "<why>"}')
    if len(cause) > MAX_CAUSE:
        raise InvalidQuery(f"DeletionCause is at most {MAX_CAUSE} characters")
    return cause
