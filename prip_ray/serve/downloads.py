"""``Products(<Id>)/$value``: the product's bytes, streamed from the object store.

Chunks go from the store to the socket one at a time (memory stays flat whatever the size),
a single Range gives 206, and the stored MD5 travels as ETag and Digest so clients can check
what they got. With ``api.download_redirect`` an S3-backed PRIP answers 307 to a short-lived
presigned URL instead, as COPRS does, and the replica moves no bytes at all. Every download
runs inside the user's quotas: it takes a parallel slot and is recorded in the history.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response, StreamingResponse

from prip_ray.domain.products import Product
from prip_ray.domain.users import User
from prip_ray.errors import ProductNotFound
from prip_ray.serve.ranges import parse_range
from prip_ray.serve.services import ApiServices

Chunks = Iterator[bytes]


def download_response(
    services: ApiServices,
    user: User,
    product: Product,
    range_header: str | None,
    *,
    direct: bool = False,
) -> Response:
    """``direct``: stream here even if a download gateway is configured (the gateway)."""
    if not product.online:
        raise ProductNotFound(
            f"{product.name} was evicted: its catalogue entry remains, its bytes do not"
        )
    settings, store, quotas = services.settings, services.store, services.quotas
    presign = getattr(store, "presigned_url", None)
    if settings.download_redirect and presign is not None:
        url = presign(product.object_key, settings.redirect_ttl_s, product.name)
        if quotas is not None:
            quotas.start(user, product, redirected=True)  # counts the whole product
        return RedirectResponse(url, status_code=307)
    selected = parse_range(range_header, product.content_length)  # a 416 takes no slot
    if settings.gateway_url and not direct and services.tokens is not None:
        ticket = services.tokens.issue_ticket(user, str(product.id))
        return RedirectResponse(f"{settings.gateway_url.rstrip('/')}/download/{ticket}", 307)
    count = services.metrics.downloaded
    if quotas is None:
        return _stream(store, product, selected, lambda chunks: _counted(chunks, count))
    download_id = quotas.start(user, product)
    return _stream(
        store,
        product,
        selected,
        lambda chunks: _counted(quotas.metered(download_id, chunks), count),
    )


def _counted(chunks: Chunks, count: Callable[[int], None]) -> Chunks:
    for chunk in chunks:
        count(len(chunk))
        yield chunk


def _stream(
    store: Any,
    product: Product,
    selected: tuple[int, int] | None,
    meter: Callable[[Chunks], Chunks],
) -> Response:
    length = product.content_length
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _disposition(product.name)}
    md5 = product.checksum("MD5")
    if md5:
        headers["ETag"] = f'"{md5}"'
        headers["Digest"] = "md5=" + base64.b64encode(bytes.fromhex(md5)).decode()
    start, end = selected if selected is not None else (0, None)
    # The meter wraps the store's chunks from the start, so a store failure on the first
    # read still ends the download record (aborted) and frees the slot.
    body = _primed(meter(store.read(product.object_key, start, end)))
    status = 200 if selected is None else 206
    if selected is None:
        headers["Content-Length"] = str(length)
    else:
        headers["Content-Length"] = str(selected[1] - selected[0] + 1)
        headers["Content-Range"] = f"bytes {selected[0]}-{selected[1]}/{length}"
    return StreamingResponse(body, status, headers, media_type=product.content_type)


def _disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _primed(chunks: Chunks) -> Chunks:
    """Read the first chunk now, so a store failure is an error status, not a cut stream."""
    first = next(chunks, b"")
    return itertools.chain([first], chunks)
