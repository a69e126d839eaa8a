"""The console page as HTML text: the period form, the breaches, then one section per KPI
and one for the PRIP's state. Every value from outside (names, reasons) is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from prip_ray.console import plots
from prip_ray.console.plots import duration
from prip_ray.domain.kpi_figures import KpiFigures
from prip_ray.services.console import ConsoleView

PERIODS = {"24h": "last 24 h", "7d": "last 7 days", "30d": "last 30 days"}
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#263238;background:#fafafa}
header{background:#263238;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;
gap:12px;align-items:center}header h1{font-size:18px;margin:0 12px 0 0}
header a{color:#b3e5fc}main{max-width:1320px;margin:0 auto;padding:8px 16px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:4px;margin:12px 0;padding:8px 12px}
h2{font-size:16px;margin:4px 0 8px}h3{font-size:14px;margin:8px 0 4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.grid>*{min-width:0}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid #eceff1;padding:2px 6px;text-align:left;
overflow-wrap:anywhere}th{background:#f5f5f5}
.breach{background:#ffebee;border-color:#e53935}.ok{color:#2e7d32}.bad{color:#c62828;
font-weight:bold}form{display:inline-flex;gap:6px;align-items:center;flex-wrap:wrap}
input{font:inherit}.current{font-weight:bold;text-decoration:underline}
.legend span{display:inline-block;margin-right:10px}.legend i{display:inline-block;width:10px;
height:10px;margin-right:3px}
"""


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], kind: str) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table data-table="{kind}"><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>'
    )


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3%}"


def _header(figures: KpiFigures, period: str, base: str) -> str:
    window = {"since": figures.since.isoformat(), "until": figures.until.isoformat()}
    links = " ".join(
        f'<a href="{escape(base)}?period={key}"{" class=current" if key == period else ""}>'
        f"{label}</a>"
        for key, label in PERIODS.items()
    )
    since, until = (f"{t:%Y-%m-%dT%H:%M}" for t in (figures.since, figures.until))
    return (
        f"<header><h1>PRIP operator console</h1>{links}"
        f'<form method="get" action="{escape(base)}" id="period">'
        '<input type="hidden" name="period" value="custom">'
        f'<label>since <input type="datetime-local" name="since" value="{since}"></label>'
        f'<label>until <input type="datetime-local" name="until" value="{until}"></label>'
        '<button type="submit">show</button></form>'
        f'<a id="export-csv" href="{escape(base)}/export.csv?{escape(urlencode(window))}">CSV</a>'
        f'<a id="export-json" href="{escape(base)}/export.json?{escape(urlencode(window))}">'
        "JSON</a>"
        f"<span>{figures.since:%Y-%m-%d %H:%M} to {figures.until:%Y-%m-%d %H:%M} UTC</span>"
        "</header>"
    )


def _breaches(figures: KpiFigures) -> str:
    found = figures.breaches
    if not found:
        met = '<span class="ok">Every KPI meets its target.</span>'
        return f'<section id="breaches">{met}</section>'
    rows = []
    for b in found:
        if b.kpi == "timeliness":
            rows.append((b.kpi, b.subject, f"p95 {duration(b.value)}", duration(b.target)))
        else:
            rows.append((b.kpi, b.subject, _ratio(b.value), _ratio(b.target)))
    table = _table(("KPI", "of", "measured", "target"), rows, "breaches")
    return f'<section id="breaches" class="breach"><h2>Targets missed</h2>{table}</section>'


def _timeliness(figures: KpiFigures) -> str:
    rows = []
    plots_html = []
    for t in figures.timeliness:
        target = figures.targets.timeliness_of(t.product_type)
        state = "missed" if t.p95_s > target else "met"
        rows.append(
            (
                t.product_type,
                t.count,
                duration(t.p50_s),
                duration(t.p95_s),
                duration(t.max_s),
                duration(target),
                state,
            )
        )
        plots_html.append(
            f'<div class="type" data-product-type="{escape(t.product_type)}">'
            f"<h3>{escape(t.product_type)}: delay distribution</h3>"
            f"{plots.delay_histogram(figures, t.product_type)}"
            f"<h3>{escape(t.product_type)}: p50 / p95 per hour (minutes)</h3>"
            f"{plots.percentile_trend(figures, t.product_type)}</div>"
        )
    head = ("product type", "products", "p50", "p95", "max", "target (p95)", "target")
    return (
        '<section id="timeliness"><h2>Timeliness: publication delay</h2>'
        + _table(head, rows, "timeliness")
        + _legend(("p50", "#1e88e5"), ("p95", "#d81b60"), ("target", "#6a1b9a"))
        + f'<div class="grid">{"".join(plots_html)}</div></section>'
    )


def _legend(*entries: tuple[str, str]) -> str:
    spans = "".join(f'<span><i style="background:{c}"></i>{escape(n)}</span>' for n, c in entries)
    return f'<div class="legend">{spans}</div>'


def _completeness(figures: KpiFigures) -> str:
    rows = [
        (c.product_type, c.published, c.rejected, _ratio(c.ratio)) for c in figures.completeness
    ]
    missing = [
        (i.datastrip, f"{i.published:%Y-%m-%d %H:%M}", " ".join(i.missing))
        for i in figures.incomplete
    ]
    target = figures.targets.completeness
    legend = [("published", "#2e7d32"), ("quarantined", "#ef6c00"), ("granules missing", "#c62828")]
    if figures.olqc:
        legend.append(("OLQC report missing", "#8e24aa"))
    return (
        '<section id="completeness"><h2>Completeness</h2>'
        f"<p>{_ratio(figures.completeness_ratio)} of received products published "
        f"(target {_ratio(target)}).</p>"
        '<div class="grid"><div>'
        + _legend(*legend)
        + plots.daily_completeness(figures)
        + "</div><div>"
        + _table(("product type", "published", "quarantined", "ratio"), rows, "completeness")
        + "</div></div><h3>Datastrips with granules missing</h3>"
        + _table(("datastrip", "published", "missing detectors"), missing, "missing")
        + _unreported(figures)
        + "</section>"
    )


def _unreported(figures: KpiFigures) -> str:
    expected = figures.olqc
    if expected is None:
        return (
            "<h3>Products without an OLQC report</h3><p>No product type is set to expect "
            "OLQC reports (<code>kpi.olqc_types</code>).</p>"
        )
    rows = [(u.name, f"{u.published:%Y-%m-%d %H:%M}") for u in figures.unreported]
    shown = f", the latest {len(rows)} listed" if len(rows) < figures.unreported_count else ""
    return (
        f"<h3>Products without an OLQC report: {figures.unreported_count}{shown}</h3>"
        f"<p>Of the types {escape(', '.join(sorted(expected.product_types)))}, published more "
        f"than {duration(expected.grace.total_seconds())} ago.</p>"
        + _table(("product", "published"), rows, "unreported")
    )


def _availability(figures: KpiFigures) -> str:
    found = figures.availability
    missed = found.ratio is not None and found.ratio < figures.targets.availability
    state = "bad" if missed else "ok"
    outages = [
        (
            f"{o.start:%Y-%m-%d %H:%M:%S}",
            f"{o.end:%Y-%m-%d %H:%M:%S}",
            duration(o.seconds),
        )
        for o in figures.outages
    ]
    return (
        '<section id="availability"><h2>Availability</h2>'
        f'<p><span class="{state}" data-availability="{found.ratio}">{_ratio(found.ratio)}'
        f"</span> of {found.probes} probes succeeded (target "
        f"{_ratio(figures.targets.availability)}); longest outage "
        f"{duration(found.longest_outage_s)}.</p>"
        + _legend(("probes ok", "#43a047"), ("a probe failed", "#e53935"), ("no probe", "#cfd8dc"))
        + plots.probe_timeline(figures)
        + f"<h3>{len(figures.outages)} outage(s)</h3>"
        + _table(("outage from", "until", "lasted"), outages[-20:], "outages")
        + "</section>"
    )


def _operations(view: ConsoleView) -> str:
    figures = view.figures
    waiting = "unknown here" if view.inbox_waiting is None else str(view.inbox_waiting)
    downloads = [(d.user, d.downloads, plots.volume(d.bytes)) for d in view.downloads]
    subs = [
        (
            s.owner,
            s.status,
            s.event,
            view.outbox_head - s.cursor,
            f"{s.last_notification_date:%Y-%m-%d %H:%M}" if s.last_notification_date else "",
            s.last_error or "",
        )
        for s in view.subscriptions
    ]
    reasons = [
        (f"{e.last_seen:%Y-%m-%d %H:%M:%S}", e.name, e.code, e.reason)
        for e in figures.latest_quarantined
    ]
    return (
        '<section id="operations"><h2>Ingestion, downloads, subscriptions</h2><div class="grid">'
        f'<div><h3>Ingestion</h3><p data-backlog="{escape(waiting)}">Inbox: {escape(waiting)} '
        f"waiting; {view.storing} being stored.</p><h3>Published per period</h3>"
        f"{plots.throughput(figures)}</div>"
        "<div><h3>Downloads per user</h3>"
        + _table(("user", "downloads", "volume"), downloads, "downloads")
        + "<h3>Subscriptions</h3>"
        + _table(
            ("owner", "status", "event", "events behind", "last notified", "last error"),
            subs,
            "subscriptions",
        )
        + "</div></div><h3>Latest quarantined</h3>"
        + _table(("when", "product", "code", "reason"), reasons, "quarantine")
        + "</section>"
    )


def render(view: ConsoleView, period: str, base: str = "/console") -> str:
    """The whole page; ``base`` is the console's path (the exports are beneath it)."""
    figures = view.figures
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no /favicon.ico request, no 404 logged
        f"<title>PRIP console {figures.since:%Y-%m-%d} to {figures.until:%Y-%m-%d}</title>"
        f"<style>{STYLE}</style></head><body>"
        + _header(figures, period, base)
        + "<main>"
        + _breaches(figures)
        + _timeliness(figures)
        + _completeness(figures)
        + _availability(figures)
        + _operations(view)
        + f"<footer><small>Rendered {datetime.now().astimezone():%Y-%m-%d %H:%M:%S %Z}"
        "</small></footer></main></body></html>"
    )
