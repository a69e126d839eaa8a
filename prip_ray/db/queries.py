"""Our ``$filter`` AST → SQLAlchemy Core clauses on the ``products``/``attributes`` tables.

Portable SQL only (SQLite and PostgreSQL). Geometry is answered in two steps: here, a
bounding-box overlap on the indexed bbox columns, a superset of the exact answer; then the
repository tests the real shapes in Python. Under ``not`` the box cannot narrow anything, so
there the clause is ``false`` (whose negation is again a superset) and Python decides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true

from prip_ray.db.boxes import BoxOverlap
from prip_ray.db.rows import value_column
from prip_ray.db.tables import attributes, products
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
}
WIDE_AREA = 360 * 180 / 10  # square degrees: a tenth of the globe
_OPERATORS = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
}
_FUNCTIONS = {
    "contains": lambda c, v: c.contains(v, autoescape=True),
    "startswith": lambda c, v: c.startswith(v, autoescape=True),
    "endswith": lambda c, v: c.endswith(v, autoescape=True),
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
        return column(node.prop.name).in_(node.values)
    if isinstance(node, ast.Function):
        return _FUNCTIONS[node.name](column(node.prop.name), node.value)
    raise InvalidQuery(f"{type(node).__name__} is not allowed here")


def _bbox_overlap(bbox: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """Footprints across the antimeridian keep an unwrapped box (max_lon beyond 180), so the
    query box is tried as given and shifted by 360°."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if (max_lon - min_lon) * (max_lat - min_lat) > WIDE_AREA:
        return true()  # such a box selects most rows: an index scan of it costs more than it saves
    return or_(
        BoxOverlap(min_lon, min_lat, max_lon, max_lat),
        BoxOverlap(min_lon + 360, min_lat, max_lon + 360, max_lat),
    )


def _lambda(node: ast.Lambda) -> ColumnElement[bool]:
    if node.collection == "Checksum":
        return _checksum(node)
    item = select(attributes.c.product_id).where(attributes.c.product_id == products.c.id)
    if node.value_type is not None:
        item = item.where(attributes.c.value_type == node.value_type)
    condition = _item_clause(node.condition, node.value_type)
    if node.quantifier == "any":
        return exists(item.where(condition))
    return not_(exists(item.where(not_(condition))))


def _item_clause(node: ast.Node, value_type: str | None) -> ColumnElement[bool]:
    if isinstance(node, ast.And):
        return and_(_item_clause(node.left, value_type), _item_clause(node.right, value_type))
    if isinstance(node, ast.Or):
        return or_(_item_clause(node.left, value_type), _item_clause(node.right, value_type))
    if isinstance(node, ast.Not):
        return not_(_item_clause(node.operand, value_type))
    return _leaf(node, lambda name: _item_column(name, node, value_type))


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
    return _checksum_clause(node.condition)  # one MD5 per product: any and all agree


def _checksum_clause(node: ast.Node) -> ColumnElement[bool]:
    if isinstance(node, ast.And):
        return and_(_checksum_clause(node.left), _checksum_clause(node.right))
    if isinstance(node, ast.Or):
        return or_(_checksum_clause(node.left), _checksum_clause(node.right))
    if isinstance(node, ast.Not):
        return not_(_checksum_clause(node.operand))
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
