"""Sizing the PRIP DB: rows and GB per table per day of retention at the seed's rate, on
PostgreSQL (issue #16).

Fills a database migrated with the project's migrations with ``--fraction`` of one day of
the seed (150k products + 500k OLQC reports a day, in day_mix's proportions, published at
the steady rate), every row as ingestion and the services write it (benchmarks/
sizing_rows.py): products with their attributes, trace digests and package listings, their
``created`` and ``deleted`` outbox events, two signed traces each (EC P-256 key: the
certificate travels in every trace) and an HKTM delivery per dump, a DeletedProducts copy
each, the OLQC tallies, downloads, and the KPI rollups of the hours covered. Health probes,
request counters and quarantine entries are made for a whole day. Then VACUUM ANALYZE, and
per table the rows and ``pg_total_relation_size`` (heap, indexes, TOAST), extrapolated to a
full day, and multiplied by how long the default settings keep a row (the steady-state
size).

Assumptions (printed with the table): ``--downloads`` per published item (LTA takes
everything, a DAS a copy: 2), ``--active-users`` with requests every minute (50),
health probes every ``api.probe_interval_s`` (30 s), ``--quarantined`` share of deliveries
(0.1%), trace digests of the synthetic PDIs (two tar members; every further member adds
its entry to trace_digests and twice to each trace, figure printed).

    .venv/bin/python -m benchmarks.table_sizes --fraction 0.05
    .venv/bin/python -m benchmarks.table_sizes --tiny --db-url postgresql://.../fresh_db
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import JSON, Engine, Table, text
from sqlalchemy.engine import make_url

from benchmarks import sizing_rows
from benchmarks.sizing_rows import Assumptions, DayOfRows, DayRows
from prip_ray.config import ApiSettings, IngestSettings, QuotaSettings, RollerSettings
from prip_ray.db import tables
from prip_ray.db.kpi import KpiRepository
from prip_ray.db.kpi_hours import KpiHours
from prip_ray.db.migrate import upgrade
from prip_ray.db.session import create_db_engine
from prip_ray.domain.kpi_rollup import roll_up
from prip_ray.domain.kpi_series import hour_of
from prip_ray.domain.retention import parse_duration
from prip_ray.services.kpi import L0_NAMES

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/prip_bench_sizing"
TINY_ITEMS = 400
BATCH = 2000
GB = 1e9


@dataclass(frozen=True)
class Bound:
    """What keeps a table's rows, and for how many days by default (None: nothing does)."""

    setting: str
    days: float | None


def _days(*durations: str) -> float:
    return sum((parse_duration(d) or timedelta()).total_seconds() for d in durations) / 86_400


def bounds() -> dict[str, Bound]:
    """Each table's retention under the default settings."""
    ingest, roller = IngestSettings(), RollerSettings()
    listed = _days(ingest.retention, roller.offline_retention)
    return {
        "products": Bound("ingest.retention + roller.offline_retention", listed),
        "attributes": Bound("as products", listed),
        "trace_digests": Bound("as products", listed),
        "product_nodes": Bound("as products", listed),
        "deleted_products": Bound("roller.deleted_retention", _days(roller.deleted_retention)),
        "deleted_attributes": Bound("as deleted_products", _days(roller.deleted_retention)),
        "outbox": Bound("roller.events_retention", _days(roller.events_retention)),
        # a created delivery goes with its product, a deleted one events_retention after it
        "deliveries": Bound(
            "max(product listed, roller.events_retention)",
            max(listed, _days(roller.events_retention)),
        ),
        "downloads": Bound("quota.window_days (longest)", QuotaSettings().window_days),
        "request_counts": Bound("1 h (services/history.py)", 1 / 24),
        "health_probes": Bound("400 d (actors/health_probe.py)", 400),
        "quarantine": Bound("ingest.quarantine_retention", _days(ingest.quarantine_retention)),
        # a tally goes once idle for as long as its product can be listed (db/pruning.py)
        "olqc_outcomes": Bound(
            "idle max(roller.deleted_retention, product listed + offline)",
            max(_days(roller.deleted_retention), listed),
        ),
        "kpi_hours": Bound("400 d, with the probes (actors/health_probe.py)", 400),
    }


def main() -> None:
    args = _arguments()
    assume = Assumptions(args.downloads, args.active_users, ApiSettings().probe_interval_s,
                         args.quarantined)  # fmt: skip
    items = TINY_ITEMS if args.tiny else round(args.fraction * sizing_rows.SEED_ITEMS_PER_DAY)
    fraction = items / sizing_rows.SEED_ITEMS_PER_DAY
    _create_database(args.db_url)
    engine = create_db_engine(args.db_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(bounds())} CASCADE"))
    started = time.perf_counter()
    hours = _fill(engine, args.db_url, items, assume)
    print(f"\nloaded {items} items ({fraction:.4f} of a day) in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    scale = dict.fromkeys(bounds(), 1 / fraction)
    scale |= {"health_probes": 1.0, "request_counts": 1.0, "quarantine": 1.0,
              "kpi_hours": 24 / hours}  # fmt: skip
    _report(_measure(args.db_url), scale, assume, items, fraction)
    engine.dispose()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fraction", type=float, default=0.05, help="of the seed's day")
    parser.add_argument("--tiny", action="store_true", help=f"{TINY_ITEMS} items (smoke test)")
    parser.add_argument("--db-url", default=DEFAULT_URL,
                        help="created if missing; its PRIP tables are emptied first")  # fmt: skip
    parser.add_argument("--downloads", type=float, default=2.0, help="per published item")
    parser.add_argument("--active-users", type=int, default=50)
    parser.add_argument("--quarantined", type=float, default=0.001, help="share of items")
    return parser.parse_args()


def _create_database(url: str) -> None:
    target = make_url(url)
    assert target.database, f"{url} names no database"
    admin = target.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
        if not found.fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.database)))


def _fill(engine: Engine, url: str, items: int, assume: Assumptions) -> float:
    """Load the items and what follows them; the hours of KPI rollups made."""
    made = DayOfRows(assume)
    with psycopg.connect(_libpq(url)) as conn:
        for first in range(0, items, BATCH):
            _copy(conn, made.rows(first, min(BATCH, items - first)))
            print(f"\r{min(items, first + BATCH):>8}/{items} items", end="", flush=True)
        end = sizing_rows.publication_time(items)
        outcomes = DayRows({"olqc_outcomes": list(sizing_rows.outcomes(made.tallies, end))})
        _copy(conn, outcomes)
        _copy(conn, sizing_rows.whole_day_rows(assume, sizing_rows.SEED_ITEMS_PER_DAY))
    print(f"\none tar member adds {made.member_bytes} bytes of JSON to a trace's contents")
    return _roll_up_kpis(engine, sizing_rows.publication_time(0), end)


def _roll_up_kpis(engine: Engine, start: datetime, end: datetime) -> float:
    """The hourly KPI rollups of the window, as the KPI service makes them."""
    first, last = hour_of(start), hour_of(end) + timedelta(hours=1)
    repository = KpiRepository(engine)
    rollups = roll_up(repository.timed_delays(first, last), repository.named(first, last, L0_NAMES))
    hours = [first + timedelta(hours=h) for h in range(int((last - first) / timedelta(hours=1)))]
    KpiHours(engine).store(hours, rollups)
    return len(hours)


def _copy(conn: psycopg.Connection[Any], made: DayRows) -> None:
    with conn.cursor() as cur:
        for name, rows in made.tables.items():
            if not rows:
                continue
            table = tables.metadata.tables[name]
            columns = list(rows[0])
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(_values(table, columns, row))
    conn.commit()


def _values(table: Table, columns: list[str], row: dict[str, Any]) -> list[Any]:
    """COPY values: JSON as text, timestamps naive in UTC (as UtcDateTime stores them)."""
    values = []
    for column in columns:
        value = row[column]
        if isinstance(table.c[column].type, JSON) and value is not None:
            value = json.dumps(value)
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).replace(tzinfo=None)
        values.append(value)
    return values


def _measure(url: str) -> dict[str, tuple[int, int]]:
    """(rows, bytes of heap + indexes + TOAST) per table."""
    found = {}
    with psycopg.connect(_libpq(url)) as conn:
        for name in bounds():
            rows = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
            size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (name,))
            found[name] = (rows.fetchone()[0], size.fetchone()[0])  # type: ignore[index]
    return found


def _report(
    measured: dict[str, tuple[int, int]], scale: dict[str, float], assume: Assumptions,
    items: int, fraction: float,
) -> None:  # fmt: skip
    print(f"\nassumptions: {assume.downloads_per_item:g} downloads per published item, "
          f"{assume.active_users} users with requests every minute, a health probe every "
          f"{assume.probe_interval_s:g} s, {assume.quarantined_share:.1%} of deliveries "
          f"quarantined, 2 trace deliveries per item + 1 per HKTM dump")  # fmt: skip
    print(f"measured on {items} items ({fraction:.4f} of the seed's day), extrapolated to "
          f"{sizing_rows.SEED_ITEMS_PER_DAY} items a day\n")  # fmt: skip
    print(f"{'table':20} {'rows/day':>10} {'B/row':>6} {'GB/day':>8} {'kept d':>7} "
          f"{'steady GB':>9}  bound by")  # fmt: skip
    steady = growth = 0.0
    for name, bound in bounds().items():
        rows, size = measured[name]
        per_day = rows * scale[name]
        per_row = size / rows if rows else 0.0
        gb_day = per_day * per_row / GB
        if bound.days is None:
            kept, held = "grows", "-"
            growth += gb_day
        else:
            kept, held = f"{bound.days:.3g}", f"{gb_day * bound.days:.2f}"
            steady += gb_day * bound.days
        print(f"{name:20} {per_day:10.0f} {per_row:6.0f} {gb_day:8.3f} {kept:>7} "
              f"{held:>9}  {bound.setting}")  # fmt: skip
    print(f"\nsteady state at the default retentions: {steady:.1f} GB; unpruned tables "
          f"grow by {growth * 365:.1f} GB a year")  # fmt: skip


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
