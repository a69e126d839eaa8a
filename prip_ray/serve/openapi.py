"""What the OpenAPI document says of the parameters and bodies routes read themselves.

The OData options are parsed by :mod:`prip_ray.odata.options` (one parser, OData's error
body), not by FastAPI, so the routes declare them here, as ``openapi_extra``: the document
then describes the real API, to readers and to the property-based test that calls every
route with what the document allows and with what it does not (tests/integration/
test_api_surface.py).
"""

from __future__ import annotations

import re
from typing import Any

from prip_ray.odata.fields import EXPANDABLE, ORDERABLE, SELECTABLE


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


# Formats of our own: what a string holds, for readers and for generated tests.
FILTER = {"type": "string", "format": "odata-filter", "maxLength": 8000}


def _list_of(items: str) -> dict[str, Any]:
    """A comma-separated list of ``items`` (a regular expression)."""
    return {"type": "string", "pattern": f"^{items}(,{items})*$"}


def _one_of(names: tuple[str, ...]) -> str:
    return "(" + "|".join(re.escape(name) for name in names) + ")"


_EXPAND = _query("$expand", _list_of(_one_of(EXPANDABLE)), "navigation properties to include")
_SELECT = _query("$select", _list_of(_one_of(SELECTABLE)), "Product properties to include")
_FORMAT = _query("$format", {"type": "string", "enum": ["json", "application/json"]}, "json")

SEARCH_OPTIONS: list[dict[str, Any]] = [
    _query("$filter", FILTER, "OData $filter over Products"),
    _query("$orderby", _list_of(_one_of(ORDERABLE) + "( asc| desc)?"), "sort keys, asc or desc"),
    _query("$top", {"type": "integer", "minimum": 0, "maximum": 1000}, "page size (api.max_top)"),
    _query("$skip", {"type": "integer", "minimum": 0, "maximum": 10000}, "skipped (api.max_skip)"),
    _query("$count", {"type": "boolean"}, "also answer the number of matches"),
    _EXPAND,
    _SELECT,
    _FORMAT,
]
ENTITY_OPTIONS = [_EXPAND, _SELECT, _FORMAT]
METADATA_OPTIONS = [
    _query("$format", {"type": "string", "enum": ["xml", "json"]}, "CSDL as XML or JSON")
]
RANGE = {
    "name": "Range",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "format": "byte-range"},
    "description": "one byte range, bytes=first-last, bytes=first- or bytes=-suffix",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_NAMED = {"type": "object", "required": ["Name"], "properties": {"Name": {"type": "string"}}}
FILTER_LIST = _json(
    {
        "type": "object",
        "required": ["FilterProducts"],
        "properties": {"FilterProducts": {"type": "array", "items": _NAMED}},
    }
)
SUBSCRIPTION = _json(
    {
        "type": "object",
        "required": ["FilterParam"],
        "properties": {
            "FilterParam": FILTER,
            "SubscriptionEvent": {"type": "string", "enum": ["created", "deleted"]},
            "NotificationEndpoint": {
                "type": "string",
                "format": "uri",
                "description": "absent: a pull subscription, read with Read and Ack",
            },
            "NotificationEpUsername": {"type": "string"},
            "NotificationEpPassword": {"type": "string"},
        },
    }
)
# A pull subscription's queue (serve/pull.py).
PULL_READ = [_query("$top", {"type": "integer", "minimum": 1, "maximum": 20}, "default 1")]
PULL_ACK = [_query("$ackid", {"type": "string"}, "AckId of the last notification read")]
STATUS = _json(
    {
        "type": "object",
        "required": ["Status"],
        "properties": {"Status": {"type": "string", "enum": ["running", "paused", "cancelled"]}},
    }
)
TOKEN_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["password", "client_credentials"]},
                    **{
                        field: {"type": "string"}
                        for field in ("username", "password", "client_id", "client_secret")
                    },
                },
            }
        }
    },
}


def documented(
    parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``openapi_extra`` of a route: its parameters (added to FastAPI's) and request body."""
    extra: dict[str, Any] = {"parameters": parameters or []}
    if body is not None:
        extra["requestBody"] = body
    return extra


# STAC item search (serve/stac.py): GET parameters and the POST body of the same names.
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
STAC_ITEMS = [
    _query("bbox", {"type": "string", "pattern": f"^{_NUMBER}(,{_NUMBER}){{3}}$"}, "W,S,E,N"),
    _query("datetime", {"type": "string"}, "an RFC 3339 instant or start/end, .. open"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "page size"),
    _query("token", {"type": "string"}, "the next page's token, from a next link"),
]
STAC_SEARCH = [
    *STAC_ITEMS,
    _query("intersects", {"type": "string"}, "a GeoJSON geometry"),
    _query("collections", _list_of("[a-z0-9-]+"), "collection ids"),
    _query("ids", {"type": "string"}, "item ids (product names), comma-separated"),
]
_STRINGS = {"type": "array", "items": {"type": "string"}}
STAC_SEARCH_BODY = _json(
    {
        "type": "object",
        "properties": {
            "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4},
            "intersects": {"type": "object"},
            "datetime": {"type": "string"},
            "collections": _STRINGS,
            "ids": _STRINGS,
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "token": {"type": "string"},
        },
    }
)
