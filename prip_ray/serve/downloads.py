"""``Products(<Id>)/$value``: the product's bytes, streamed from the object store.

Chunks go from the store to the socket one at a time (memory stays flat whatever the size),
a single Range gives 206, and the stored MD5 travels as ETag and Digest so clients can check
what they got. With ``api.download_redirect`` an S3-backed PRIP answers 307 to a short-lived
presigned URL instead, as COPRS does, and the replica moves no bytes at all. Every download
runs inside the user's quotas: it takes a parallel slot and is recorded in the history (a
presigned URL holds its slot until it expires: the client may use it until then).

On Serve, ``$value`` sends the client to a download gateway (serve/gateway.py) with a ticket:
``api.gateway_url`` if set (a load balancer in front of every node's gateway), else a live
gateway found through Ray, the replica's own node's first.

``Products(<Id>)/Nodes(...)/$value`` (one file of the product, serve/nodes.py) takes the same
path: the same checks, quotas, history (the product's, counting the file's size) and
gateway, with a ticket naming the file; only the presigned redirect is left out (it would
hand over the whole object). A quicklook a tile borrows from a true-colour product
(``Assets(<Id>)/$value``) is a file of that product sent as the tile's: the tile's checks,
quotas and history, the other's bytes (both must be online).
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote
from uuid import UUID

import anyio
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from prip_ray.domain.nodes import NodePath, NodeTree
from prip_ray.domain.pacing import TokenBucket, paced
from prip_ray.domain.products import Product
from prip_ray.domain.users import User
from prip_ray.errors import ProductNotFound
from prip_ray.serve.ranges import parse_range
from prip_ray.serve.services import ApiServices
from prip_ray.services.nodes import member_bytes

Chunks = Iterator[bytes]


@dataclass(frozen=True)
class Payload:
    """What a download sends: a whole product or one of its files."""

    name: str
    length: int
    content_type: str
    md5: str | None
    read: Callable[[int, int | None], Chunks]  # bytes start..end (inclusive; None: to the end)


def _product_payload(services: ApiServices, product: Product) -> Payload:
    read = partial(services.store.read, product.object_key)
    return Payload(
        product.name, product.content_length, product.content_type, product.checksum("MD5"), read
    )


def download_response(
    services: ApiServices,
    user: User,
    product: Product,
    range_header: str | None,
    *,
    direct: bool = False,
) -> Response:
    """``direct``: stream here, never redirect to a download gateway (the gateway itself)."""
    _require_online(product)
    settings, store, quotas = services.settings, services.store, services.quotas
    presign = getattr(store, "presigned_url", None)
    if settings.download_redirect and presign is not None:
        url = presign(product.object_key, settings.redirect_ttl_s, product.name)
        if quotas is not None:  # counts the whole product; holds a slot while the URL lives
            quotas.start(user, product, redirected=True, hold_s=settings.redirect_ttl_s)
        return RedirectResponse(url, status_code=307)
    selected = parse_range(range_header, product.content_length)  # a 416 takes no slot
    gateway = None if direct or services.tokens is None else _gateway(services)
    if gateway is not None and services.tokens is not None:
        ticket = services.tokens.issue_ticket(user, str(product.id))
        return RedirectResponse(f"{gateway.rstrip('/')}/download/{ticket}", 307)
    download_id = quotas.start(user, product) if quotas is not None else None
    return _stream(services, _product_payload(services, product), selected, download_id)


def node_download_response(
    services: ApiServices,
    user: User,
    product: Product,
    path: NodePath,
    range_header: str | None,
    *,
    direct: bool = False,
    source: Product | None = None,
) -> Response:
    """One file of the product (``Nodes(...)/$value``), as :func:`download_response` sends
    the whole: its quotas count the file's size, its history is the product's. ``source``:
    the product whose package holds the file, if not this one (a borrowed quicklook)."""
    holder = source or product
    _require_online(product)
    _require_online(holder)
    listing = services.products.listing(holder.id)
    if listing is None:
        raise ProductNotFound(f"{holder.name} was published without a list of its files")
    member = NodeTree(listing.members).file(path)
    selected = parse_range(range_header, member.size)  # a 416 takes no slot
    gateway = None if direct or services.tokens is None else _gateway(services)
    if gateway is not None and services.tokens is not None:
        lender = None if source is None else str(source.id)
        ticket = services.tokens.issue_ticket(
            user, str(product.id), node="/".join(path), source=lender
        )
        return RedirectResponse(f"{gateway.rstrip('/')}/download/{ticket}", 307)
    quotas = services.quotas
    sized = replace(product, content_length=member.size)
    download_id = quotas.start(user, sized) if quotas is not None else None

    def read(start: int, end: int | None) -> Chunks:
        last = member.size - 1 if end is None else end
        return member_bytes(services.store, holder.object_key, listing.format, member, start, last)

    content_type = mimetypes.guess_type(path[-1])[0] or "application/octet-stream"
    payload = Payload(path[-1], member.size, content_type, None, read)
    return _stream(services, payload, selected, download_id)


def _require_online(product: Product) -> None:
    if not product.online:
        raise ProductNotFound(
            f"{product.name} was evicted: its catalogue entry remains, its bytes do not"
        )


def _gateway(services: ApiServices) -> str | None:
    """Where to send the client for the bytes; None: nowhere, stream them from here."""
    if services.settings.gateway_url:
        return services.settings.gateway_url
    return services.gateways.pick() if services.gateways is not None else None


def _counted(chunks: Chunks, count: Callable[[int], None]) -> Chunks:
    for chunk in chunks:
        count(len(chunk))
        yield chunk


def _stream(
    services: ApiServices,
    payload: Payload,
    selected: tuple[int, int] | None,
    download_id: UUID | None,
) -> Response:
    length = payload.length
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _disposition(payload.name)}
    md5 = payload.md5
    if md5:
        headers["ETag"] = f'"{md5}"'
        headers["Digest"] = "md5=" + base64.b64encode(bytes.fromhex(md5)).decode()
    start, end = selected if selected is not None else (0, None)
    # Each stage wraps the one before; all are closed, outermost first, when the response
    # ends. The meter wraps the store's chunks from the start, so a store failure on the
    # first read still ends the download record (aborted) and frees the slot.
    stages = [payload.read(start, end)]
    if download_id is not None and services.quotas is not None:
        stages.append(services.quotas.metered(download_id, stages[-1]))
    stages.append(_counted(stages[-1], services.metrics.downloaded))
    cap = services.settings.download_rate_limit_mb_s
    if cap:
        stages.append(paced(stages[-1], TokenBucket(cap * 1e6)))
    try:
        body = _primed(stages[-1])
    except BaseException:
        _close(stages)
        raise
    stages.append(body)
    status = 200 if selected is None else 206
    if selected is None:
        headers["Content-Length"] = str(length)
    else:
        headers["Content-Length"] = str(selected[1] - selected[0] + 1)
        headers["Content-Range"] = f"bytes {selected[0]}-{selected[1]}/{length}"
    return ClosingStream(body, stages, status, headers, media_type=payload.content_type)


class ClosingStream(StreamingResponse):
    """A streamed body whose generators are closed the moment the response ends, however it
    ends. Starlette stops reading a body whose client went away but leaves the generators to
    the garbage collector, and the download's slot stays taken until it collects them:
    measured 3 to over 10 s on a quiet gateway (the slot is freed in ``metered``'s finally)."""

    def __init__(self, body: Chunks, stages: list[Chunks], *args: Any, **kwargs: Any):
        super().__init__(body, *args, **kwargs)
        self._stages = stages

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: this runs as the request is being cancelled. In a thread: closing
            # writes the end of the download to the DB.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_close, self._stages)


def _close(stages: list[Chunks]) -> None:
    for stage in reversed(stages):  # outermost first; a finished generator ignores close
        close = getattr(stage, "close", None)
        if close is not None:
            close()


def _disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _primed(chunks: Chunks) -> Chunks:
    """Read the first chunk now, so a store failure is an error status, not a cut stream."""
    first = next(chunks, b"")

    def rest() -> Chunks:
        yield first
        yield from chunks

    return rest()
