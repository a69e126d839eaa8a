from datetime import UTC, datetime

import pytest

from prip_ray.domain.naming import parse_name
from prip_ray.errors import InvalidProductName


def t(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def test_l0_granule_name_gives_every_coded_part() -> None:
    name = parse_name("S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11.tar")
    assert (name.mission, name.file_class, name.file_type, name.site) == (
        "S2B",
        "OPER",
        "MSI_L0__GR",
        "2BPS",
    )
    assert name.creation == t("20250801T074015")
    assert name.sensing == t("20250801T070620")
    assert (name.detector, name.baseline, name.extension) == ("04", "05.11", ".tar")
    assert name.stem == "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11"
    assert (name.platform, name.unit) == ("SENTINEL-2", "B")


def test_tile_name_gives_orbit_and_tile() -> None:
    name = parse_name("S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMH_N05.11")
    assert (name.absolute_orbit, name.tile, name.baseline, name.extension) == (
        43890,
        "47XMH",
        "05.11",
        "",
    )


def test_true_colour_image_keeps_its_jp2_extension() -> None:
    name = parse_name("S2B_OPER_MSI_L1C_TC_2BPS_20231015T123456_A043890_T39UWP_N02.08.jp2")
    assert (name.file_type, name.tile, name.extension) == ("MSI_L1C_TC", "39UWP", ".jp2")


def test_validity_orbit_period_band_completeness_and_degradation() -> None:
    name = parse_name(
        "S2A_OPER_MSI_L1B_GR_SGS__20170101T000000_S20170101T000001_D01_B8A_WF_LD_N02.04"
    )
    assert (name.band, name.completeness, name.degradation) == ("8A", "F", "D")
    aux = parse_name("S2__OPER_AUX_UT1UTC_PDMC_20190725T000000_V20190726T000000_20200725T000000")
    assert aux.unit is None
    assert aux.validity == (t("20190726T000000"), t("20200725T000000"))
    sad = parse_name(
        "S2B_OPER_AUX_SADATA_2BPS_20250801T080000_O043890_20250801T070000_20250801T080000.tar"
    )
    assert sad.orbit_period == (43890, t("20250801T070000"), t("20250801T080000"))


def test_hktm_name_gives_validity_and_counter() -> None:
    name = parse_name("S2A_OPER_PRD_HKTM___20191203T051837_20191203T051842_0001")
    assert name.file_type == "PRD_HKTM__"
    assert name.validity == (t("20191203T051837"), t("20191203T051842"))
    assert name.counter == "0001"


def test_user_product_name() -> None:
    name = parse_name("S2B_MSIL1C_20231015T103019_N0509_R108_T32TQM_20231015T123456.SAFE")
    assert (name.file_type, name.relative_orbit, name.tile, name.baseline) == (
        "MSIL1C",
        108,
        "32TQM",
        "05.09",
    )
    assert name.extension == ".SAFE"


@pytest.mark.parametrize(
    ("file_name", "complaint"),
    [
        ("readme.txt", "mission"),
        ("S2B_OPER_MSI_L0__GR_2BPS_2025080XT074015_N05.11", "site and creation"),
        ("S2B_OPER_MSI_L0__GR_2BPS_20251301T074015_N05.11", "YYYYMMDDTHHMMSS"),
        ("S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_X12_N05.11", "unexpected part _X12"),
        ("S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_D4_N05.11", "unexpected part _D4"),
        ("S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_D04_D05", "appears twice"),
        ("S2B_OPER_AUX_SADATA_2BPS_20250801T080000_Oabc_x_y", "orbit period"),
    ],
)
def test_malformed_names_say_what_is_wrong(file_name: str, complaint: str) -> None:
    with pytest.raises(InvalidProductName, match=complaint):
        parse_name(file_name)
