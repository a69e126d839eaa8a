"""The operator console: the KPIs and the PRIP's state as one HTML page with SVG plots,
rendered server-side (plain strings, no framework), and the KPI exports (CSV, JSON)."""
