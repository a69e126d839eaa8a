"""Routes of a product's Nodes, in CDSE's shape.

``Products(<Id>)/Nodes`` lists the product's root (the PDI folder of a tar),
``Nodes(<name>)/Nodes(<name>)/Nodes`` walks its folders, ``Nodes(<name>)...`` alone is one
node, and ``Nodes(<name>)/$value`` downloads one file (serve/downloads.py). Listings answer
``{"result": [{"Id", "Name", "ContentLength", "ChildrenNumber", "Nodes": {"uri"}}]}`` as
CDSE does; names may be given bare, as CDSE writes them, or quoted (``Nodes('name')``).

``Assets(<Id>)/$value`` downloads an asset (a product's quicklook, domain/assets.py): a file
of the product, sent as its Node is; or of the true-colour product it borrows its quicklook
from, sent under the browsed product's rules.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from prip_ray.domain.nodes import Node, NodePath, NodeTree
from prip_ray.domain.users import User
from prip_ray.errors import InvalidQuery, ProductNotFound
from prip_ray.serve import openapi
from prip_ray.serve.downloads import node_download_response
from prip_ray.serve.products import parse_key
from prip_ray.serve.responses import FastJSONResponse
from prip_ray.serve.security import guarded
from prip_ray.serve.services import ApiServices, services_of

_NAMED = re.compile(r"\(([^()/]+)\)")
NODES = "/Nodes"


def nodes_router() -> APIRouter:
    router = APIRouter()

    @router.get(
        "/Products({key})/Nodes{rest:path}/$value",
        openapi_extra=openapi.documented([openapi.RANGE]),
    )
    @guarded("download")
    def download(request: Request, key: str, rest: str, user: User) -> Response:
        path, listed = parse_node_path(rest)
        if listed or not path:
            raise InvalidQuery("$value follows one node: Nodes(<name>)/$value")
        services = services_of(request)
        product = services.products.get(parse_key(key))
        return node_download_response(services, user, product, path, request.headers.get("range"))

    @router.get("/Assets({key})/$value", openapi_extra=openapi.documented([openapi.RANGE]))
    @guarded("download")
    def asset(request: Request, key: str, user: User) -> Response:
        services = services_of(request)
        product_id, found = services.products.asset(parse_key(key))
        product = services.products.get(product_id)
        source = None if found.source is None else services.products.get(found.source)
        path = tuple(found.path.split("/"))
        return node_download_response(
            services, user, product, path, request.headers.get("range"), source=source
        )

    @router.get("/Products({key})/Nodes{rest:path}")
    @guarded("search")
    def nodes(request: Request, key: str, rest: str) -> FastJSONResponse:
        path, listed = parse_node_path(rest)
        tree = _tree(services_of(request), parse_key(key))
        here = str(request.url.replace(query=""))
        if not listed:  # one node: its own JSON, its Nodes under its own URL
            return FastJSONResponse(node_json(tree.node(path), here + NODES))
        children = tree.children(path)
        return FastJSONResponse(
            {"result": [node_json(n, f"{here}({quote(n.name)}){NODES}") for n in children]}
        )

    return router


def _tree(services: ApiServices, product_id: Any) -> NodeTree:
    product = services.products.get(product_id)
    listing = services.products.listing(product.id)
    if listing is None:
        raise ProductNotFound(f"{product.name} was published without a list of its files")
    return NodeTree(listing.members)


def node_json(node: Node, nodes_uri: str) -> dict[str, Any]:
    """``nodes_uri``: where its children are listed."""
    return {
        "Id": node.name,
        "Name": node.name,
        "ContentLength": node.content_length,
        "ChildrenNumber": node.children_number,
        "Nodes": {"uri": nodes_uri},
    }


def parse_node_path(rest: str) -> tuple[NodePath, bool]:
    """What follows ``Products(<Id>)/Nodes``: the node path it names, and whether it asks for
    that node's children (it ends with ``/Nodes``) rather than the node itself."""
    names: list[str] = []
    position = 0
    while position < len(rest):
        named = _NAMED.match(rest, position)
        if named is None:
            raise InvalidQuery(
                f"Nodes{rest} is not Nodes(<name>)/Nodes(<name>)...", token=rest, position=0
            )
        names.append(_unquoted(named.group(1)))
        position = named.end()
        if rest.startswith(NODES, position):
            position += len(NODES)
            if position == len(rest):
                return tuple(names), True
        elif position != len(rest):
            raise InvalidQuery(f"Nodes{rest}: expected /Nodes after ({names[-1]})")
    return tuple(names), not names


def _unquoted(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == "'":
        return name[1:-1].replace("''", "'")
    return name
