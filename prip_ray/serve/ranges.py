"""HTTP single byte ranges (RFC 9110 §14) for product downloads."""

from __future__ import annotations

import re

from prip_ray.errors import RangeNotSatisfiable

# ASCII digits only: \d would take any script's digits (int() reads '٣' as 3).
_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.ASCII)
BEYOND = 10**18  # past any product: what longer numbers mean (int() refuses 4,300 digits)


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
    shown = header if len(header) <= 60 else header[:57] + "..."
    if not first:  # suffix range: the last N bytes
        suffix = _position(last)
        if suffix == 0 or length == 0:
            raise RangeNotSatisfiable(f"range {shown!r} is empty", length=length)
        return max(length - suffix, 0), length - 1
    start = _position(first)
    end = min(_position(last), length - 1) if last else length - 1
    if start >= length or (last and _position(last) < start):
        raise RangeNotSatisfiable(f"range {shown!r} is outside 0-{length - 1}", length=length)
    return start, end


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else BEYOND
