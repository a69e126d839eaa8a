from datetime import timedelta

import pytest

from prip_ray.domain.quotas import GB, QuotaLimits, Usage, check_download, check_request
from prip_ray.errors import QuotaExceeded

LIMITS = QuotaLimits(max_parallel=2, volume_bytes=10 * GB, requests_per_minute=100)


def test_downloads_within_limits_pass() -> None:
    check_download(
        LIMITS, Usage(active_downloads=1, window_bytes=9 * GB, requests_last_minute=5), GB
    )
    check_request(LIMITS, 100)


def test_one_download_more_than_the_parallel_limit_is_refused() -> None:
    with pytest.raises(QuotaExceeded, match="at most 2 in parallel") as caught:
        check_download(LIMITS, Usage(2, 0, 0), 1)
    assert caught.value.retry_after > 0


def test_volume_over_the_window_is_refused() -> None:
    with pytest.raises(QuotaExceeded, match="volume quota"):
        check_download(LIMITS, Usage(0, 9 * GB, 0), 2 * GB)


def test_request_rate() -> None:
    with pytest.raises(QuotaExceeded, match="100 requests"):
        check_request(LIMITS, 101)


def test_per_user_overrides_keep_unset_defaults() -> None:
    mine = LIMITS.overridden(max_parallel=8, volume_bytes=None, window=timedelta(days=7))
    assert (mine.max_parallel, mine.volume_bytes, mine.window) == (8, 10 * GB, timedelta(days=7))
