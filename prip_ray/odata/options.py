"""OData system query options of a Product search: ``$filter $orderby $top $skip $count
$expand $select $format``. Options that do not start with ``$`` are custom options some
clients add: ignored, as the interface asks. An unknown ``$`` option is an error, not a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from prip_ray.errors import InvalidQuery
from prip_ray.odata.ast import Node
from prip_ray.odata.fields import EXPANDABLE, ORDERABLE_IN, SELECTABLE_IN
from prip_ray.odata.filter import parse_filter

KNOWN = {"$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$select", "$format"}
FORMATS = {"json", "application/json"}

T = TypeVar("T")
DEFAULT_ORDER = (("PublicationDate", False),)  # without $orderby; Id always breaks ties


def sort_keys(orderby: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """The keys a search sorts by: those of $orderby, or the default order."""
    return orderby or DEFAULT_ORDER


def sort_as_sql(
    items: list[T], id_of: Callable[[T], Any], keys: Sequence[tuple[Callable[[T], Any], bool]]
) -> None:
    """Sort ``items`` in place as SQL orders a search: by ``keys`` (value getter, descending),
    then Id ascending. Stable sorts, least significant first."""
    items.sort(key=id_of)
    for value_of, descending in reversed(keys):
        items.sort(key=value_of, reverse=descending)


@dataclass(frozen=True)
class QueryOptions:
    filter: Node | None = None
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    top: int = 20
    skip: int = 0
    count: bool = False
    expand: frozenset[str] = frozenset()
    select: tuple[str, ...] | None = None
    format: str | None = None


def parse_query_options(
    params: Mapping[str, str],
    *,
    default_top: int,
    max_top: int,
    max_skip: int,
    entity_set: str = "Products",
) -> QueryOptions:
    options = {k: v for k, v in params.items() if k.startswith("$")}
    unknown = sorted(set(options) - KNOWN)
    if unknown:
        raise InvalidQuery(f"unknown query option {unknown[0]}", token=unknown[0])
    text = options.get("$filter")
    return QueryOptions(
        filter=parse_filter(text, entity_set) if text is not None else None,
        orderby=parse_orderby(options.get("$orderby", ""), ORDERABLE_IN[entity_set]),
        top=_bounded("$top", options.get("$top"), default_top, max_top),
        skip=_bounded("$skip", options.get("$skip"), 0, max_skip),
        count=_boolean("$count", options.get("$count", "false")),
        expand=frozenset(_names("$expand", options.get("$expand", ""), EXPANDABLE)),
        select=_select(options.get("$select"), SELECTABLE_IN[entity_set]),
        format=_format(options.get("$format")),
    )


def parse_orderby(
    text: str, orderable: tuple[str, ...] = ORDERABLE_IN["Products"]
) -> tuple[tuple[str, bool], ...]:
    keys = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        words = item.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise InvalidQuery(f"$orderby item {item!r} is not 'Property [asc|desc]'", token=item)
        if words[0] not in orderable:
            raise InvalidQuery(f"cannot order by {words[0]}", token=words[0])
        keys.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return tuple(keys)


def _bounded(option: str, text: str | None, default: int, maximum: int) -> int:
    if text is None:
        return default
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):  # '²' and '٣' are digits to isdigit()
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InvalidQuery(f"{option} must be a non-negative integer, not {shown!r}", token=text)
    if len(digits) > 18 or int(digits) > maximum:  # int() refuses 4,300 digits
        raise InvalidQuery(f"{option} is at most {maximum}", token=text)
    return int(digits)


def _boolean(option: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise InvalidQuery(f"{option} must be true or false, not {text!r}", token=text)
    return text.lower() == "true"


def _names(option: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise InvalidQuery(f"{option}: {name} is not one of {', '.join(allowed)}", token=name)
    return names


def _select(text: str | None, selectable: tuple[str, ...]) -> tuple[str, ...] | None:
    if text is None or text.strip() == "*":
        return None
    return tuple(_names("$select", text, selectable))


def _format(text: str | None) -> str | None:
    if text is not None and text.lower() not in FORMATS:
        raise InvalidQuery(f"$format {text!r} is not supported (json)", token=text)
    return text
