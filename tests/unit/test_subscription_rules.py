"""The rules a subscription must satisfy (domain/subscriptions.py)."""

import pytest

from prip_ray.domain.subscriptions import check_endpoint, limit_reached, next_status


@pytest.mark.parametrize(
    ("running", "total", "new", "refused"),
    [
        (0, 0, True, False),
        (1, 1, True, True),  # one running already
        (0, 10, True, True),  # ten paused: no eleventh
        (0, 10, False, False),  # but one of them may run again
        (1, 2, False, True),  # pause, create, resume: not a second running one
        (0, 2, False, False),
    ],
)
def test_limits_count_new_and_resumed_subscriptions(
    running: int, total: int, new: bool, refused: bool
) -> None:
    reason = limit_reached(running, total, max_running=1, max_total=10, new=new)
    assert (reason is not None) == refused
    if reason:
        assert reason == "at most 1 running and 10 subscriptions per user"


def test_status_changes() -> None:
    assert next_status("paused", "running") == "running"
    assert next_status("failed", "running") == "running"
    with pytest.raises(ValueError, match="cancelled"):
        next_status("cancelled", "running")


@pytest.mark.parametrize("url", ["http://host:port/x", "http://host:99999/x", "ftp://host/x"])
def test_malformed_endpoints_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="NotificationEndpoint"):
        check_endpoint(url)
