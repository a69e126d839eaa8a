"""manifest.safe (XFDU): the list of data objects a PDI declares, with sizes and checksums."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from posixpath import normpath

from prip_ray.errors import InvalidMetadata


@dataclass(frozen=True)
class DataObject:
    path: str  # relative to the PDI folder, normalised ("IMG_DATA/R10m/x.jp2")
    size: int | None
    checksum_name: str | None  # "SHA3-256" in S2 PDIs
    checksum: str | None  # lower-case hex


def parse_manifest(document: bytes) -> list[DataObject]:
    try:
        root = ET.fromstring(document)
    except ET.ParseError as e:
        raise InvalidMetadata(f"manifest.safe is not well-formed XML: {e}") from None
    objects = []
    for stream in root.iter():
        if _local(stream.tag) == "byteStream":
            objects.append(_data_object(stream))
    return objects


def _data_object(stream: ET.Element) -> DataObject:
    location = checksum = None
    for child in stream:
        if _local(child.tag) == "fileLocation":
            location = child.get("href")
        elif _local(child.tag) == "checksum":
            checksum = child
    if not location:
        raise InvalidMetadata("manifest.safe has a byteStream without fileLocation href")
    path = normpath(location.removeprefix("./"))
    if path.startswith(("../", "/")) or path == "..":
        raise InvalidMetadata(f"manifest.safe points outside the product: {location}")
    size_text = stream.get("size")
    try:
        size = int(size_text) if size_text is not None else None
    except ValueError:
        raise InvalidMetadata(
            f"manifest.safe: size {size_text!r} of {path} is not a number"
        ) from None
    return DataObject(
        path=path,
        size=size,
        checksum_name=checksum.get("checksumName") if checksum is not None else None,
        checksum=(checksum.text or "").strip().lower() or None if checksum is not None else None,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
