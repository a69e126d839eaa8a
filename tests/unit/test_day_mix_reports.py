"""The soak's OLQC reports: valid, about the day's granules, with the seed's share failing."""

from collections import Counter

from benchmarks.day_mix import DAY_START, MIX, olqc_inspected, olqc_name, olqc_report, olqc_status
from prip_ray.domain.olqc import parse_report
from prip_ray.synthetic import granule_name


def test_four_reports_a_day_per_granule_as_the_seed_has_it() -> None:
    per_day = {kind.label: kind.per_day for kind in MIX}
    assert per_day["olqc"] == 4 * per_day["granule"]
    assert {olqc_inspected(i) for i in range(8)} == {
        granule_name(0, DAY_START),
        granule_name(1, DAY_START),
    }


def test_a_few_reports_fail_or_end_in_error() -> None:
    statuses = Counter(olqc_status(i) for i in range(20_000))
    assert 0.015 < statuses["FAILED"] / 20_000 < 0.025
    assert 0.002 < statuses["ERROR"] / 20_000 < 0.008


def test_a_report_is_about_the_size_drawn_and_says_what_the_draw_says() -> None:
    for index, size in ((0, 2_000), (17, 8_000)):
        document = olqc_report(olqc_name(index), index, size)
        assert 0.7 * size < len(document) < 1.3 * size + 1_000
        report = parse_report(document, olqc_name(index))
        assert report.inspected == olqc_inspected(index)
        assert report.global_status == olqc_status(index)
