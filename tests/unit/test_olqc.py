"""OLQC reports: parsing against the real XSD's structure, refusals, and the status rule."""

import tarfile
from datetime import UTC, datetime

import pytest
import xmlschema

from prip_ray.domain.naming import parse_name
from prip_ray.domain.olqc import (
    ERROR,
    FAILED,
    PASSED,
    Tally,
    check_report_matches_name,
    inspected_key,
    parse_report,
    report_attributes,
)
from prip_ray.errors import InvalidMetadata
from prip_ray.synthetic import olqc_report
from tests.samples import GRANULE, sample

CREATED = datetime(2025, 8, 1, 7, 41, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    """rep_info/OLQC_Report.xsd as the real granule sample carries it."""
    with tarfile.open(sample(GRANULE)) as archive:
        member = archive.extractfile(f"{GRANULE}/rep_info/OLQC_Report.xsd")
        assert member is not None
        return xmlschema.XMLSchema(member.read().decode())


@pytest.mark.parametrize("status", [PASSED, FAILED, ERROR])
def test_synthetic_reports_are_valid_against_the_samples_xsd(
    schema: xmlschema.XMLSchema, status: str
) -> None:
    _, document = olqc_report(GRANULE, status, created=CREATED, checks=7)
    schema.validate(document.decode())


def test_a_report_says_what_it_inspected_and_how_each_check_went() -> None:
    name, document = olqc_report(GRANULE, FAILED, created=CREATED, checks=3)
    report = parse_report(document, name)
    assert name == "S2B_OPER_REP_OLQCPA_2BPS_20250801T074105_V20250801T074105_99991231T235959.xml"
    assert report.file_name == name.removesuffix(".xml")
    assert (report.file_type, report.mission) == ("REP_OLQCPA", "S2B")
    assert report.global_status == FAILED
    assert report.inspected == GRANULE
    assert report.gipp.startswith("S2B_OPER_GIP_OLQCPA_")
    assert report.checklist == "Level-0_Granule"
    assert report.date == datetime(2025, 8, 1, 7, 41, 5, tzinfo=UTC)
    assert [c.status for c in report.checks] == [PASSED, PASSED, FAILED]
    assert [c.id.rsplit("#")[1] for c in report.checks] == [
        "checkProductFormat",
        "checkGeometricQuality",
        "checkRadiometricQuality",
    ]
    failed = report.failed_checks
    assert len(failed) == 1 and failed[0].item == GRANULE
    assert "outside the expected range" in failed[0].message
    check_report_matches_name(parse_name(name), report)


def test_a_report_is_searchable_by_the_product_it_inspected() -> None:
    name, document = olqc_report(f"{GRANULE}.tar", ERROR, created=CREATED)
    attributes = {a.name: a.value for a in report_attributes(parse_report(document, name))}
    assert attributes == {
        "inspectedProduct": GRANULE,
        "globalStatus": ERROR,
        "olqcChecklist": "Level-0_Granule",
        "olqcFailedChecks": 1,
    }


def test_reports_and_products_meet_on_the_name_without_package_extension() -> None:
    assert inspected_key(f"{GRANULE}.tar") == GRANULE
    assert inspected_key(f"/PDI/{GRANULE}") == GRANULE
    assert inspected_key(GRANULE) == GRANULE


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d[:200], "not well-formed XML"),
        (lambda d: d.replace(b"Earth_Explorer_File", b"Other_File"), "has root <Other_File>"),
        (lambda d: d.replace(b'globalStatus="PASSED"', b'globalStatus="OK"'), "'OK' is not one"),
        (lambda d: d.replace(b'status="PASSED"', b"", 1), "<inspection> lacks @status"),
        (lambda d: d.replace(b"<item ", b"<other "), "<checkList> lacks <item>"),
        (
            lambda d: d.replace(b"<check>", b"<unchecked>").replace(b"</check>", b"</unchecked>"),
            "checkList has no <check>",
        ),
        (
            lambda d: d.replace(b'date="2025-08-01T07:41:05.000Z"', b'date="yesterday"'),
            "report/@date 'yesterday' is not a date-time",
        ),
    ],
)
def test_malformed_reports_are_refused_with_the_reason(edit, reason: str) -> None:  # type: ignore[no-untyped-def]
    name, document = olqc_report(GRANULE, PASSED, created=CREATED)
    with pytest.raises(InvalidMetadata, match=reason):
        parse_report(edit(document), name)


def test_a_report_whose_header_contradicts_its_file_name_is_refused() -> None:
    name, document = olqc_report(GRANULE, PASSED, created=CREATED)
    other = name.replace("074105_V", "074106_V")
    with pytest.raises(InvalidMetadata, match=r"<File_Name> is .* but the name says"):
        check_report_matches_name(parse_name(other), parse_report(document, other))


@pytest.mark.parametrize(
    ("inspected", "reason"),
    [("", "<item> lacks @name"), ("S2B_" * 70, "checkList/item names no product")],
)
def test_a_report_that_names_no_product_is_refused(inspected: str, reason: str) -> None:
    name, document = olqc_report(GRANULE, PASSED, created=CREATED)
    document = document.replace(f'name="{GRANULE}"'.encode(), f'name="{inspected}"'.encode())
    with pytest.raises(InvalidMetadata, match=reason):
        check_report_matches_name(parse_name(name), parse_report(document, name))


def test_failed_wins_over_error_which_wins_over_passed() -> None:
    assert Tally().status is None
    assert Tally().add(PASSED).add(PASSED).status == PASSED
    assert Tally().add(PASSED).add(ERROR).status == ERROR
    assert Tally().add(ERROR).add(FAILED).add(PASSED).status == FAILED
    assert Tally().add(FAILED).add(ERROR) == Tally(passed=0, failed=1, errors=1)
