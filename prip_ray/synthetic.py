"""Synthetic Sentinel-2 PDIs for benchmarks, soak runs and demos.

Each product is a plain tar of a PDI folder whose name and Inventory_Metadata.xml agree, as
a production chain would deliver it: L0 granules (``MSI_L0__GR``) and L2A tiles
(``MSI_L2A_TL``), with a payload of the requested size under IMG_DATA.

OLQC reports (``REP_OLQCPA``) are single XML files valid against the samples'
``rep_info/OLQC_Report.xsd``: :func:`olqc_report` writes one about a named product, with the
global status asked for.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def olqc_report(
    inspected: str,
    status: str = "PASSED",
    *,
    created: datetime | None = None,
    checks: int = 4,
    mission: str = "S2B",
) -> tuple[str, bytes]:
    """(file name, document) of an OLQC report on the product named ``inspected`` (its name
    without package extension, as reports give it): ``checks`` checks, all PASSED, or the
    last one FAILED / ERROR, so that the report's globalStatus is ``status``."""
    created = created or datetime(2025, 8, 1, 7, 40, tzinfo=UTC)
    stem = olqc_report_name(created, mission).removesuffix(".xml")
    statuses = ["PASSED"] * (max(checks, 1) - 1) + [status]
    document = _OLQC.format(
        stem=stem,
        mission=mission,
        created=created,
        status=status,
        inspected=inspected,
        item_class=_ITEM_CLASSES.get(inspected[9:19], "product"),
        checks="".join(
            _olqc_check(inspected, n, check_status, created)
            for n, check_status in enumerate(statuses)
        ),
    )
    return f"{stem}.xml", document.encode()


def olqc_report_name(created: datetime, mission: str = "S2B") -> str:
    """A report's file name: created at ``created``, valid from then on (as the XSD's
    Validity_Start / Validity_Stop say), so two reports differ by their creation time."""
    return (
        f"{mission}_OPER_REP_OLQCPA_{_SITE}_{created:%Y%m%dT%H%M%S}"
        f"_V{created:%Y%m%dT%H%M%S}_99991231T235959.xml"
    )


def write_olqc_report(
    directory: Path, inspected: str, status: str = "PASSED", **options: Any
) -> Path:
    """:func:`olqc_report` written into ``directory`` under a dot-name, then renamed."""
    name, document = olqc_report(inspected, status, **options)
    tmp, path = directory / f".{name}.part", directory / name
    tmp.write_bytes(document)
    tmp.rename(path)
    return path


def _olqc_check(inspected: str, n: int, status: str, created: datetime) -> str:
    check_id, title = _OLQC_CHECKS[n % len(_OLQC_CHECKS)]
    message = {
        "PASSED": f"{title}: within the expected values",
        "FAILED": f"{title}: value 0.{n + 7:03d} outside the expected range [0.000, 0.005]",
        "ERROR": f"{title}: the inspector stopped: IMG_DATA/{inspected}_B01.jp2 cannot be read",
    }[status]
    return _OLQC_CHECK.format(
        id=check_id,
        n=n,
        priority=n % 10 + 1,
        title=title,
        inspected=inspected,
        status=status,
        processing="Canceled" if status == "ERROR" else "Done",
        execution=created - timedelta(seconds=60 - n),
        message=message,
    )


_SITE = "2BPS"
_GIPP = "S2B_OPER_GIP_OLQCPA_MPC__20220708T000100_V20220708T000000_21000101T000000_B00"
_ITEM_CLASSES = {
    "MSI_L0__GR": "Level-0_Granule",
    "MSI_L0__DS": "Level-0_Datastrip",
    "MSI_L2A_TL": "Level-2A_Tile",
    "MSI_L2A_DS": "Level-2A_Datastrip",
}
_OLQC_CHECKS = (
    ("checkProductFormat", "Product format"),
    ("checkGeometricQuality", "Geometric quality"),
    ("checkRadiometricQuality", "Radiometric quality"),
    ("checkSaturatedPixels", "Saturated pixels"),
    ("checkMissingLines", "Missing lines"),
    ("checkNoData", "No-data pixels"),
)
_OLQC = """<?xml version="1.0" encoding="UTF-8"?>
<Earth_Explorer_File xmlns="http://gs2.esa.int/DATA_STRUCTURE/olqcReport">
  <Earth_Explorer_Header>
    <Fixed_Header>
      <File_Name>{stem}</File_Name>
      <File_Description>Report produced by OLQC</File_Description>
      <Notes></Notes>
      <Mission>{mission}</Mission>
      <File_Class>OPER</File_Class>
      <File_Type>REP_OLQCPA</File_Type>
      <Validity_Period>
        <Validity_Start>UTC={created:%Y-%m-%dT%H:%M:%S}</Validity_Start>
        <Validity_Stop>UTC=9999-12-31T23:59:59</Validity_Stop>
      </Validity_Period>
      <File_Version>0001</File_Version>
      <Source>
        <System>OLQC</System>
        <Creator>OLQC</Creator>
        <Creator_Version>06.01.00</Creator_Version>
        <Creation_Date>UTC={created:%Y-%m-%dT%H:%M:%S}</Creation_Date>
      </Source>
    </Fixed_Header>
  </Earth_Explorer_Header>
  <Data_Block type="xml">
    <report date="{created:%Y-%m-%dT%H:%M:%S}.000Z" globalStatus="{status}" gippVersion="{gipp}">
      <checkList>
        <parentID>{gipp}</parentID>
        <name>{item_class}</name>
        <version>1.0</version>
        <item url="file:///PDI/{inspected}" className="{item_class}" name="{inspected}"
          class="http://www.esa.int/s2#{item_class}"/>
{checks}      </checkList>
    </report>
  </Data_Block>
</Earth_Explorer_File>
""".replace("{gipp}", _GIPP)
_OLQC_CHECK = """        <check>
          <inspection creation="{execution:%Y-%m-%dT%H:%M:%S}.000Z" duration="{n}37"
            execution="{execution:%Y-%m-%dT%H:%M:%S}.000Z" id="http://www.esa.int/s2#{id}"
            item="{inspected}" itemURL="file:///PDI/{inspected}" name="{title}"
            priority="{priority}" processingStatus="{processing}" status="{status}"/>
          <message contentType="text/plain">{message}</message>
          <extraValues><value name="CHECK_INDEX">{n}</value></extraValues>
        </check>
"""


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
