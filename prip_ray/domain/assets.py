"""A product's Assets (CDSE's ``$expand=Assets``): today its quicklook, the preview image.

Sentinel-2 tiles carry their preview in the package: ``QI_DATA/<tile>_PVI.jp2`` (the
preview image, 343 x 343 px), else the true-colour image ``IMG_DATA/.../<tile>_TCI_*.jp2``
(the coarsest, the smallest to send); Sentinel-1 SAFEs carry ``preview/quick-look.png``.
The quicklook is found among the members ingestion records (domain/package.py), and served
from inside the product like a Node: the product's package is the only copy of its bytes.
Its Id is derived from the product's and the member's path, so it is the same every time
it is computed.
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
)


@dataclass(frozen=True)
class Asset:
    id: UUID
    type: str  # QUICKLOOK
    path: str  # the member of the product's package that holds it


def quicklook(product_id: UUID, members: Sequence[Member]) -> Asset | None:
    """The product's preview image among its package's ``members``, if it has one."""
    files = [m for m in members if not m.folder and m.size > 0]
    for pattern in _PREVIEWS:
        for member in files:
            if pattern.match(PurePosixPath(member.path).name):
                return Asset(asset_id(product_id, member.path), QUICKLOOK, member.path)
    return None


def asset_id(product_id: UUID, path: str) -> UUID:
    return uuid.uuid5(_ASSET_IDS, f"{product_id}/{path}")
