import pytest

from prip_ray.errors import RangeNotSatisfiable
from prip_ray.serve.ranges import parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-1023", (0, 1023)),
        ("bytes=0-0", (0, 0)),
        ("bytes=100-", (100, 9999)),
        ("bytes=-100", (9900, 9999)),
        ("bytes=-20000", (0, 9999)),
        ("bytes=9000-20000", (9000, 9999)),
        ("bytes=0-1,5-6", None),  # several ranges: answered with the whole product
        ("items=0-5", None),
        ("bytes=-", None),
        ("bytes=٣-٤", None),  # digits of another script: not a byte range
        ("bytes=²-", None),
        ("bytes=0-" + "9" * 5000, (0, 9999)),  # more digits than int() reads
        ("bytes=-" + "9" * 5000, (0, 9999)),
    ],
)
def test_parse_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 10000) == expected


@pytest.mark.parametrize(
    "header",
    ["bytes=10000-", "bytes=10000-10005", "bytes=5-4", "bytes=-0", "bytes=" + "9" * 5000 + "-"],
)
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable) as error:
        parse_range(header, 10000)
    assert error.value.length == 10000
