"""Waiting in crash tests for something another process does."""

from __future__ import annotations

import time
from typing import Any


def wait_for(what: str, check: Any, timeout: float = 60) -> Any:
    """CHECK()'s first truthy answer, polled every 50 ms; AssertionError naming WHAT after
    TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
