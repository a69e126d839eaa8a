"""The availability probe: what a user does, done by the PRIP itself every interval.

A GET of ``/health`` touches neither the database nor the store, so an outage of either
still counted as available. The probe instead (1) searches the catalogue through the real
ingress, authenticated as a user (a Bearer token of the probe's own ``catalogue`` user),
and (2) reads the first bytes of the product it found, from the object store. Either
failing, or the ingress not answering, is a failed probe. A PRIP with no product yet can
only be searched; the probe says so in its detail.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from prip_ray.errors import Unavailable
from prip_ray.ports import ObjectStore

SEARCH = "/odata/v1/Products?$top=1&$orderby=PublicationDate%20desc"
FIRST_BYTES = 1024


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    seconds: float
    detail: str | None  # why it failed (or what it could not try)


class UserJourneyProbe:
    """``token`` gives a valid Bearer token for each probe; ``locate`` the object key of a
    product Id (None when it is gone)."""

    def __init__(
        self,
        api_url: str,
        token: Callable[[], str],
        locate: Callable[[UUID], str | None],
        store: ObjectStore,
        timeout_s: float,
    ):
        self._url = api_url.rstrip("/") + SEARCH
        self._token = token
        self._locate = locate
        self._store = store
        self._timeout = timeout_s

    def probe(self) -> ProbeResult:
        started = time.monotonic()
        try:
            detail = self._journey()
        except Exception as e:  # any failure is the PRIP being unavailable to its users
            return ProbeResult(False, time.monotonic() - started, _describe(e))
        return ProbeResult(True, time.monotonic() - started, detail)

    def _journey(self) -> str | None:
        found = self._search()
        if not found:
            return "no product to read"
        key = self._locate(UUID(found))
        if key is None:
            return "the product found was evicted meanwhile"
        chunk = next(iter(self._store.read(key, 0, FIRST_BYTES - 1)), b"")
        if not chunk:
            raise Unavailable(f"the store gave no bytes of {key}")
        return None

    def _search(self) -> str | None:
        request = urllib.request.Request(
            self._url, headers={"Authorization": f"Bearer {self._token()}"}
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:
            body = json.loads(response.read(1 << 20))
        products = body.get("value")
        if not isinstance(products, list):
            raise Unavailable("the search answered without a product list")
        return str(products[0]["Id"]) if products else None


def _describe(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        body = error.read(300).decode("utf-8", "replace")
        return f"search answered {error.code}: {body}"[:500]
    return f"{type(error).__name__}: {error}"[:500]
