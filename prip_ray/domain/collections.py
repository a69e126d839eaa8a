"""Collections: the mission a product belongs to, named as CDSE names it.

CDSE clients narrow every search by mission first (``Collection/Name eq 'SENTINEL-2'``).
A product's mission is the start of its name (the registry matches product types on it), so
a collection is a name prefix: the filter becomes ``startswith(Name, 'S2')``, which the name
index answers, and needs no column of its own.
"""

from __future__ import annotations

COLLECTION_PREFIXES = {
    "SENTINEL-1": "S1",
    "SENTINEL-2": "S2",
    "SENTINEL-3": "S3",
    "SENTINEL-5P": "S5P",
    "SENTINEL-6": "S6",
}


def collection_prefix(collection: str) -> str | None:
    """The name prefix of a collection's products; None for a collection no Sentinel
    product belongs to (CDSE's Landsat, CLMS...): such a filter matches nothing."""
    return COLLECTION_PREFIXES.get(collection.strip().upper())


def collection_of(product_name: str) -> str | None:
    """The collection of a product, from its name."""
    for collection, prefix in sorted(COLLECTION_PREFIXES.items(), key=lambda c: -len(c[1])):
        if product_name.startswith(prefix):
            return collection
    return None
