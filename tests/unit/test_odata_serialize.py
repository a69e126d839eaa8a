"""Timestamps as the PRIP interface writes them: UTC, 'Z', milliseconds unless finer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from prip_ray.odata.serialize import odata_datetime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2025, 8, 1, 7, 42, 12, tzinfo=UTC), "2025-08-01T07:42:12.000Z"),
        (datetime(2025, 8, 1, 7, 42, 12, 646000, tzinfo=UTC), "2025-08-01T07:42:12.646Z"),
        (datetime(2025, 8, 1, 7, 42, 12, 1000, tzinfo=UTC), "2025-08-01T07:42:12.001Z"),
        (datetime(2025, 8, 1, 7, 42, 12, 123456, tzinfo=UTC), "2025-08-01T07:42:12.123456Z"),
        (
            datetime(2025, 8, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))),
            "2025-08-01T07:00:00.000Z",
        ),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
    ],
)
def test_odata_datetime(value: datetime, text: str) -> None:
    assert odata_datetime(value) == text
