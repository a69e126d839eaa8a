"""The KPI gauges: values and targets set, a breach raised while it lasts and lowered after
(an alert on a gauge left at 1 would never resolve)."""

from __future__ import annotations

from prip_ray.metrics import KpiGauges


class RecordingGauge:
    """Behaves as ``ray.util.metrics.Gauge``: the last value set per tag set."""

    made: dict[str, RecordingGauge] = {}

    def __init__(self, name: str, description: str = "", tag_keys: tuple[str, ...] = ()):
        self.values: dict[tuple[tuple[str, str], ...], float] = {}
        RecordingGauge.made[name] = self

    def set(self, value: float, tags: dict[str, str] | None = None) -> None:
        self.values[tuple(sorted((tags or {}).items()))] = value


def test_breaches_rise_and_fall() -> None:
    gauges = KpiGauges(RecordingGauge)
    made = RecordingGauge.made
    gauges.timeliness("MSI_L0__GR", 4000.0, 3600.0)
    gauges.ratios((0.98, 0.99), (None, 0.995))
    gauges.breaches({("timeliness", "MSI_L0__GR"), ("completeness", "all")})
    assert made["prip_kpi_timeliness_seconds"].values == {(("product_type", "MSI_L0__GR"),): 4000.0}
    assert made["prip_kpi_completeness_ratio"].values == {(): 0.98}
    assert made["prip_kpi_availability_ratio"].values == {}  # nothing measured: left alone
    breach = made["prip_kpi_breach"].values
    assert breach[(("kpi", "timeliness"), ("subject", "MSI_L0__GR"))] == 1
    assert breach[(("kpi", "completeness"), ("subject", "all"))] == 1
    assert breach[(("kpi", "availability"), ("subject", "all"))] == 0
    gauges.breaches(set())
    assert set(breach.values()) == {0}
