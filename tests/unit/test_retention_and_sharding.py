from datetime import UTC, datetime, timedelta

import pytest

from prip_ray.domain.products import NEVER
from prip_ray.domain.retention import eviction_date, parse_duration, tally_retention
from prip_ray.domain.sharding import shard_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("90s", timedelta(seconds=90)),
        ("1.5m", timedelta(seconds=90)),
        (" 2D ", timedelta(days=2)),
        ("never", None),
    ],
)
def test_parse_duration(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


DAY = timedelta(days=1)


def test_olqc_tallies_outlive_the_longest_stay_in_products() -> None:
    assert tally_retention([7 * DAY], 3 * DAY, 30 * DAY) == 30 * DAY
    assert tally_retention([7 * DAY], 3 * DAY, 2 * DAY) == 10 * DAY
    # a product type kept longer than the rest keeps its tallies as long
    assert tally_retention([7 * DAY, 60 * DAY], 3 * DAY, 30 * DAY) == 63 * DAY
    assert tally_retention([7 * DAY, None], 3 * DAY, 30 * DAY) is None
    assert tally_retention([7 * DAY], None, 30 * DAY) is None
    assert tally_retention([7 * DAY], 3 * DAY, None) is None


@pytest.mark.parametrize("text", ["", "7", "d", "7w", "-1d"])
def test_parse_duration_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_eviction_date() -> None:
    published = datetime(2025, 8, 1, 7, 42, tzinfo=UTC)
    assert eviction_date(published, timedelta(days=7)) == datetime(2025, 8, 8, 7, 42, tzinfo=UTC)
    assert eviction_date(published, None) == NEVER


def test_shards_are_stable_and_cover_all() -> None:
    names = [f"S2B_OPER_MSI_L0__GR_{i:06d}.tar" for i in range(400)]
    shards = [shard_of(n, 4) for n in names]
    assert set(shards) == {0, 1, 2, 3}
    assert shards == [shard_of(n, 4) for n in names]  # same answer every time
    assert shard_of("x", 4) == 3  # crc32-based: the same in every process and on every node
    with pytest.raises(ValueError):
        shard_of("x", 0)
