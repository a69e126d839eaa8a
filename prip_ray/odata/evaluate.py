"""Evaluate a ``$filter`` AST against one Product in memory.

Used where SQL cannot decide: the exact geometric test after the bounding-box prefilter, and
subscriptions matching a newly published product against each subscriber's filter.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from prip_ray.domain.footprint import geometry_of
from prip_ray.domain.products import Footprint, Product
from prip_ray.odata import ast
from prip_ray.odata.options import sort_as_sql, sort_keys

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startswith": str.startswith,
    "endswith": str.endswith,
}
_PRODUCT_VALUES: dict[str, Callable[[Product], Any]] = {
    "Id": lambda p: p.id,
    "Name": lambda p: p.name,
    "ContentType": lambda p: p.content_type,
    "ContentLength": lambda p: p.content_length,
    "OriginDate": lambda p: p.origin_date,
    "PublicationDate": lambda p: p.publication_date,
    "EvictionDate": lambda p: p.eviction_date,
    "ModificationDate": lambda p: p.modification_date,
    "Online": lambda p: p.online,
    "ProductionType": lambda p: p.production_type,
    "ContentDate/Start": lambda p: p.content_date.start,
    "ContentDate/End": lambda p: p.content_date.end,
}


def matches(node: ast.Node, product: Product) -> bool:
    return _eval(node, lambda name: _PRODUCT_VALUES[name](product), product)


def _eval(node: ast.Node, value_of: Callable[[str], Any], product: Product) -> bool:
    if isinstance(node, ast.And):
        return _eval(node.left, value_of, product) and _eval(node.right, value_of, product)
    if isinstance(node, ast.Or):
        return _eval(node.left, value_of, product) or _eval(node.right, value_of, product)
    if isinstance(node, ast.Not):
        return not _eval(node.operand, value_of, product)
    if isinstance(node, ast.Intersects):
        return product.footprint is not None and geometry_of(product.footprint).intersects(
            node.geometry
        )
    if isinstance(node, ast.Lambda):
        return _lambda(node, product)
    value = value_of(node.prop.name)
    if value is None:
        return False
    if isinstance(node, ast.Compare):
        return _compare(node.op, value, node.value)
    if isinstance(node, ast.In):
        return value in node.values
    return _FUNCTIONS[node.name](value, node.value)


def _compare(op: str, value: Any, literal: Any) -> bool:
    try:
        return _OPERATORS[op](value, literal)
    except TypeError:  # e.g. an Integer attribute compared with a string: no match
        return False


def _lambda(node: ast.Lambda, product: Product) -> bool:
    if node.collection == "Checksum":
        items = [
            {"Algorithm": c.algorithm, "Value": c.value, "ChecksumDate": c.date}
            for c in product.checksums
        ]
    else:
        items = [
            {"Name": a.name, "Value": a.value}
            for a in product.attributes
            if node.value_type is None or a.value_type == node.value_type
        ]
    results = (_eval(node.condition, item.get, product) for item in items)
    return any(results) if node.quantifier == "any" else all(results)


def sort_products(products: list[Product], orderby: tuple[tuple[str, bool], ...]) -> list[Product]:
    """The order SQL gives: the keys asked (PublicationDate by default), then Id ascending."""
    ordered = list(products)
    keys = [(_PRODUCT_VALUES[name], descending) for name, descending in sort_keys(orderby)]
    sort_as_sql(ordered, lambda p: p.id, keys)
    return ordered


def footprint_matches(node: ast.Node, footprint: Footprint | None) -> bool:
    """Evaluate a purely spatial node (see ``ast.is_spatial``) on a footprint alone."""
    if isinstance(node, ast.Intersects):
        return footprint is not None and geometry_of(footprint).intersects(node.geometry)
    if isinstance(node, ast.Not):
        return not footprint_matches(node.operand, footprint)
    if isinstance(node, ast.And):
        return footprint_matches(node.left, footprint) and footprint_matches(node.right, footprint)
    if isinstance(node, ast.Or):
        return footprint_matches(node.left, footprint) or footprint_matches(node.right, footprint)
    raise ValueError(f"{type(node).__name__} is not spatial")


def shapes_intersect(geometry: Any, geojson_texts: list[str | None]) -> list[bool]:
    """Which footprints, given as GeoJSON text, intersect ``geometry``: parsed and tested
    in one vectorised GEOS call each, instead of a shapely object per footprint."""
    if not geojson_texts:
        return []
    shapely.prepare(geometry)
    shapes = shapely.from_geojson(np.array(geojson_texts, dtype=object), on_invalid="ignore")
    return [bool(hit) for hit in shapely.intersects(geometry, shapes)]  # None: no footprint


def boxes_inside(
    geometry: Any, boxes: list[tuple[float, float, float, float] | None]
) -> list[bool]:
    """Which boxes lie inside ``geometry`` (one vectorised test): a footprint whose box is
    inside the area intersects it whatever its shape, so its shape need not be read."""
    if not boxes:
        return []
    shapely.prepare(geometry)
    far = (1e9, 1e9, 1e9, 1e9)  # no footprint: a box far away, never inside
    corners = np.array([b if b is not None else far for b in boxes], dtype=float)
    squares = shapely.box(corners[:, 0], corners[:, 1], corners[:, 2], corners[:, 3])
    return shapely.contains_properly(geometry, squares).tolist()  # type: ignore[no-any-return]
