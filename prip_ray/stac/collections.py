"""STAC collections: one per product family, a mission's products of one category
(``sentinel-2-granule``, ``sentinel-2-tile``...), from the product type registry.

A collection is a test of the productType attribute, written so that the SQL translator
answers it from the ``product_type`` column and its index (``db/search/clauses.py``), as it
answers the same OData filter; the mission is the name prefix (``domain/collections.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from prip_ray.domain.collections import COLLECTION_PREFIXES
from prip_ray.domain.product_types import ProductTypeRegistry
from prip_ray.odata import ast

_NAME = ast.Property(("Name",))
_VALUE = ast.Property(("Value",))
_PRODUCT_TYPE = ast.Compare("eq", _NAME, "productType")
MISSIONS = {prefix: name for name, prefix in COLLECTION_PREFIXES.items()}


@dataclass(frozen=True)
class StacCollection:
    id: str  # sentinel-2-granule
    mission: str  # SENTINEL-2
    prefix: str  # S2: the names of the mission's products start with it
    category: str  # granule
    file_types: tuple[str, ...]  # exact product types
    type_prefixes: tuple[str, ...] = ()  # AUX_...: product types starting with these
    levels: tuple[str, ...] = ()  # processing levels of its product types

    @property
    def title(self) -> str:
        return f"{self.mission.title()} {self.category.replace('-', ' ')} products"

    def holds(self, product_name: str, product_type: str) -> bool:
        return product_name.startswith(self.prefix) and self.holds_type(product_type)

    def holds_type(self, product_type: str) -> bool:
        return product_type in self.file_types or product_type.startswith(self.type_prefixes)

    def condition(self) -> ast.Node:
        """The filter of the collection's products, as an OData ``$filter`` would say it."""
        tests: list[ast.Node] = [ast.In(_VALUE, self.file_types)] if self.file_types else []
        tests += [ast.Function("startswith", _VALUE, p) for p in self.type_prefixes]
        value = tests[0]
        for test in tests[1:]:
            value = ast.Or(value, test)
        typed = ast.Lambda("Attributes", "any", "String", ast.And(_PRODUCT_TYPE, value))
        return ast.And(ast.Function("startswith", _NAME, self.prefix), typed)


def stac_collections(registry: ProductTypeRegistry) -> dict[str, StacCollection]:
    """The collections of the registered product types, by id, in registration order."""
    families: dict[str, dict[str, list[str]]] = {}
    for rule in registry:
        family = families.setdefault(
            f"{rule.mission}/{rule.category}", {"exact": [], "prefix": [], "levels": []}
        )
        if rule.file_type.endswith("*"):
            family["prefix"].append(rule.file_type[:-1])
        else:
            family["exact"].append(rule.file_type)
        if rule.processing_level and rule.processing_level not in family["levels"]:
            family["levels"].append(rule.processing_level)
    found = {}
    for key, family in families.items():
        prefix, category = key.split("/")
        mission = MISSIONS.get(prefix, prefix)
        collection = StacCollection(
            id=f"{mission.lower()}-{category}",
            mission=mission,
            prefix=prefix,
            category=category,
            file_types=tuple(family["exact"]),
            type_prefixes=tuple(family["prefix"]),
            levels=tuple(family["levels"]),
        )
        found[collection.id] = collection
    return found


def collection_of(
    collections: dict[str, StacCollection], product_name: str, product_type: str
) -> StacCollection | None:
    return next((c for c in collections.values() if c.holds(product_name, product_type)), None)
