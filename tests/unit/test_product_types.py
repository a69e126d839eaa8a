import pytest

from prip_ray.domain.naming import parse_name
from prip_ray.domain.product_types import (
    AUXILIARY,
    DATASTRIP,
    GRANULE,
    REPORT,
    TELEMETRY,
    TILE,
    TRUE_COLOUR,
    USER_PRODUCT,
    ProductTypeRegistry,
    ProductTypeRule,
    default_registry,
)
from prip_ray.errors import InvalidProductName


@pytest.mark.parametrize(
    ("file_name", "category", "level", "content_type"),
    [
        (
            "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11.tar",
            GRANULE,
            "Level-0",
            "application/octet-stream",
        ),
        (
            "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11.tar",
            DATASTRIP,
            "Level-0",
            "application/octet-stream",
        ),
        (
            "S2B_OPER_MSI_L1B_GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11.tar",
            GRANULE,
            "Level-1B",
            "application/octet-stream",
        ),
        (
            "S2B_OPER_MSI_L1C_TL_2BPS_20250801T074829_A043890_T47XMH_N05.11.zip",
            TILE,
            "Level-1C",
            "application/zip",
        ),
        (
            "S2B_OPER_MSI_L2A_DS_2BPS_20250801T074829_S20250801T070620_N05.11.tar",
            DATASTRIP,
            "Level-2A",
            "application/octet-stream",
        ),
        (
            "S2B_OPER_MSI_L1C_TC_2BPS_20231015T123456_A043890_T39UWP_N02.08.jp2",
            TRUE_COLOUR,
            "Level-1C",
            "image/jp2",
        ),
        (
            "S2A_OPER_PRD_HKTM___20191203T051837_20191203T051842_0001",
            TELEMETRY,
            "Level-0",
            "application/octet-stream",
        ),
        (
            "S2B_OPER_AUX_SADATA_2BPS_20250801T080000_O043890_20250801T070000_20250801T080000.tar",
            AUXILIARY,
            None,
            "application/octet-stream",
        ),
        (
            "S2B_OPER_REP_OLQCPA_2BPS_20250801T080000_V20250801T070000_20250801T080000.xml",
            REPORT,
            None,
            "application/xml",
        ),
        (
            "S2B_MSIL2A_20231015T103019_N0509_R108_T32TQM_20231015T123456.SAFE",
            USER_PRODUCT,
            "Level-2A",
            "application/octet-stream",
        ),
    ],
)
def test_sentinel2_types_are_registered(
    file_name: str, category: str, level: str | None, content_type: str
) -> None:
    name = parse_name(file_name)
    rule = default_registry().match(name)
    assert (rule.category, rule.processing_level, rule.content_type(name)) == (
        category,
        level,
        content_type,
    )


def test_unknown_type_is_refused() -> None:
    name = parse_name("S2B_OPER_XYZ_ABCDEF_2BPS_20250801T074015_N05.11")
    with pytest.raises(InvalidProductName, match="no registered product type"):
        default_registry().match(name)


def test_a_new_mission_is_one_registration() -> None:
    registry = default_registry()
    name = parse_name(
        "S1A_OPER_AUX_RESORB_OPOD_20210101T000000_V20201231T220000_20210101T010000.EOF"
    )
    with pytest.raises(InvalidProductName):
        registry.match(name)
    registry.register(ProductTypeRule("S1", "AUX_RESORB", AUXILIARY, package=False))
    assert registry.match(name).file_type == "AUX_RESORB"


def test_exact_types_win_over_prefix_rules() -> None:
    registry = ProductTypeRegistry(
        [ProductTypeRule("S2", "AUX_*", AUXILIARY), ProductTypeRule("S2", "AUX_SADATA", TELEMETRY)]
    )
    name = parse_name("S2B_OPER_AUX_SADATA_2BPS_20250801T080000_N05.11")
    assert registry.match(name).category == TELEMETRY
