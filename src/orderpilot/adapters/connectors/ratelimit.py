"""A token bucket per provider: callers wait a little for a token instead of failing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimited(Exception):
    """No token came free within the wait allowed."""


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate_per_second
        self.capacity = burst if burst is not None else max(1.0, rate_per_second)
        self._tokens = self.capacity
        self._clock, self._sleep = clock, sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self, max_wait_s: float) -> float:
        """Take one token, waiting up to MAX_WAIT_S; returns the seconds waited."""
        started = self._clock()
        deadline = started + max_wait_s
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity,
                                   self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return now - started
                wait = (1 - self._tokens) / self.rate
            if now + wait > deadline:
                raise RateLimited(f"no send slot within {max_wait_s:g}s "
                                  f"at {self.rate:g} per second")
            self._sleep(wait)
