"""STAC item search parameters → the search options an OData ``$filter`` makes.

``bbox``, ``intersects``, ``datetime``, ``collections``, ``ids``, ``limit`` and the paging
``token``, from a GET query string or a POST body, become one AST (``odata/ast.py``) and
one :class:`QueryOptions`; the Product search (``db/search/``) answers them with the same
statements and indexes as OData. Every mistake is an InvalidQuery naming the parameter.

``datetime`` keeps STAC's meaning: an item matches when its sensing period
(``ContentDate``) meets the instant or the interval, open ends written ``..`` or left empty.
Results come in publication order (Id breaks ties), so a client paging with the ``next``
link while products arrive sees the new ones at the end, never a shifted page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from prip_ray.errors import InvalidQuery
from prip_ray.odata import ast
from prip_ray.odata.geography import parse_geography
from prip_ray.odata.options import QueryOptions
from prip_ray.stac.collections import StacCollection

DEFAULT_LIMIT = 10  # STAC API's default page
TOKEN_PREFIX = "next:"
_START = ast.Property(("ContentDate", "Start"))
_END = ast.Property(("ContentDate", "End"))
_NAME = ast.Property(("Name",))
NOTHING = ast.In(_NAME, ())  # no product has no name


@dataclass(frozen=True)
class Limits:
    default_limit: int = DEFAULT_LIMIT
    max_limit: int = 1000  # api.max_top
    max_offset: int = 10000  # api.max_skip


@dataclass(frozen=True)
class ItemSearch:
    """A STAC search, checked: what the client asked, in plain values."""

    bbox: tuple[float, float, float, float] | None = None
    intersects: dict[str, Any] | None = None
    datetime: str | None = None
    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0  # from the token

    def following(self) -> ItemSearch:
        """The search of the next page."""
        return replace(self, offset=self.offset + self.limit)

    def token(self) -> str:
        return f"{TOKEN_PREFIX}{self.offset}"

    def as_body(self) -> dict[str, Any]:
        """The search as a POST body (``next`` links of POST searches carry it)."""
        body: dict[str, Any] = {"limit": self.limit}
        if self.bbox is not None:
            body["bbox"] = list(self.bbox)
        for name in ("intersects", "datetime"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        for name in ("collections", "ids"):
            if getattr(self, name) is not None:
                body[name] = list(getattr(self, name))
        if self.offset:
            body["token"] = self.token()
        return body

    def as_query(self) -> dict[str, str]:
        """The search as GET parameters."""
        query = {"limit": str(self.limit)}
        if self.bbox is not None:
            query["bbox"] = ",".join(_number(v) for v in self.bbox)
        if self.intersects is not None:
            query["intersects"] = json.dumps(self.intersects, separators=(",", ":"))
        if self.datetime is not None:
            query["datetime"] = self.datetime
        for name in ("collections", "ids"):
            if getattr(self, name) is not None:
                query[name] = ",".join(getattr(self, name))
        if self.offset:
            query["token"] = self.token()
        return query


def search_from_query(
    params: Mapping[str, str], limits: Limits, collection: str | None = None
) -> ItemSearch:
    """A GET search (``/search`` or ``/collections/{id}/items``, which fixes ``collection``)."""
    intersects = params.get("intersects")
    return _checked(
        bbox=_split(params.get("bbox")),
        intersects=_json(intersects) if intersects is not None else None,
        datetime=params.get("datetime"),
        collections=[collection] if collection else _split(params.get("collections")),
        ids=_split(params.get("ids")),
        limit=params.get("limit"),
        token=params.get("token"),
        limits=limits,
    )


def search_from_body(body: Any, limits: Limits) -> ItemSearch:
    """A POST search; its body is a JSON object of the same names."""
    if not isinstance(body, dict):
        raise InvalidQuery("a STAC search body is a JSON object")
    unknown = sorted(
        set(body) - {"bbox", "intersects", "datetime", "collections", "ids"} - {"limit", "token"}
    )
    if unknown:
        raise InvalidQuery(f"{unknown[0]} is not a search parameter here", token=unknown[0])
    return _checked(limits=limits, **{k: body.get(k) for k in _PARAMETERS})


_PARAMETERS = ("bbox", "intersects", "datetime", "collections", "ids", "limit", "token")


def query_options(
    search: ItemSearch,
    collections: Mapping[str, StacCollection],
    longest_spans: Mapping[str, float] | None = None,
) -> QueryOptions:
    """The search options of ``search``, as parse_query_options would make them.
    ``longest_spans``: the longest sensing period (s) of each product type published
    (db/spans.py), which lets a ``datetime`` search bound ContentDate/Start from below too."""
    parts: list[ast.Node] = []
    if search.collections is not None:
        known = [collections[c].condition() for c in search.collections if c in collections]
        parts.append(_any(known) if known else NOTHING)
    if search.ids is not None:
        parts.append(ast.In(_NAME, search.ids) if search.ids else NOTHING)
    if search.bbox is not None:
        parts.append(_intersects(_bbox_geometry(search.bbox)))
    if search.intersects is not None:
        parts.append(_intersects(_geojson_geometry(search.intersects)))
    if search.datetime is not None:
        start, end = parse_interval(search.datetime)
        parts.append(_during(start, end))
        if start is not None and longest_spans is not None:
            longest = timedelta(seconds=_longest(search, collections, longest_spans))
            if start - datetime.min.replace(tzinfo=UTC) > longest:  # else: no bound at all
                parts.append(ast.Compare("ge", _START, start - longest))
    condition = parts[0] if parts else None
    for part in parts[1:]:
        condition = ast.And(condition, part)  # type: ignore[arg-type]
    return QueryOptions(filter=condition, top=search.limit, skip=search.offset)


def parse_interval(text: str) -> tuple[datetime | None, datetime | None]:
    """``2025-08-01T00:00:00Z``, ``start/end``, ``../end``, ``start/``: (start, end)."""
    if "/" not in text:
        instant = _instant(text)
        return instant, instant
    first, _, second = text.partition("/")
    start = None if first in ("", "..") else _instant(first)
    end = None if second in ("", "..") else _instant(second)
    if start is None and end is None:
        raise InvalidQuery("datetime: an interval needs at least one end", token=text)
    if start is not None and end is not None and start > end:
        raise InvalidQuery("datetime: the interval ends before it starts", token=text)
    return start, end


def _checked(
    *,
    bbox: Any,
    intersects: Any,
    datetime: Any,
    collections: Any,
    ids: Any,
    limit: Any,
    token: Any,
    limits: Limits,
) -> ItemSearch:
    if bbox is not None and intersects is not None:
        raise InvalidQuery("bbox and intersects cannot both be given", token="intersects")
    search = ItemSearch(
        bbox=_bbox(bbox) if bbox is not None else None,
        intersects=_geojson(intersects) if intersects is not None else None,
        datetime=_text("datetime", datetime) if datetime is not None else None,
        collections=_names("collections", collections),
        ids=_names("ids", ids),
        limit=_bounded("limit", limit, limits.default_limit, 1, limits.max_limit),
        offset=_offset(token, limits.max_offset),
    )
    if search.datetime is not None:
        parse_interval(search.datetime)  # refused now, not when the page is read
    if search.intersects is not None:
        _intersects(_geojson_geometry(search.intersects))
    return search


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidQuery("intersects is not GeoJSON", token="intersects") from None


def _bbox(value: Any) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) not in (4, 6):
        raise InvalidQuery("bbox is 4 numbers: west,south,east,north", token="bbox")
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        raise InvalidQuery("bbox is 4 numbers: west,south,east,north", token="bbox") from None
    if len(numbers) == 6:  # west,south,low,east,north,high: heights do not matter here
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidQuery("bbox must be lon -180..180, lat -90..90, south <= north", token="bbox")
    return west, south, east, north


def _geojson(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidQuery("intersects is a GeoJSON geometry", token="intersects")
    return value


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidQuery(f"{name} is a string", token=name)
    return value


def _names(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidQuery(f"{name} is a list of strings", token=name)
    if any("\x00" in v for v in value):
        raise InvalidQuery(f"{name} contains a NUL character", token=name)
    return tuple(dict.fromkeys(value))


def _bounded(name: str, value: Any, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise InvalidQuery(f"{name} must be a positive integer", token=name)
    number = int(text)
    if not low <= number <= high:
        raise InvalidQuery(f"{name} must be {low} to {high}", token=name)
    return number


def _offset(token: Any, max_offset: int) -> int:
    if token is None:
        return 0
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise InvalidQuery("token is not one this server gave", token="token")
    try:
        return _bounded("token", token[len(TOKEN_PREFIX) :], 0, 0, max_offset)
    except InvalidQuery:
        raise InvalidQuery(
            f"token: paging goes {max_offset} items deep; narrow the search", token="token"
        ) from None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise InvalidQuery(f"datetime {text!r} is not RFC 3339", token=text) from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _bbox_geometry(bbox: tuple[float, float, float, float]) -> BaseGeometry:
    west, south, east, north = bbox
    if west <= east:
        return box(west, south, east, north)
    # across the antimeridian (STAC's convention: west > east)
    return box(west, south, 180, north).union(box(-180, south, east, north))


def _geojson_geometry(geojson: dict[str, Any]) -> BaseGeometry:
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        raise InvalidQuery(
            "intersects is not a valid GeoJSON geometry", token="intersects"
        ) from None
    if geometry.is_empty:
        raise InvalidQuery("intersects is empty", token="intersects")
    return geometry


def _intersects(geometry: BaseGeometry) -> ast.Intersects:
    """The geometry checked as an OData geography literal is (WGS84, on the globe)."""
    checked, wkt = parse_geography(geometry.wkt)
    return ast.Intersects(wkt, checked, tuple(checked.bounds))  # type: ignore[arg-type]


def _longest(
    search: ItemSearch, collections: Mapping[str, StacCollection], spans: Mapping[str, float]
) -> float:
    """The longest period a product the search may find can have: of the types in the
    searched collections (all types without ``collections``). A period meeting [start, end]
    then starts at ``start - longest`` or later, which the ContentDate/Start index finds
    directly instead of filtering the whole catalogue by End (0.7 s at 1M products)."""
    if search.collections is None:
        return max(spans.values(), default=0.0)
    searched = [collections[c] for c in search.collections if c in collections]
    held = [s for t, s in spans.items() if any(c.holds_type(t) for c in searched)]
    return max(held, default=0.0)


def _during(start: datetime | None, end: datetime | None) -> ast.Node:
    """The sensing period meets [start, end]: it starts before the end, ends after the start."""
    parts: list[ast.Node] = []
    if end is not None:
        parts.append(ast.Compare("le", _START, end))
    if start is not None:
        parts.append(ast.Compare("ge", _END, start))
    return parts[0] if len(parts) == 1 else ast.And(parts[0], parts[1])


def _any(nodes: Sequence[ast.Node]) -> ast.Node:
    found = nodes[0]
    for node in nodes[1:]:
        found = ast.Or(found, node)
    return found


def _number(value: float) -> str:
    return repr(int(value)) if value == int(value) else repr(value)
