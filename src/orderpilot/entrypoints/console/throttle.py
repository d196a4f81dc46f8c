"""Slows password guessing without locking the owner out.

Failures are counted in three buckets: the account from this address, the address over all
accounts, and the account from everywhere. Past a few free failures each bucket makes the next
attempt wait, the wait doubling per failure up to a cap. A refused attempt is not checked, so
the right password does not get in while its bucket waits, but only the guesser's own buckets
wait: an address that has signed in to the account before is exempt from the account-wide
bucket, so someone hammering an account from elsewhere does not keep its owner out. The buckets
live in the process (each ``serve`` keeps its own): a brake on guessing, not an audit log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_DELAY_SECONDS = 30.0
MAX_DELAY_SECONDS = 15 * 60.0
FORGET_AFTER_SECONDS = 15 * 60.0  # a bucket quiet this long past its wait starts afresh
FREE_FAILURES = {"pair": 5, "address": 20, "account": 20}
MAX_BUCKETS = 100_000  # bounded memory under a spray of names
KNOWN_ADDRESSES_PER_ACCOUNT = 20


@dataclass
class _Bucket:
    failures: int = 0
    last: float = 0.0

    def wait(self, kind: str, now: float) -> float:
        over = self.failures - FREE_FAILURES[kind]
        if over < 0:
            return 0.0
        delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * float(2 ** min(over, 32)))
        return max(0.0, self.last + delay - now)


class LoginThrottle:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._known: dict[str, list[str]] = {}  # account -> addresses that signed in to it

    def _keys(self, account: str, address: str) -> list[tuple[str, str]]:
        keys = [("pair", f"{account}\n{address}"), ("address", address)]
        if address not in self._known.get(account, ()):
            keys.append(("account", account))
        return keys

    def wait_seconds(self, account: str, address: str) -> int:
        """How long this address must wait before trying this account again (0: go ahead)."""
        now = self._now()
        with self._lock:
            waits = [self._buckets[key].wait(key[0], now)
                     for key in self._keys(account, address) if key in self._buckets]
        return int(max(waits, default=0.0) + 0.999)

    def failed(self, account: str, address: str) -> None:
        now = self._now()
        with self._lock:
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_quiet(now)
            for key in self._keys(account, address):
                bucket = self._buckets.setdefault(key, _Bucket())
                if now - bucket.last > FORGET_AFTER_SECONDS + bucket.wait(key[0], bucket.last):
                    bucket.failures = 0
                bucket.failures += 1
                bucket.last = now

    def succeeded(self, account: str, address: str) -> None:
        """The owner's own typos are forgiven; the address and account buckets are not (an
        attacker could otherwise reset them by signing in to an account of their own)."""
        with self._lock:
            self._buckets.pop(("pair", f"{account}\n{address}"), None)
            known = self._known.setdefault(account, [])
            if address not in known:
                known.append(address)
                del known[:-KNOWN_ADDRESSES_PER_ACCOUNT]
            if len(self._known) > MAX_BUCKETS:
                self._known.clear()

    def _forget_quiet(self, now: float) -> None:
        self._buckets = {key: b for key, b in self._buckets.items()
                         if now - b.last <= FORGET_AFTER_SECONDS + b.wait(key[0], b.last)}
        if len(self._buckets) > MAX_BUCKETS:
            self._buckets.clear()
