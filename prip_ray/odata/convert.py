"""odata-query's syntax tree → our typed AST, checked against the Product whitelist.

Properties must be in :mod:`prip_ray.odata.fields`; each literal must fit its property's type
and is converted to the Python value the SQL translator and the evaluator compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from odata_query import ast as q

from prip_ray.domain.collections import collection_prefix
from prip_ray.errors import InvalidQuery
from prip_ray.odata import ast
from prip_ray.odata.fields import (
    ATTRIBUTE_VALUE_TYPES,
    BOOLEAN,
    CHECKSUM_FIELDS,
    DATETIME,
    DOUBLE,
    ENUM,
    GUID,
    INTEGER,
    PRODUCT_FIELDS,
    STRING,
    production_type,
)
from prip_ray.odata.geography import parse_geography

# What one filter may cost, counted on the converted tree (the rewrites and the parser can
# make it larger than the text suggests): nesting, which every recursive walk of it pays in
# stack (conversion, SQL building and compiling, the evaluator), and nodes, which the SQL
# statement, its bound parameters and the replica's caches of both pay in size.
MAX_DEPTH = 100
MAX_NODES = 1000
_OPS = {q.Eq: "eq", q.NotEq: "ne", q.Lt: "lt", q.LtE: "le", q.Gt: "gt", q.GtE: "ge"}
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_EQUALITY_ONLY = (BOOLEAN, GUID, ENUM)
COLLECTION = ("Collection", "Name")
_NAME = ast.Property(("Name",))


@dataclass(frozen=True)
class _Scope:
    """Inside ``any(x: ...)``: ``x`` names an item of ``collection``."""

    variable: str
    collection: str
    value_type: str | None


def too_complex(reason: str) -> InvalidQuery:
    return InvalidQuery(f"$filter is too complex: {reason}; split it into simpler queries")


class Converter:
    """Converts one tree; counts its nodes (a list value counts as one) as it goes."""

    def __init__(self, fields: dict[str, str] = PRODUCT_FIELDS):
        self._fields = fields  # the whitelist of the entity set searched
        self._nodes = 0

    def _count(self, nodes: int = 1) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise too_complex(f"more than {MAX_NODES} conditions and values")

    def convert(self, node: Any, scope: _Scope | None = None, depth: int = 0) -> ast.Node:
        if depth > MAX_DEPTH:
            raise too_complex(f"it nests deeper than {MAX_DEPTH} levels")
        self._count()
        deeper = depth + 1
        if isinstance(node, q.BoolOp):
            # A chain of one operator (a or b or c ...) comes as a tree as deep as it is
            # long; rebuilt balanced, its depth is the log of its length.
            parts = [self.convert(part, scope, deeper) for part in _chain(node)]
            return _balanced(parts, ast.And if isinstance(node.op, q.And) else ast.Or)
        if isinstance(node, q.UnaryOp) and isinstance(node.op, q.Not):
            return ast.Not(self.convert(node.operand, scope, deeper))
        if isinstance(node, q.Compare):
            return self._compare(node, scope, deeper)
        if isinstance(node, q.Call):
            return self._call(node, scope)
        if isinstance(node, q.CollectionLambda):
            return self._lambda(node, scope, deeper)
        if isinstance(node, (q.Identifier, q.Attribute)):  # a bare Boolean property: Online
            prop, kind = self._property(node, scope)
            if kind != BOOLEAN:
                raise InvalidQuery(f"{prop.name} is not a Boolean condition", token=prop.name)
            return ast.Compare("eq", prop, True)
        raise InvalidQuery(f"$filter: {_describe(node)} is not a condition", token=_describe(node))

    def _compare(self, node: q.Compare, scope: _Scope | None, depth: int) -> ast.Node:
        if isinstance(node.comparator, q.In):
            if scope is None and _is_collection(node.left) and isinstance(node.right, q.List):
                self._count(len(node.right.val))
                return _balanced(list(dict.fromkeys(map(_in_collection, node.right.val))), ast.Or)
            prop, kind = self._property(node.left, scope)
            if not isinstance(node.right, q.List):
                raise InvalidQuery(f"in needs a list after {prop.name}", token="in")
            self._count(len(node.right.val))
            return ast.In(prop, tuple(_value(v, kind, prop) for v in node.right.val))
        op = _OPS.get(type(node.comparator))
        if op is None:
            raise InvalidQuery(f"operator {type(node.comparator).__name__} is not supported")
        left, right = node.left, node.right
        if isinstance(left, q.UnaryOp) and isinstance(left.op, q.Not):
            # "not ContentLength gt 5": OData binds not tighter; clients mean not (... gt 5)
            if depth > MAX_DEPTH:
                raise too_complex(f"it nests deeper than {MAX_DEPTH} levels")
            self._count()
            inner = q.Compare(node.comparator, left.operand, right)
            return ast.Not(self._compare(inner, scope, depth + 1))
        if isinstance(left, q.Call) and isinstance(right, q.Boolean) and op in ("eq", "ne"):
            function = self._call(left, scope)  # startswith(Name,'S2') eq true
            return function if (right.val.lower() == "true") == (op == "eq") else ast.Not(function)
        if _is_literal(left) and not _is_literal(right):
            left, right, op = right, left, _FLIPPED[op]
        if scope is None and _is_collection(left) and op in ("eq", "ne"):
            found = _in_collection(right)
            return found if op == "eq" else ast.Not(found)
        prop, kind = self._property(left, scope)
        if kind in _EQUALITY_ONLY and op not in ("eq", "ne"):
            raise InvalidQuery(f"{prop.name} can only be compared with eq or ne", token=op)
        return ast.Compare(op, prop, _value(right, kind, prop))

    def _call(self, node: q.Call, scope: _Scope | None) -> ast.Node:
        name = node.func.name
        if name.lower() == "intersects":
            return self._intersects(node)
        if name not in ast.FUNCTIONS or node.func.namespace:
            raise InvalidQuery(f"function {name} is not supported", token=name)
        if len(node.args) != 2:
            raise InvalidQuery(f"{name} takes a property and a string", token=name)
        prop, kind = self._property(node.args[0], scope)
        if kind != STRING:
            raise InvalidQuery(f"{name} needs a String property, not {prop.name}", token=prop.name)
        return ast.Function(name, prop, _value(node.args[1], STRING, prop))

    def _intersects(self, node: q.Call) -> ast.Node:
        areas = [a.param if isinstance(a, q.NamedParam) else a for a in node.args]
        areas = [a for a in areas if not (isinstance(a, q.Identifier) and a.name == "Footprint")]
        if len(areas) != 1 or not isinstance(areas[0], q.Geography):
            raise InvalidQuery("Intersects takes area=geography'SRID=4326;...'", token="Intersects")
        geometry, wkt = parse_geography(areas[0].val)
        return ast.Intersects(wkt, geometry, tuple(geometry.bounds))  # type: ignore[arg-type]

    def _lambda(self, node: q.CollectionLambda, scope: _Scope | None, depth: int) -> ast.Node:
        if scope is not None:
            raise InvalidQuery("any/all cannot be nested", token="any")
        collection, value_type = _collection(node.owner)
        quantifier = "any" if isinstance(node.operator, q.Any) else "all"
        if node.lambda_ is None:
            raise InvalidQuery(f"{collection}/{quantifier}() needs a condition", token=quantifier)
        inner = _Scope(node.lambda_.identifier.name, collection, value_type)
        condition = self.convert(node.lambda_.expression, inner, depth)
        return ast.Lambda(collection, quantifier, value_type, condition)

    def _property(self, node: Any, scope: _Scope | None) -> tuple[ast.Property, str]:
        path = _path(node)
        if scope is None:
            if path == COLLECTION:
                raise InvalidQuery(
                    "Collection/Name can only be compared with eq, ne or in", token="Collection"
                )
            kind = self._fields.get("/".join(path))
            if kind is None:
                raise InvalidQuery(f"unknown property {'/'.join(path)}", token="/".join(path))
            return ast.Property(path), kind
        if path[0] != scope.variable:
            name = "/".join(path)
            raise InvalidQuery(
                f"{name}: inside {scope.collection}/any use {scope.variable}/...", token=name
            )
        return _item_property(path[1:], scope)


def _chain(node: q.BoolOp) -> list[Any]:
    """The operands of a chain of ``node``'s operator, in order, found without recursion."""
    kind = type(node.op)
    parts: list[Any] = []
    pending: list[Any] = [node]  # operands are any node, not only BoolOps
    while pending:
        current = pending.pop()
        if isinstance(current, q.BoolOp) and isinstance(current.op, kind):
            pending += [current.right, current.left]
        else:
            parts.append(current)
    return parts


def _balanced(parts: list[ast.Node], join: type[ast.And] | type[ast.Or]) -> ast.Node:
    if len(parts) == 1:
        return parts[0]
    middle = len(parts) // 2
    return join(_balanced(parts[:middle], join), _balanced(parts[middle:], join))


def _is_collection(node: Any) -> bool:
    return isinstance(node, q.Attribute) and _path(node) == COLLECTION


def _in_collection(literal: Any) -> ast.Node:
    """``Collection/Name eq 'SENTINEL-2'`` as the name prefix of the mission's products
    (domain/collections.py); a collection with no Sentinel product in it matches nothing."""
    if not isinstance(literal, q.String):
        raise InvalidQuery(
            f"Collection/Name is a string: {_describe(literal)} does not fit",
            token=_describe(literal),
        )
    prefix = collection_prefix(literal.val)
    return ast.In(_NAME, ()) if prefix is None else ast.Function("startswith", _NAME, prefix)


def _item_property(path: tuple[str, ...], scope: _Scope) -> tuple[ast.Property, str]:
    name = "/".join(path)
    if scope.collection == "Checksum":
        if len(path) != 1 or path[0] not in CHECKSUM_FIELDS:
            raise InvalidQuery(f"Checksum has no {name}", token=name)
        return ast.Property(path), CHECKSUM_FIELDS[path[0]]
    if path == ("Name",):
        return ast.Property(path), STRING
    cast = path[0].removesuffix("Attribute") if len(path) == 2 else scope.value_type
    if path[-1] != "Value" or len(path) > 2 or cast not in ATTRIBUTE_VALUE_TYPES:
        raise InvalidQuery(f"an attribute has Name and Value, not {name}", token=name)
    if scope.value_type is not None and cast != scope.value_type:
        raise InvalidQuery(f"{name} casts a {scope.value_type}Attribute to {cast}", token=name)
    return ast.Property(("Value",)), ATTRIBUTE_VALUE_TYPES[cast]


def _collection(owner: Any) -> tuple[str, str | None]:
    path = _path(owner)
    if path == ("Checksum",):
        return "Checksum", None
    if path[0] == "Attributes" and len(path) <= 2:
        value_type = path[1].removesuffix("Attribute") if len(path) == 2 else None
        if value_type is None or value_type in ATTRIBUTE_VALUE_TYPES:
            return "Attributes", value_type
    raise InvalidQuery(f"{'/'.join(path)} is not a collection", token="/".join(path))


def _path(node: Any) -> tuple[str, ...]:
    if isinstance(node, q.Identifier):
        return (node.name,)
    if isinstance(node, q.Attribute):
        return (*_path(node.owner), node.attr)
    raise InvalidQuery(f"expected a property, found {_describe(node)}", token=_describe(node))


def _is_literal(node: Any) -> bool:
    return isinstance(
        node, (q.String, q.Integer, q.Float, q.Boolean, q.DateTime, q.Date, q.GUID, q.Null)
    )


def _value(node: Any, kind: str, prop: ast.Property) -> Any:
    try:
        value = _LITERALS[kind](node)
    except (ValueError, TypeError, AttributeError, OverflowError):  # 9999-12-31T23:59-01:00
        value = None
    if value is None:
        raise InvalidQuery(
            f"{prop.name} is {kind}: {_describe(node)} does not fit", token=_describe(node)
        )
    return value


def _datetime(node: Any) -> datetime | None:
    if isinstance(node, q.Date):
        day = date.fromisoformat(node.val)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if not isinstance(node, q.DateTime):
        return None
    value = datetime.fromisoformat(node.val.replace("z", "Z"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _int64(value: int) -> int | None:
    """Integers are 64-bit columns: a larger literal is refused here, not by the driver."""
    return value if -(2**63) <= value < 2**63 else None


def _guid(node: Any) -> UUID | None:
    if isinstance(node, (q.GUID, q.String)):
        return UUID(node.val)
    return None


def _enum(node: Any) -> str | None:
    return production_type(node.val) if isinstance(node, q.String) else None


_LITERALS = {
    STRING: lambda n: n.val if isinstance(n, q.String) else None,
    INTEGER: lambda n: _int64(int(n.val)) if isinstance(n, q.Integer) else None,
    DOUBLE: lambda n: float(n.val) if isinstance(n, (q.Integer, q.Float)) else None,
    BOOLEAN: lambda n: n.val.lower() == "true" if isinstance(n, q.Boolean) else None,
    DATETIME: _datetime,
    GUID: _guid,
    ENUM: _enum,
}


def _describe(node: Any) -> str:
    if hasattr(node, "val") and not isinstance(node.val, list):
        return str(node.val)
    if isinstance(node, (q.Identifier, q.Attribute)):
        return "/".join(_path(node))
    return type(node).__name__
