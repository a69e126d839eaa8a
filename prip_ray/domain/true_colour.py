"""A Sentinel-2 tile and the true-colour (TC) product of the same tile and sensing time.

A production centre publishes, beside each L1C or L2A tile (``MSI_L1C_TL``), a TC product
(``MSI_L1C_TC``): the tile's true-colour image as one jp2. A tile with no preview in its own
package takes that image as its quicklook (db/true_colour.py links them, whichever arrives
first). The TC product carries no sensing date of its own (no Inventory_Metadata; its name
holds its creation time), so the pair is found by name: the unit, the level, the tile and
the absolute orbit, which together name one acquisition of that tile, hence one sensing
time. The baseline is left out: a tile reprocessed under a new one shows the same scene.
"""

from __future__ import annotations

from prip_ray.domain.naming import ProductName

TILE_TYPES = ("MSI_L1C_TL", "MSI_L2A_TL")
TRUE_COLOUR_TYPES = ("MSI_L1C_TC", "MSI_L2A_TC")


def sensing_key(name: ProductName) -> str | None:
    """``S2B_L1C_T47XMH_A043890`` for a tile or a TC product; None for any other product,
    or one whose name lacks its tile or orbit."""
    if name.file_type not in TILE_TYPES + TRUE_COLOUR_TYPES:
        return None
    if name.tile is None or name.absolute_orbit is None:
        return None
    level = name.file_type[4:7]
    return f"{name.mission}_{level}_T{name.tile}_A{name.absolute_orbit:06d}"


def is_true_colour(name: ProductName) -> bool:
    return name.file_type in TRUE_COLOUR_TYPES
