"""A product's Assets (CDSE's ``$expand=Assets``): today its quicklook, the preview image.

Sentinel-2 tiles carry their preview in the package: ``QI_DATA/<tile>_PVI.jp2`` (the
preview image, 343 x 343 px), else the true-colour image ``IMG_DATA/.../<tile>_TCI_*.jp2``
(the coarsest, the smallest to send); Sentinel-1 SAFEs carry ``preview/quick-look.png``;
a true-colour (TC) product is its own image. The quicklook is found among the members
ingestion records (domain/package.py), and served from inside the product like a Node:
the product's package is the only copy of its bytes. Its Id is derived from the product's
and the member's path, so it is the same every time it is computed.

A tile with no preview of its own borrows the image of the TC product of the same tile and
sensing time (domain/true_colour.py): an asset whose ``source`` is that product, whose
package holds the bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from uuid import UUID

from prip_ray.domain.package import Member

QUICKLOOK = "QUICKLOOK"
_ASSET_IDS = uuid.UUID("5b1d0c0e-7a4f-4c52-9f0e-0d6e2a7c9b31")  # namespace of asset Ids

# File names of previews, the most fitting first.
_PREVIEWS = (
    re.compile(r".*_PVI\.(jp2|png|jpe?g)$"),
    re.compile(r"^quick-look\.png$"),
    re.compile(r".*_TCI_60m\.jp2$"),
    re.compile(r".*_TCI_20m\.jp2$"),
    re.compile(r".*_TCI(_10m)?\.jp2$"),
    re.compile(r"^S2._[A-Z0-9]{4}_MSI_L(1C|2A)_TC_.*\.jp2$"),  # a TC product: the image
)


@dataclass(frozen=True)
class Asset:
    id: UUID
    type: str  # QUICKLOOK
    path: str  # the member of the source's package that holds it
    source: UUID | None = None  # the product whose package that is; None: this product


def quicklook(product_id: UUID, members: Sequence[Member]) -> Asset | None:
    """The product's preview image among its package's ``members``, if it has one."""
    files = [m for m in members if not m.folder and m.size > 0]
    for pattern in _PREVIEWS:
        for member in files:
            if pattern.match(PurePosixPath(member.path).name):
                return Asset(asset_id(product_id, member.path), QUICKLOOK, member.path)
    return None


def borrowed(product_id: UUID, source_id: UUID, found: Asset) -> Asset:
    """The quicklook ``found`` of product ``source_id``, as an asset of ``product_id``."""
    path = found.path
    return Asset(asset_id(product_id, f"{source_id}/{path}"), found.type, path, source_id)


def asset_id(product_id: UUID, path: str) -> UUID:
    return uuid.uuid5(_ASSET_IDS, f"{product_id}/{path}")
