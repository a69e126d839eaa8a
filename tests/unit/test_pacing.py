"""The download bandwidth cap's token bucket, on a clock the test moves."""

from __future__ import annotations

import pytest

from prip_ray.domain.pacing import PIECE, TokenBucket, paced


class Clock:
    """Time that passes only when the code under test sleeps, or the test says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_sending_n_bytes_takes_n_over_the_rate_from_the_first_byte() -> None:
    clock = Clock()
    bucket = TokenBucket(1_000_000, clock=lambda: clock.now, sleep=clock.sleep)
    sent = b"".join(paced(iter([b"x" * 1_500_000, b"y" * 500_000]), bucket))
    assert len(sent) == 2_000_000
    assert clock.now - 100.0 == pytest.approx(2.0)
    assert max(clock.slept) <= PIECE / 1_000_000 + 1e-9  # no single long wait


def test_a_slow_reader_saves_up_at_most_one_second() -> None:
    clock = Clock()
    bucket = TokenBucket(1_000_000, clock=lambda: clock.now, sleep=clock.sleep)
    clock.now += 60  # the client read nothing for a minute
    bucket.take(1_000_000)  # one second's worth goes at once
    assert clock.slept == []
    bucket.take(1_000_000)  # the next second's worth waits its second
    assert clock.slept == [pytest.approx(1.0)]


def test_pieces_keep_the_bytes_and_their_order() -> None:
    clock = Clock()
    bucket = TokenBucket(10**9, clock=lambda: clock.now, sleep=clock.sleep)
    data = bytes(range(256)) * 1000
    pieces = list(paced(iter([data[:100_000], data[100_000:]]), bucket))
    assert b"".join(pieces) == data and max(map(len, pieces)) == PIECE


def test_a_cap_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
