"""Our ``$filter`` AST → SQLAlchemy Core clauses on the ``products``/``attributes`` tables.

Portable SQL only (SQLite and PostgreSQL). Geometry is answered in two steps: here, a
bounding-box overlap on the indexed bbox columns, a superset of the exact answer; then the
repository tests the real shapes in Python. Under ``not`` the box cannot narrow anything, so
there the clause is ``false`` (whose negation is again a superset) and Python decides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true

from prip_ray.db.rows import PRODUCT_TYPE, value_column
from prip_ray.db.search.boxes import BoxOverlap
from prip_ray.db.search.likes import Like
from prip_ray.db.tables import attributes, deleted_products, products
from prip_ray.errors import InvalidQuery
from prip_ray.odata import ast
from prip_ray.odata.options import sort_keys

COLUMNS = {
    "Id": products.c.id,
    "Name": products.c.name,
    "ContentType": products.c.content_type,
    "ContentLength": products.c.content_length,
    "OriginDate": products.c.origin_date,
    "PublicationDate": products.c.publication_date,
    "EvictionDate": products.c.eviction_date,
    "ModificationDate": products.c.modification_date,
    "Online": products.c.online,
    "ProductionType": products.c.production_type,
    "ContentDate/Start": products.c.content_start,
    "ContentDate/End": products.c.content_end,
    # Only DeletedProducts' whitelist lets these through; db/deleted.py moves the rest of a
    # statement from ``products`` onto ``deleted_products``.
    "DeletionDate": deleted_products.c.deletion_date,
    "DeletionCause": deleted_products.c.deletion_cause,
}
WIDE_AREA = 360 * 180 / 10  # square degrees: a tenth of the globe
_OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
}


def filter_clause(node: ast.Node, positive: bool = True) -> ColumnElement[bool]:
    if isinstance(node, ast.And):
        return and_(filter_clause(node.left, positive), filter_clause(node.right, positive))
    if isinstance(node, ast.Or):
        return or_(filter_clause(node.left, positive), filter_clause(node.right, positive))
    if isinstance(node, ast.Not):
        return not_(filter_clause(node.operand, not positive))
    if isinstance(node, ast.Intersects):
        return _bbox_overlap(node.bbox) if positive else false()
    if isinstance(node, ast.Lambda):
        return _lambda(node)
    return _with_time_hint(node, _leaf(node, COLUMNS.__getitem__))


def _with_time_hint(node: ast.Node, clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """Start <= End for every product (QC checks it), so a bound on one end of ContentDate
    bounds the other too. Saying so lets the planner see a closed range on an indexed
    column instead of two open ones it cannot estimate together."""
    if not isinstance(node, ast.Compare):
        return clause
    c = products.c
    if node.prop.name == "ContentDate/End" and node.op in ("lt", "le", "eq"):
        return and_(clause, c.content_start <= node.value)
    if node.prop.name == "ContentDate/Start" and node.op in ("gt", "ge", "eq"):
        return and_(clause, c.content_end >= node.value)
    return clause


def _leaf(node: ast.Node, column: Any) -> ColumnElement[bool]:
    if isinstance(node, ast.Compare):
        return _OPERATORS[node.op](column(node.prop.name), node.value)
    if isinstance(node, ast.In):
        listed: ColumnElement[bool] = column(node.prop.name).in_(node.values)
        return listed
    if isinstance(node, ast.Function):
        return Like(column(node.prop.name), node.name, node.value)
    raise InvalidQuery(f"{type(node).__name__} is not allowed here")


def _bbox_overlap(bbox: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """Footprints across the antimeridian keep an unwrapped box (max_lon beyond 180), so the
    query box is tried as given and shifted by 360°."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if is_wide(bbox):
        return true()  # such a box selects most rows: an index scan of it costs more than it saves
    return or_(
        BoxOverlap(min_lon, min_lat, max_lon, max_lat),
        BoxOverlap(min_lon + 360, min_lat, max_lon + 360, max_lat),
    )


def is_wide(bbox: tuple[float, float, float, float]) -> bool:
    """An area so large that its box is no use to an index."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return (max_lon - min_lon) * (max_lat - min_lat) > WIDE_AREA


def _lambda(node: ast.Lambda) -> ColumnElement[bool]:
    if node.collection == "Checksum":
        return _checksum(node)
    on_column = _product_type(node)
    if on_column is not None:
        return on_column
    item = select(attributes.c.product_id).where(attributes.c.product_id == products.c.id)
    if node.value_type is not None:
        item = item.where(attributes.c.value_type == node.value_type)
    condition = _item_clause(node.condition, node.value_type)
    if node.quantifier == "any":
        return exists(item.where(condition))
    return not_(exists(item.where(not_(condition))))


def _product_type(node: ast.Lambda) -> ColumnElement[bool] | None:
    """``any(att: att/Name eq 'productType' and <test of att/Value>)`` on the product_type
    column, without the attribute probe per candidate: every product has exactly one
    productType attribute, a String equal to that column (rows.py writes both). Other shapes
    (``all``, a second name, another attribute) return None and go through ``attributes``."""
    if node.quantifier != "any" or node.value_type not in (None, "String"):
        return None
    parts = ast.conjuncts(node.condition)
    names = [p for p in parts if p == PRODUCT_TYPE_NAME]
    tests = [p for p in parts if p != PRODUCT_TYPE_NAME]
    if len(names) != 1 or not tests or not all(_on_string_value(t) for t in tests):
        return None
    column = products.c.product_type
    return and_(*(_leaf_tree(t, lambda leaf: _leaf(leaf, lambda _: column)) for t in tests))


PRODUCT_TYPE_NAME = ast.Compare("eq", ast.Property(("Name",)), PRODUCT_TYPE)


def _on_string_value(node: ast.Node) -> bool:
    """Only ``att/Value`` compared with strings, under and/or/not."""
    if isinstance(node, (ast.And, ast.Or)):
        return _on_string_value(node.left) and _on_string_value(node.right)
    if isinstance(node, ast.Not):
        return _on_string_value(node.operand)
    if isinstance(node, (ast.Compare, ast.In, ast.Function)) and node.prop.path == ("Value",):
        values = node.values if isinstance(node, ast.In) else (node.value,)
        return all(isinstance(v, str) for v in values)
    return False


def _leaf_tree(
    node: ast.Node, leaf: Callable[[ast.Node], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """and/or/not as SQL, each leaf translated by ``leaf``."""
    if isinstance(node, ast.And):
        return and_(_leaf_tree(node.left, leaf), _leaf_tree(node.right, leaf))
    if isinstance(node, ast.Or):
        return or_(_leaf_tree(node.left, leaf), _leaf_tree(node.right, leaf))
    if isinstance(node, ast.Not):
        return not_(_leaf_tree(node.operand, leaf))
    return leaf(node)


def _item_clause(node: ast.Node, value_type: str | None) -> ColumnElement[bool]:
    return _leaf_tree(
        node, lambda leaf: _leaf(leaf, lambda name: _item_column(name, leaf, value_type))
    )


def _item_column(name: str, node: ast.Node, value_type: str | None) -> Any:
    if name == "Name":
        return attributes.c.name
    return attributes.c[value_column(value_type or _type_of(node))]


def _type_of(node: ast.Node) -> str:
    """Attributes/any without a cast: the literal says which typed column to look in."""
    value = node.values[0] if isinstance(node, ast.In) else getattr(node, "value", "")
    for python_type, value_type in (
        (bool, "Boolean"),
        (int, "Integer"),
        (float, "Double"),
        (datetime, "DateTimeOffset"),
    ):
        if isinstance(value, python_type):
            return value_type
    return "String"


def _checksum(node: ast.Lambda) -> ColumnElement[bool]:
    """Checksums are matched on the indexed MD5 column; other algorithms are not filterable."""
    return _leaf_tree(node.condition, _checksum_leaf)  # one MD5 per product: any and all agree


def _checksum_leaf(node: ast.Node) -> ColumnElement[bool]:
    name = getattr(node, "prop", ast.Property(("",))).name
    if name == "Algorithm" and isinstance(node, ast.Compare) and node.op in ("eq", "ne"):
        is_md5 = str(node.value).upper() == "MD5"
        return true() if is_md5 == (node.op == "eq") else false()
    if name == "Value":
        lowered = node.value.lower() if isinstance(node, ast.Compare) else None
        if isinstance(node, ast.Compare):
            return _OPERATORS[node.op](products.c.md5, lowered)
        return _leaf(node, lambda _: products.c.md5)
    raise InvalidQuery(f"Checksum/{name} cannot be filtered (Algorithm eq 'MD5' and Value)")


def order_by_clauses(orderby: tuple[tuple[str, bool], ...]) -> list[Any]:
    """The requested keys, then Id: a total order, so paging never repeats or skips."""
    keys = sort_keys(orderby)
    clauses = [
        COLUMNS[name].desc() if descending else COLUMNS[name].asc() for name, descending in keys
    ]
    if "Id" not in {name for name, _ in keys}:
        clauses.append(products.c.id.asc())
    return clauses
