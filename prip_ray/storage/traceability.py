"""Client of the Traceability Service (CDSE trace API v1.1): PUT a trace, look traces up.

A 4xx answer is the service refusing this trace for good (TraceRefused, with its reason);
5xx and network failures are the service being away (DeliveryFailed, retried with backoff).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from prip_ray.errors import TraceRefused as TraceRefused
from prip_ray.storage.webhook import DeliveryFailed


class TraceabilityClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 30.0):
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def put(self, trace: dict[str, Any]) -> None:
        self._call("PUT", "/v1/traces", json.dumps(trace).encode())

    def by_name(self, name: str) -> list[dict[str, Any]]:
        """Every trace the service holds for the product ``name`` (an empty list if none)."""
        try:
            found = self._call("GET", f"/v1/traces/name/{urllib.parse.quote(name, safe='')}")
        except TraceRefused as e:
            if "404" in str(e):
                return []
            raise
        if isinstance(found, dict):
            found = found.get("value", found.get("traces", [found]))
        return [t for t in found if isinstance(t, dict)]

    def _call(self, method: str, path: str, data: bytes | None = None) -> Any:
        request = urllib.request.Request(self._base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            reason = e.read(2000).decode(errors="replace").strip()
            if 400 <= e.code < 500 and e.code not in (408, 429):
                raise TraceRefused(f"{method} {path} answered {e.code}: {reason}") from None
            raise DeliveryFailed(f"{method} {path} answered {e.code}: {reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise DeliveryFailed(f"traceability service unreachable: {e}") from None
        return json.loads(body) if body.strip() else None
