from datetime import UTC, datetime, timedelta

from prip_ray.services.export import ExportRecord
from prip_ray.services.export_schedule import due_export

NOW = datetime(2025, 8, 10, 12, tzinfo=UTC)
DAY, WEEK = timedelta(days=1), timedelta(days=7)


def record(kind: str, age: timedelta) -> ExportRecord:
    return ExportRecord(f"catalogue/{kind}/x", kind, 0, 0, NOW - age)


def test_first_export_is_full() -> None:
    assert due_export([], NOW, every=DAY, full_every=WEEK) == ("full", None)


def test_daily_incremental_since_the_latest_export_then_weekly_full() -> None:
    assert due_export([record("full", timedelta(hours=3))], NOW, every=DAY, full_every=WEEK) is None
    latest = record("incremental", timedelta(days=1, minutes=5))
    due = due_export([record("full", timedelta(days=3)), latest], NOW, every=DAY, full_every=WEEK)
    assert due == ("incremental", latest.created)
    assert due_export([record("full", timedelta(days=8))], NOW, every=DAY, full_every=WEEK) == (
        "full",
        None,
    )
