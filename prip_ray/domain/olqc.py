"""OLQC reports (``REP_OLQCPA``): what on-line quality control said about a product.

A report is an Earth Explorer file (``rep_info/OLQC_Report.xsd``, namespace
``http://gs2.esa.int/DATA_STRUCTURE/olqcReport``)::

    Earth_Explorer_File
      Earth_Explorer_Header/Fixed_Header   File_Name, File_Type (REP_OLQCPA), Mission, ...
      Data_Block[@type="xml"]/report[@globalStatus, @date, @gippVersion]
        checkList
          parentID         the OLQC GIPP the checks come from
          name, version    the checklist
          item[@name, @url, @className, @class]     the product inspected
          check+           inspection[@id, @name, @item, @status, @processingStatus, ...],
                           message, extraValues?

The inspected product is ``checkList/item/@name``: the XSD calls it the root item the
checklist is applied to (an inspection's own ``@item`` may be a sub-item of it). Reports name
products as the production chain does, without the package extension the PRIP publishes them
with (``.tar``), so reports and products meet on :func:`inspected_key`.

A product's OLQC status over all its reports (:class:`Tally`): FAILED if any report failed,
else ERROR if any report could not be completed, else PASSED. A FAILED check is a verdict on
the product; an ERROR only says the inspector could not decide, so a failure elsewhere wins.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from prip_ray.domain.naming import ProductName, split_extension
from prip_ray.domain.products import Attribute
from prip_ray.domain.withdrawals import withdrawal_cause
from prip_ray.errors import InvalidMetadata

FILE_TYPE = "REP_OLQCPA"
PASSED, FAILED, ERROR = "PASSED", "FAILED", "ERROR"
STATUSES = (PASSED, FAILED, ERROR)
MAX_NAME = 255  # a product name, as the catalogue holds it

# Attribute names: the inspected product's status, and what a report says it inspected.
QUALITY_STATUS = "qualityStatus"
INSPECTED_PRODUCT = "inspectedProduct"
GLOBAL_STATUS = "globalStatus"

# What a FAILED status does beyond qualityStatus (setting ``olqc.on_failed``).
FLAG = "flag"  # qualityStatus only
OFFLINE = "offline"  # the product is withdrawn: Online false, its bytes go, as on eviction
ON_FAILED = (FLAG, OFFLINE)
# Its DeletionCause: a withdrawal, so a corrected delivery under the same name is published
# as an operator's withdrawal allows (db/retention.py ``remove_withdrawn``).
FAILED_WITHDRAWAL = withdrawal_cause("an OLQC report FAILED it")


@dataclass(frozen=True)
class Check:
    """One ``check``: an inspection's result and message."""

    id: str
    name: str
    item: str  # what was inspected: the product or a part of it
    status: str  # PASSED | FAILED | ERROR
    processing_status: str  # "Done" | "Canceled"
    message: str


@dataclass(frozen=True)
class OlqcReport:
    file_name: str  # Fixed_Header/File_Name
    file_type: str
    mission: str
    global_status: str
    date: datetime
    gipp: str  # checkList/parentID: the OLQC GIPP
    gipp_version: str
    checklist: str
    inspected: str  # checkList/item/@name
    checks: tuple[Check, ...]

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status != PASSED)


@dataclass(frozen=True)
class Tally:
    """How many of a product's reports passed, failed, or ended in error."""

    passed: int = 0
    failed: int = 0
    errors: int = 0

    def add(self, status: str) -> Tally:
        if status == FAILED:
            return replace(self, failed=self.failed + 1)
        if status == ERROR:
            return replace(self, errors=self.errors + 1)
        return replace(self, passed=self.passed + 1)

    @property
    def status(self) -> str | None:
        """The product's OLQC status; None before any report."""
        if self.failed:
            return FAILED
        if self.errors:
            return ERROR
        return PASSED if self.passed else None


def is_report(product_type: str) -> bool:
    return product_type == FILE_TYPE


def inspected_key(name: str) -> str:
    """The name a report and a product share: no folder, no package extension."""
    return split_extension(PurePosixPath(name.strip()).name)[0]


def parse_report(document: bytes, file_name: str) -> OlqcReport:
    """Read an OLQC report; raise InvalidMetadata naming the first thing that is wrong."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as e:
        raise InvalidMetadata(f"{file_name}: OLQC report is not well-formed XML: {e}") from None
    if _local(root.tag) != "Earth_Explorer_File":
        raise InvalidMetadata(f"{file_name}: OLQC report has root <{_local(root.tag)}>")
    header = _child(root, file_name, "Earth_Explorer_Header", "Fixed_Header")
    report = _child(root, file_name, "Data_Block", "report")
    checklist = _child(report, file_name, "checkList")
    item = _child(checklist, file_name, "item")
    checks = tuple(_check(c, file_name) for c in checklist if _local(c.tag) == "check")
    if not checks:
        raise InvalidMetadata(f"{file_name}: OLQC checkList has no <check>")
    return OlqcReport(
        file_name=_text(header, file_name, "File_Name"),
        file_type=_text(header, file_name, "File_Type"),
        mission=_text(header, file_name, "Mission"),
        global_status=_status(report, "globalStatus", file_name),
        date=_datetime(_attribute(report, "date", file_name), "report/@date", file_name),
        gipp=_text(checklist, file_name, "parentID"),
        gipp_version=_attribute(report, "gippVersion", file_name),
        checklist=_text(checklist, file_name, "name"),
        inspected=_attribute(item, "name", file_name),
        checks=checks,
    )


def check_report_matches_name(name: ProductName, report: OlqcReport) -> None:
    """The header must describe the file it is in, as Inventory_Metadata must."""
    pairs = [
        ("File_Name", report.file_name, name.stem),
        ("File_Type", report.file_type, name.file_type),
        ("Mission", report.mission, name.mission),
    ]
    for field, declared, named in pairs:
        if declared != named:
            raise InvalidMetadata(
                f"{name.file_name}: OLQC report <{field}> is {declared!r} "
                f"but the name says {named!r}"
            )
    inspected = inspected_key(report.inspected)
    if not inspected or len(inspected) > MAX_NAME:
        raise InvalidMetadata(
            f"{name.file_name}: OLQC checkList/item names no product ({inspected[:80]!r})"
        )


def report_attributes(report: OlqcReport) -> tuple[Attribute, ...]:
    """What a published report is searchable by (beside the attributes of every product)."""
    return (
        Attribute(INSPECTED_PRODUCT, "String", inspected_key(report.inspected)),
        Attribute(GLOBAL_STATUS, "String", report.global_status),
        Attribute("olqcChecklist", "String", report.checklist),
        Attribute("olqcFailedChecks", "Integer", len(report.failed_checks)),
    )


def _check(element: ET.Element, file_name: str) -> Check:
    inspection = _child(element, file_name, "inspection")
    message = _child(element, file_name, "message")
    return Check(
        id=_attribute(inspection, "id", file_name),
        name=_attribute(inspection, "name", file_name),
        item=_attribute(inspection, "item", file_name),
        status=_status(inspection, "status", file_name),
        processing_status=_attribute(inspection, "processingStatus", file_name),
        message=(message.text or "").strip(),
    )


def _status(element: ET.Element, attribute: str, file_name: str) -> str:
    value = " ".join(_attribute(element, attribute, file_name).split())  # whiteSpace collapse
    if value not in STATUSES:
        raise InvalidMetadata(
            f"{file_name}: OLQC <{_local(element.tag)}> {attribute}={value!r} "
            f"is not one of {', '.join(STATUSES)}"
        )
    return value


def _child(element: ET.Element, file_name: str, *path: str) -> ET.Element:
    for name in path:
        found = next((c for c in element if _local(c.tag) == name), None)
        if found is None:
            raise InvalidMetadata(f"{file_name}: OLQC <{_local(element.tag)}> lacks <{name}>")
        element = found
    return element


def _text(element: ET.Element, file_name: str, name: str) -> str:
    text = (_child(element, file_name, name).text or "").strip()
    if not text:
        raise InvalidMetadata(f"{file_name}: OLQC <{name}> is empty")
    return text


def _attribute(element: ET.Element, name: str, file_name: str) -> str:
    value = element.get(name)
    if value is None or not value.strip():
        raise InvalidMetadata(f"{file_name}: OLQC <{_local(element.tag)}> lacks @{name}")
    return value.strip()


def _datetime(text: str, field: str, file_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidMetadata(f"{file_name}: OLQC {field} {text!r} is not a date-time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
