"""HTTP single byte ranges (RFC 9110 §14) for product downloads."""

from __future__ import annotations

import re

from prip_ray.errors import RangeNotSatisfiable

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The inclusive ``(start, end)`` to send, or None for the whole product.

    Multiple ranges and syntactically odd headers are ignored (answering 200 with everything
    is allowed); a well-formed range outside the product raises RangeNotSatisfiable (416).
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable(f"range {header!r} is empty", length=length)
        return max(length - suffix, 0), length - 1
    start = int(first)
    end = min(int(last), length - 1) if last else length - 1
    if start >= length or (last and int(last) < start):
        raise RangeNotSatisfiable(f"range {header!r} is outside 0-{length - 1}", length=length)
    return start, end
