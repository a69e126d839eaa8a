"""Sentinel product names: split a file name into the fields of the naming convention.

Three shapes arrive at a PRIP:

* PDI / Earth-Explorer names,
  ``S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11``:
  mission, file class, a 10-character file type, site, creation time, then coded parts
  (``_S`` sensing, ``_O`` orbit period, ``_V`` validity, ``_D`` detector, ``_A`` absolute orbit,
  ``_R`` relative orbit, ``_T`` tile, ``_N`` baseline, ``_B`` band, ``_W`` completeness,
  ``_L`` degradation);
* house-keeping telemetry, ``S2A_OPER_PRD_HKTM___20191203T051837_20191203T051842_0001``;
* user products, ``S2B_MSIL1C_20231015T103019_N0509_R108_T32TQM_20231015T123456.SAFE``.

The parser only reads the name; whether a product type is known is the registry's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prip_ray.errors import InvalidProductName

# Longest first: ".tar.gz" must win over ".gz".
EXTENSIONS = (".tar.gz", ".tgz", ".tar", ".zip", ".SAFE", ".jp2", ".xml", ".EOF", ".TGZ")

_HEADER = re.compile(r"^(S\d[A-D_])_([A-Z0-9]{4})_([A-Z0-9_]{10})_(.+)$")
_USER = re.compile(
    r"^(S\d[A-D])_(MSIL1C|MSIL2A)_(\d{8}T\d{6})_N(\d{4})_R(\d{3})_T([0-9A-Z]{5})_(\d{8}T\d{6})$"
)
_SITE_CREATION = re.compile(r"^([A-Z0-9_]{4})_(\d{8}T\d{6})(.*)$")
_TELEMETRY = re.compile(r"^(\d{8}T\d{6})_(\d{8}T\d{6})_(\d{4})$")
_CODE_VALUE = {
    "D": re.compile(r"^\d{2}$"),
    "A": re.compile(r"^\d{6}$"),
    "R": re.compile(r"^\d{3}$"),
    "T": re.compile(r"^[0-9A-Z]{5}$"),
    "N": re.compile(r"^\d{2}\.\d{2}$"),
    "B": re.compile(r"^[0-9A-Z]{2}$"),
    "W": re.compile(r"^[FP]$"),
    "L": re.compile(r"^[ND]$"),
}


@dataclass(frozen=True)
class ProductName:
    """The fields of a product name. Fields the name does not carry are None."""

    file_name: str
    stem: str
    extension: str
    mission: str  # "S2B", "S2_" (both units), "S1A", ...
    file_class: str  # OPER, TEST, ... ("USER" for user products)
    file_type: str  # MSI_L0__GR, PRD_HKTM__, MSIL1C, ...
    site: str | None = None
    creation: datetime | None = None
    sensing: datetime | None = None
    validity: tuple[datetime, datetime] | None = None
    orbit_period: tuple[int, datetime, datetime] | None = None
    detector: str | None = None
    absolute_orbit: int | None = None
    relative_orbit: int | None = None
    tile: str | None = None
    baseline: str | None = None
    band: str | None = None
    completeness: str | None = None
    degradation: str | None = None
    counter: str | None = None

    @property
    def platform(self) -> str:
        """``SENTINEL-2`` from ``S2B``."""
        return f"SENTINEL-{self.mission[1]}"

    @property
    def unit(self) -> str | None:
        """``B`` from ``S2B``; None for names that cover every unit (``S2_``)."""
        return None if self.mission[2] == "_" else self.mission[2]


def parse_name(file_name: str) -> ProductName:
    """Split ``file_name``; raise InvalidProductName saying which part does not fit."""
    stem, extension = split_extension(file_name)
    user = _USER.match(stem)
    if user:
        return _user_product(file_name, stem, extension, user)
    header = _HEADER.match(stem)
    if not header:
        raise InvalidProductName(
            f"{file_name}: expected MMM_CCCC_TTTTTTTTTT_... (mission, class, file type)"
        )
    mission, file_class, file_type, rest = header.groups()
    # Keyword dicts typed Any: the fields are checked by the dataclass, each from its parser.
    base: dict[str, Any] = {"file_name": file_name, "stem": stem, "extension": extension}
    base |= {"mission": mission, "file_class": file_class, "file_type": file_type}
    telemetry = _TELEMETRY.match(rest)
    if telemetry:
        start, stop, counter = telemetry.groups()
        validity = (_time(start, file_name), _time(stop, file_name))
        return ProductName(**base, validity=validity, counter=counter)
    site_creation = _SITE_CREATION.match(rest)
    if not site_creation:
        raise InvalidProductName(f"{file_name}: expected site and creation time after the type")
    site, creation, codes = site_creation.groups()
    fields = _coded_parts(codes, file_name)
    return ProductName(**base, site=site, creation=_time(creation, file_name), **fields)


def split_extension(file_name: str) -> tuple[str, str]:
    for extension in EXTENSIONS:
        if file_name.endswith(extension) and len(file_name) > len(extension):
            return file_name[: -len(extension)], extension
    return file_name, ""


def _user_product(file_name: str, stem: str, extension: str, match: re.Match[str]) -> ProductName:
    mission, kind, sensing, baseline, orbit, tile, creation = match.groups()
    return ProductName(
        file_name=file_name,
        stem=stem,
        extension=extension,
        mission=mission,
        file_class="USER",
        file_type=kind,
        creation=_time(creation, file_name),
        sensing=_time(sensing, file_name),
        relative_orbit=int(orbit),
        tile=tile,
        baseline=f"{baseline[:2]}.{baseline[2:]}",
    )


def _coded_parts(codes: str, file_name: str) -> dict[str, Any]:
    """Read ``_S..._D04_N05.11`` left to right; _O and _V take the next tokens too."""
    tokens = codes.split("_")[1:] if codes else []
    fields: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        code, value = token[:1], token[1:]
        if code == "S":
            _set(fields, "sensing", _time(value, file_name), code, file_name)
        elif code == "V":
            stop = tokens[i + 1] if i + 1 < len(tokens) else ""
            _set(
                fields,
                "validity",
                (_time(value, file_name), _time(stop, file_name)),
                code,
                file_name,
            )
            i += 1
        elif code == "O":
            times = tokens[i + 1 : i + 3]
            if not value.isdigit() or len(times) != 2:
                raise InvalidProductName(f"{file_name}: orbit period _O{value} is malformed")
            period = (int(value), _time(times[0], file_name), _time(times[1], file_name))
            _set(fields, "orbit_period", period, code, file_name)
            i += 2
        elif code in _CODE_VALUE and _CODE_VALUE[code].match(value):
            _set(fields, _FIELD[code], _CONVERT[code](value), code, file_name)
        else:
            raise InvalidProductName(f"{file_name}: unexpected part _{token}")
        i += 1
    return fields


_FIELD = {
    "D": "detector",
    "A": "absolute_orbit",
    "R": "relative_orbit",
    "T": "tile",
    "N": "baseline",
    "B": "band",
    "W": "completeness",
    "L": "degradation",
}
_CONVERT = {code: (int if code in "AR" else str) for code in _FIELD}


def _set(fields: dict[str, object], name: str, value: object, code: str, file_name: str) -> None:
    if name in fields:
        raise InvalidProductName(f"{file_name}: part _{code} appears twice")
    fields[name] = value


def _time(text: str, file_name: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidProductName(f"{file_name}: {text!r} is not a YYYYMMDDTHHMMSS time") from None


def product_type_of(file_name: str) -> str:
    """The file type of a name, or ``unknown`` for a name that does not parse (a metric
    label: never raises)."""
    try:
        return parse_name(file_name).file_type
    except InvalidProductName:
        return "unknown"
