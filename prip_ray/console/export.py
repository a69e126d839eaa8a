"""The KPI figures of a period as CSV, for the monthly report an operator owes the agency.

One row per figure (``section, subject, metric, value``), so a spreadsheet filters and pivots
it without knowing how many product types or days the period had. The JSON export is
``KpiFigures.to_json()``, the body of ``GET /kpi``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from prip_ray.domain.kpi_figures import KpiFigures

Row = tuple[str, str, str, object]


def kpi_rows(figures: KpiFigures) -> Iterator[Row]:
    window = f"{figures.since.isoformat()}/{figures.until.isoformat()}"
    yield "period", "all", "window", window
    for t in figures.timeliness:
        target = figures.targets.timeliness_of(t.product_type)
        yield from (
            ("timeliness", t.product_type, "count", t.count),
            ("timeliness", t.product_type, "p50_s", t.p50_s),
            ("timeliness", t.product_type, "p95_s", t.p95_s),
            ("timeliness", t.product_type, "max_s", t.max_s),
            ("timeliness", t.product_type, "target_p95_s", target),
            ("timeliness", t.product_type, "met", t.p95_s <= target),
        )
    for c in figures.completeness:
        yield from (
            ("completeness", c.product_type, "published", c.published),
            ("completeness", c.product_type, "quarantined", c.rejected),
            ("completeness", c.product_type, "ratio", round(c.ratio, 6)),
        )
    yield "completeness", "all", "ratio", _optional(figures.completeness_ratio)
    yield "completeness", "all", "target", figures.targets.completeness
    for d in figures.daily:
        day = d.day.date().isoformat()
        yield from (
            ("completeness_daily", day, "published", d.published),
            ("completeness_daily", day, "quarantined", d.quarantined),
            ("completeness_daily", day, "missing_granules", d.missing),
        )
        if figures.olqc:
            yield "completeness_daily", day, "missing_olqc_reports", d.unreported
    if figures.olqc:
        yield "completeness", "all", "missing_olqc_reports", figures.unreported_count
    found = figures.availability
    yield from (
        ("availability", "all", "probes", found.probes),
        ("availability", "all", "ok", found.ok),
        ("availability", "all", "ratio", _optional(found.ratio)),
        ("availability", "all", "longest_outage_s", found.longest_outage_s),
        ("availability", "all", "outages", len(figures.outages)),
        ("availability", "all", "target", figures.targets.availability),
    )


def _optional(value: float | None) -> object:
    return "" if value is None else round(value, 6)


def kpi_csv(figures: KpiFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "subject", "metric", "value"))
    writer.writerows(kpi_rows(figures))
    return out.getvalue()
