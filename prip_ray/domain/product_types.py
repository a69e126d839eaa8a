"""The registry of product types a PRIP accepts, and what each type implies.

The ingestor asks the registry "what is this name?" and never looks at a file type itself,
so a new mission (Sentinel-1, -3) is a new ``register`` call, not a change to ingestion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prip_ray.domain.naming import ProductName
from prip_ray.errors import InvalidProductName

GRANULE = "granule"
DATASTRIP = "datastrip"
TILE = "tile"
TRUE_COLOUR = "true-colour"
TELEMETRY = "hktm"
AUXILIARY = "auxiliary"
REPORT = "report"
USER_PRODUCT = "user-product"

CONTENT_TYPES = {
    ".tar": "application/octet-stream",
    ".tar.gz": "application/gzip",
    ".tgz": "application/gzip",
    ".TGZ": "application/gzip",
    ".zip": "application/zip",
    ".jp2": "image/jp2",
    ".xml": "application/xml",
    ".EOF": "application/xml",
    ".SAFE": "application/octet-stream",
    "": "application/octet-stream",
}


@dataclass(frozen=True)
class ProductTypeRule:
    """What a product type is: ``file_type`` is matched exactly, or as a prefix if it ends
    with ``*`` (``AUX_*``)."""

    mission: str  # "S2": the first two characters of the name
    file_type: str
    category: str
    processing_level: str | None = None
    requires_inventory: bool = False  # PDIs carry Inventory_Metadata.xml; AUX files do not
    package: bool = True  # a folder/archive (PDI) rather than one file (jp2, xml, raw HKTM)

    def matches(self, name: ProductName) -> bool:
        if name.mission[:2] != self.mission:
            return False
        if self.file_type.endswith("*"):
            return name.file_type.startswith(self.file_type[:-1])
        return name.file_type == self.file_type

    def content_type(self, name: ProductName) -> str:
        return CONTENT_TYPES.get(name.extension, "application/octet-stream")


class ProductTypeRegistry:
    """Rules in registration order; exact file types win over prefix rules."""

    def __init__(self, rules: Iterable[ProductTypeRule] = ()):
        self._rules: list[ProductTypeRule] = []
        for rule in rules:
            self.register(rule)

    def register(self, rule: ProductTypeRule) -> None:
        self._rules.append(rule)
        self._rules.sort(key=lambda r: r.file_type.endswith("*"))

    def match(self, name: ProductName) -> ProductTypeRule:
        for rule in self._rules:
            if rule.matches(name):
                return rule
        raise InvalidProductName(
            f"{name.file_name}: no registered product type for {name.mission} {name.file_type}"
        )

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._rules)


def sentinel2_rules() -> list[ProductTypeRule]:
    """The Sentinel-2 product units the S2 PRIP publishes (seed, interface digest)."""
    rules = [
        ProductTypeRule("S2", "MSI_L0__GR", GRANULE, "Level-0", requires_inventory=True),
        ProductTypeRule("S2", "MSI_L0__DS", DATASTRIP, "Level-0", requires_inventory=True),
    ]
    for level in ("L1A", "L1B"):
        rules.append(ProductTypeRule("S2", f"MSI_{level}_GR", GRANULE, f"Level-{level[1:]}", True))
        rules.append(
            ProductTypeRule("S2", f"MSI_{level}_DS", DATASTRIP, f"Level-{level[1:]}", True)
        )
    for level in ("L1B", "L1C", "L2A"):
        rules.append(ProductTypeRule("S2", f"MSI_{level}_TL", TILE, f"Level-{level[1:]}", True))
    for level in ("L1C", "L2A"):
        rules.append(
            ProductTypeRule("S2", f"MSI_{level}_DS", DATASTRIP, f"Level-{level[1:]}", True)
        )
        rules.append(
            ProductTypeRule(
                "S2", f"MSI_{level}_TC", TRUE_COLOUR, f"Level-{level[1:]}", package=False
            )
        )
        rules.append(ProductTypeRule("S2", f"MSI{level}", USER_PRODUCT, f"Level-{level[1:]}"))
    rules += [
        ProductTypeRule("S2", "PRD_HKTM__", TELEMETRY, "Level-0", package=False),
        ProductTypeRule("S2", "REP_OLQC*", REPORT, package=False),
        ProductTypeRule("S2", "AUX_*", AUXILIARY, package=False),
        ProductTypeRule("S2", "GIP_*", AUXILIARY, package=False),
    ]
    return rules


def default_registry() -> ProductTypeRegistry:
    return ProductTypeRegistry(sentinel2_rules())
