"""``Products(<Id>)/$value``: the product's bytes, streamed from the object store.

Chunks go from the store to the socket one at a time (memory stays flat whatever the size),
a single Range gives 206, and the stored MD5 travels as ETag and Digest so clients can check
what they got. With ``api.download_redirect`` an S3-backed PRIP answers 307 to a short-lived
presigned URL instead, as COPRS does, and the replica moves no bytes at all.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse, Response, StreamingResponse

from prip_ray.config import ApiSettings
from prip_ray.domain.products import Product
from prip_ray.errors import ProductNotFound
from prip_ray.serve.ranges import parse_range


def download_response(
    store: Any, product: Product, range_header: str | None, settings: ApiSettings
) -> Response:
    if not product.online:
        raise ProductNotFound(
            f"{product.name} was evicted: its catalogue entry remains, its bytes do not"
        )
    presign = getattr(store, "presigned_url", None)
    if settings.download_redirect and presign is not None:
        url = presign(product.object_key, settings.redirect_ttl_s, product.name)
        return RedirectResponse(url, status_code=307)
    return _stream(store, product, range_header)


def _stream(store: Any, product: Product, range_header: str | None) -> Response:
    length = product.content_length
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": _disposition(product.name)}
    md5 = product.checksum("MD5")
    if md5:
        headers["ETag"] = f'"{md5}"'
        headers["Digest"] = "md5=" + base64.b64encode(bytes.fromhex(md5)).decode()
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


def _disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _primed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Read the first chunk now, so a store failure is an error status, not a cut stream."""
    first = next(chunks, b"")
    return itertools.chain([first], chunks)
