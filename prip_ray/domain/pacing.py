"""A per-connection bandwidth cap: a token bucket the download loop asks before each piece.

The bucket starts empty, so even a download's first bytes are paced, and it saves up at most
one second's worth while the client is slow to read: a capped download of N bytes takes at
least about N / rate seconds whatever its client does. The clock and the sleep are arguments,
so the arithmetic is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

PIECE = 64 * 1024  # a capped chunk goes out in pieces this size, so no single wait is long


class TokenBucket:
    def __init__(
        self,
        rate_bytes_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate_bytes_s <= 0:
            raise ValueError("a bandwidth cap must be positive")
        self._rate = rate_bytes_s
        self._clock = clock
        self._sleep = sleep
        self._tokens = 0.0
        self._last = clock()

    def take(self, size: int) -> None:
        """Wait until ``size`` more bytes may go out."""
        now = self._clock()
        saved = self._tokens + (now - self._last) * self._rate
        self._tokens = min(self._rate, saved) - size  # at most one second saved up
        self._last = now
        if self._tokens < 0:
            self._sleep(-self._tokens / self._rate)


def paced(chunks: Iterator[bytes], bucket: TokenBucket) -> Iterator[bytes]:
    """The same bytes, in pieces of at most PIECE, each released when the bucket allows."""
    for chunk in chunks:
        for start in range(0, len(chunk), PIECE):
            piece = chunk[start : start + PIECE]
            bucket.take(len(piece))
            yield piece
