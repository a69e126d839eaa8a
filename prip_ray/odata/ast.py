"""The typed AST of a Product ``$filter``: what the SQL translator and the in-memory evaluator
(subscriptions) both read. Every property is already checked against the whitelist and every
literal already converted to the property's Python type when a node is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
FUNCTIONS = ("contains", "startswith", "endswith")


@dataclass(frozen=True)
class Property:
    """A Product property (``("ContentDate", "Start")``) or, inside a lambda, a field of the
    collection item (``("Name",)``, ``("Value",)``)."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True)
class Compare:
    op: str  # one of COMPARISONS
    prop: Property
    value: Any  # str, int, float, bool, datetime or UUID, converted for the property


@dataclass(frozen=True)
class In:
    prop: Property
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Function:
    name: str  # one of FUNCTIONS
    prop: Property
    value: str


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Lambda:
    """``Attributes/OData.CSC.<Type>Attribute/any(att: ...)`` or ``Checksum/any(c: ...)``.

    ``value_type`` is the attribute subtype (String, Integer, Double, Boolean,
    DateTimeOffset) or None for Checksum."""

    collection: str  # "Attributes" | "Checksum"
    quantifier: str  # "any" | "all"
    value_type: str | None
    condition: Node


@dataclass(frozen=True)
class Intersects:
    wkt: str
    geometry: Any  # a shapely geometry (lon/lat, WGS84)
    bbox: tuple[float, float, float, float]


Node = Compare | In | Function | And | Or | Not | Lambda | Intersects


def walk(node: Node):  # type: ignore[no-untyped-def]
    """Every node of the tree, depth first."""
    yield node
    if isinstance(node, (And, Or)):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, Lambda):
        yield from walk(node.condition)


def has_geometry(node: Node | None) -> bool:
    return node is not None and any(isinstance(n, Intersects) for n in walk(node))


def conjuncts(node: Node) -> list[Node]:
    """The parts of a top-level ``and`` chain (the node itself if it is not an ``and``)."""
    if isinstance(node, And):
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]


def is_spatial(node: Node) -> bool:
    """Only Intersects under and/or/not: decidable from the footprint alone."""
    if isinstance(node, Intersects):
        return True
    if isinstance(node, Not):
        return is_spatial(node.operand)
    if isinstance(node, (And, Or)):
        return is_spatial(node.left) and is_spatial(node.right)
    return False
