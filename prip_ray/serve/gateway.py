"""The download gateway: product bytes served straight from the object store to the client.

Ray Serve relays a streamed response from the replica to its proxy without backpressure, so
a replica reads a whole product ahead of a slow client (measured: +900 MB of replica RSS for
a 5 GB download) and records it as sent before it is. The gateway is a plain ASGI server in
a Ray actor: the socket's own flow control paces the store reads, memory stays flat, and the
history counts what the client really received. ``$value`` on the OData API checks who asks
and redirects (307) to ``<gateway>/download/<ticket>``; the ticket is a signed 60-second JWT
naming the user and the product, so the gateway needs no other credentials.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.responses import Response

from prip_ray.errors import AuthenticationFailed, InvalidQuery
from prip_ray.serve.downloads import download_response, node_download_response
from prip_ray.serve.errors import install_error_handlers
from prip_ray.serve.measure import install_request_metrics
from prip_ray.serve.services import ApiServices
from prip_ray.services.auth import authorise


def create_gateway_app(services: ApiServices) -> FastAPI:
    app = FastAPI(
        title="prip-ray download gateway", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.services = services
    install_error_handlers(app)
    install_request_metrics(app, services.metrics)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/download/{ticket}")
    def download(request: Request, ticket: str) -> Response:
        if services.tokens is None:
            raise AuthenticationFailed("this gateway accepts no tickets")
        granted = services.tokens.ticket(ticket)
        user = services.users_get(granted.user)
        if user is None or user.disabled:
            raise AuthenticationFailed("the ticket's user may no longer download")
        authorise(user, "download")
        product = services.products.get(_uuid(granted.product_id))
        selected = request.headers.get("range")
        if granted.node is not None:
            path = tuple(granted.node.split("/"))
            source = None
            if granted.source is not None:
                source = services.products.get(_uuid(granted.source))
            return node_download_response(
                services, user, product, path, selected, direct=True, source=source
            )
        return download_response(services, user, product, selected, direct=True)

    return app


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidQuery("malformed download ticket") from None
