"""Slows down password guessing: too many failed sign-ins lock the name and the address."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 5 * 60


class LoginThrottle:
    """Per process (each `serve` keeps its own count): a brake on guessing, not an audit log."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def wait_seconds(self, *keys: str) -> int:
        """How long these keys are still locked out (0: go ahead)."""
        now = self._now()
        with self._lock:
            left = max((self._locked_until.get(k, 0.0) - now for k in keys), default=0.0)
        return max(0, int(left + 0.999))

    def failed(self, *keys: str) -> None:
        now = self._now()
        with self._lock:
            if len(self._failures) > 50_000:  # bounded memory under a spray of names
                self._failures.clear()
            for key in keys:
                recent = self._failures.setdefault(key, deque())
                recent.append(now)
                while recent and recent[0] < now - WINDOW_SECONDS:
                    recent.popleft()
                if len(recent) >= MAX_FAILURES:
                    self._locked_until[key] = now + LOCK_SECONDS
                    recent.clear()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
