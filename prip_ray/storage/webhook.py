"""POST a notification to a subscriber's endpoint (stdlib HTTP, optional Basic credentials).

Any status other than 2xx, and any network failure, is a DeliveryFailed the notifier retries.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

from prip_ray.errors import PripError


class DeliveryFailed(PripError):
    code = "DeliveryFailed"


def post_json(
    url: str, body: dict[str, Any], *, username: str | None, password: str | None, timeout: float
) -> None:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    if username is not None:
        token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # configured URL
            response.read(1024)
    except urllib.error.HTTPError as e:
        raise DeliveryFailed(f"{url} answered {e.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise DeliveryFailed(f"{url} unreachable: {e}") from None
