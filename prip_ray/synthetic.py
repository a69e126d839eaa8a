"""Synthetic Sentinel-2 PDIs for benchmarks, soak runs and demos.

Each product is a plain tar of a PDI folder whose name and Inventory_Metadata.xml agree, as
a production chain would deliver it: L0 granules (``MSI_L0__GR``) and L2A tiles
(``MSI_L2A_TL``), with a payload of the requested size under IMG_DATA.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

_INVENTORY = """<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>
<Inventory_Metadata xmlns="https://psd-15.sentinel2.eo.esa.int/PSD/Inventory_Metadata.xsd">
  <File_ID>{stem}</File_ID>
  {parent}
  <Group_ID>GS2B_{sensing:%Y%m%dT%H%M%S}_{orbit:06d}_N05.11</Group_ID>
  <File_Name>{stem}</File_Name>
  <File_Version>05.11</File_Version>
  <System>S2PDGS-DPC</System>
  <Source>{source}</Source>
  <Source_Sw_Version>03.00.06</Source_Sw_Version>
  <Generation_Time>UTC={created:%Y-%m-%dT%H:%M:%S}.000000</Generation_Time>
  <Validity_Start>UTC={sensing:%Y-%m-%dT%H:%M:%S}.000000</Validity_Start>
  <Validity_Stop>UTC={stop:%Y-%m-%dT%H:%M:%S}.000000</Validity_Stop>
  <Start_Orbit_Number>{orbit:06d}</Start_Orbit_Number>
  <Stop_Orbit_Number>{orbit:06d}</Stop_Orbit_Number>
  <Geographic_Localization>
    <GEO_TYPE>Polygon</GEO_TYPE>
    <List_Of_Geo_Pnt count="5">{points}
    </List_Of_Geo_Pnt>
  </Geographic_Localization>
  <Quality_Info>100.0</Quality_Info>
  <Data_Size>{size}</Data_Size>
  <File_Type>{file_type}</File_Type>
  {detector}
  <File_Class>NOM</File_Class>
  <Sensor_Code>MSI</Sensor_Code>
  <Sensor_Mode>NOM</Sensor_Mode>
  <Acquisition_Station>EDRS</Acquisition_Station>
  <Processing_Station>2BPS</Processing_Station>
  <Satellite_Code>S2B</Satellite_Code>
  <Ascending_Flag>false</Ascending_Flag>
  <CloudPercentage>{cloud}</CloudPercentage>
</Inventory_Metadata>
"""

_POINT = "\n      <Geo_Pnt><LATITUDE>{lat:.6f}</LATITUDE><LONGITUDE>{lon:.6f}</LONGITUDE></Geo_Pnt>"


@dataclass(frozen=True)
class SyntheticProduct:
    path: Path
    kind: str
    size: int


def granule_name(index: int, start: datetime) -> str:
    created, sensing = _times(index, start)
    return (
        f"S2B_OPER_MSI_L0__GR_2BPS_{created:%Y%m%dT%H%M%S}_S{sensing:%Y%m%dT%H%M%S}"
        f"_D{index % 12 + 1:02d}_N05.11"
    )


def tile_name(index: int, start: datetime) -> str:
    created, _ = _times(index, start)
    tile = f"{31 + index % 20}{'UVWXTS'[index % 6]}{'ABCDEFGH'[index % 8]}{'MNPQ'[index % 4]}"
    return f"S2B_OPER_MSI_L2A_TL_2BPS_{created:%Y%m%dT%H%M%S}_A{43890 + index:06d}_T{tile}_N05.11"


def make_product(
    directory: Path, kind: str, index: int, payload_bytes: int, start: datetime | None = None
) -> SyntheticProduct:
    """Write one synthetic product (``kind`` "granule" or "tile") as ``<name>.tar``."""
    start = start or datetime(2025, 8, 1, 7, 0, tzinfo=UTC)
    stem = granule_name(index, start) if kind == "granule" else tile_name(index, start)
    payload = os.urandom(min(payload_bytes, 1 << 20))
    inventory = _inventory(stem, kind, index, start, payload_bytes).encode("iso-8859-1")
    path = directory / f"{stem}.tar"
    tmp = directory / f".{stem}.tar.part"  # the inbox ignores dot files until renamed
    with tarfile.open(tmp, "w") as archive:
        _add(archive, f"{stem}/Inventory_Metadata.xml", inventory)
        _add_repeated(archive, f"{stem}/IMG_DATA/{stem}_B01.bin", payload, payload_bytes)
    tmp.rename(path)
    return SyntheticProduct(path, kind, path.stat().st_size)


def _times(index: int, start: datetime) -> tuple[datetime, datetime]:
    sensing = start + timedelta(seconds=index * 4)
    return sensing + timedelta(minutes=35), sensing


def _inventory(stem: str, kind: str, index: int, start: datetime, payload: int) -> str:
    created, sensing = _times(index, start)
    granule = kind == "granule"
    # Spread over the globe; some footprints straddle the antimeridian, as real ones do.
    lat, lon = 40.0 + index % 30, -179.5 + (index * 7) % 360
    corners = [(lat, lon), (lat, lon + 1), (lat - 1, lon + 1), (lat - 1, lon), (lat, lon)]
    corners = [(a, o - 360 if o > 180 else o) for a, o in corners]
    return _INVENTORY.format(
        stem=stem,
        parent="" if granule else f"<Parent_ID>{stem.replace('_TL_', '_DS_')}</Parent_ID>",
        sensing=sensing,
        stop=sensing + timedelta(seconds=3),
        created=created,
        orbit=43890 + index,
        source="L0_Processor" if granule else "L2A_Processor",
        points="".join(_POINT.format(lat=a, lon=o) for a, o in corners),
        size=payload + 4096,
        file_type="MSI_L0__GR" if granule else "MSI_L2A_TL",
        detector=f"<Detector>{index % 12 + 1:02d}</Detector>" if granule else "",
        cloud=f"{index % 100}.0",
    )


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _add_repeated(archive: tarfile.TarFile, name: str, block: bytes, size: int) -> None:
    """A large member made of one random block repeated, without holding it all in memory."""
    info = tarfile.TarInfo(name)
    info.size = size
    archive.addfile(info, _RepeatingReader(block, size))


class _RepeatingReader(io.RawIOBase):
    def __init__(self, block: bytes, size: int):
        self._block, self._left, self._offset = block, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self._left)
        for done in range(0, count, len(self._block)):
            chunk = self._block[: min(len(self._block), count - done)]
            buffer[done : done + len(chunk)] = chunk
        self._left -= count
        return count
