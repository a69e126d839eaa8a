from prip_ray.domain.backoff import Backoff, RetrySchedule


def test_delay_doubles_up_to_the_cap() -> None:
    backoff = Backoff(base_s=1, max_s=10)
    assert [backoff.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_schedule_skips_failed_work_until_due_and_forgets_on_success() -> None:
    schedule = RetrySchedule(Backoff(base_s=5, max_s=60))
    assert schedule.due("a", 0)
    assert schedule.failed("a", 100) == 105
    assert not schedule.due("a", 104) and schedule.due("a", 105)
    assert schedule.due("b", 100)  # other work is not held up
    assert schedule.failed("a", 105) == 115
    assert schedule.attempts("a") == 2
    schedule.succeeded("a")
    assert schedule.due("a", 0) and len(schedule) == 0
