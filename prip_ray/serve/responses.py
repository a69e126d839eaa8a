"""JSON bodies encoded with orjson: a page of products encodes several times faster than
with the standard library's encoder, which was the largest single cost of a search."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """Compact UTF-8 JSON, as ``JSONResponse`` writes it."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
