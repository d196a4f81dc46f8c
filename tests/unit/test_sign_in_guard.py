"""The real client address behind configured proxies only, and a sign-in throttle that slows
a guesser without keeping the owner out (issue 8)."""

from __future__ import annotations

import pytest

from orderpilot.config import Settings
from orderpilot.entrypoints.console.throttle import (
    FIRST_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    LoginThrottle,
)
from orderpilot.entrypoints.proxies import TrustedProxies


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() -> None:
    none = TrustedProxies.parse("")
    assert none.client_of("127.0.0.1", "198.51.100.9") == "127.0.0.1"
    assert none.client_of("10.0.0.5", "198.51.100.9") == "10.0.0.5"
    proxy = TrustedProxies.parse("10.0.0.5, 172.16.0.0/12")
    assert proxy.client_of("127.0.0.1", "198.51.100.9") == "127.0.0.1"
    assert proxy.client_of("10.0.0.5", "198.51.100.9") == "198.51.100.9"
    # The client writes what it likes on the left; the right-most untrusted hop is the client.
    assert proxy.client_of("10.0.0.5", "1.2.3.4, 198.51.100.9, 172.16.3.4") == "198.51.100.9"
    assert proxy.client_of("10.0.0.5", "") == "10.0.0.5"
    assert proxy.client_of("10.0.0.5", "172.16.0.1") == "172.16.0.1"


def test_a_proxy_setting_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        Settings(trusted_proxies="10.0.0.1,not-an-ip", _env_file=None)  # type: ignore[call-arg]


def test_secure_cookies_setting_takes_the_old_booleans_and_auto() -> None:
    def mode(value: object) -> str:
        return Settings(secure_cookies=value, _env_file=None).secure_cookies  # type: ignore[call-arg,arg-type]

    assert Settings(_env_file=None).secure_cookies == "auto"  # type: ignore[call-arg]
    assert [mode(v) for v in (True, False, "1", "0", "TRUE", "auto")] == [
        "true", "false", "true", "false", "true", "auto"]
    with pytest.raises(ValueError):
        mode("sometimes")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_guesser_waits_longer_after_each_failure() -> None:
    clock = Clock()
    throttle = LoginThrottle(now=clock)
    for _ in range(5):
        assert throttle.wait_seconds("li", "203.0.113.7") == 0
        throttle.failed("li", "203.0.113.7")
    waits = []
    for _ in range(4):
        wait = throttle.wait_seconds("li", "203.0.113.7")
        waits.append(wait)
        clock.now += wait
        throttle.failed("li", "203.0.113.7")
    assert waits == [FIRST_DELAY_SECONDS, 2 * FIRST_DELAY_SECONDS, 4 * FIRST_DELAY_SECONDS,
                     8 * FIRST_DELAY_SECONDS]
    for _ in range(20):
        clock.now += throttle.wait_seconds("li", "203.0.113.7")
        throttle.failed("li", "203.0.113.7")
    assert throttle.wait_seconds("li", "203.0.113.7") == MAX_DELAY_SECONDS


def test_an_owner_who_signed_in_before_is_not_kept_out_by_a_guesser_elsewhere() -> None:
    clock = Clock()
    throttle = LoginThrottle(now=clock)
    throttle.succeeded("li", "192.0.2.10")  # the owner's office
    for n in range(200):  # a botnet: many addresses, a few guesses each
        address = f"198.51.100.{n % 50}"
        clock.now += throttle.wait_seconds("li", address)
        throttle.failed("li", address)
    assert throttle.wait_seconds("li", "192.0.2.10") == 0
    assert throttle.wait_seconds("li", "198.51.100.99") > 0  # a new address is slowed


def test_one_address_spraying_many_accounts_is_slowed() -> None:
    throttle = LoginThrottle(now=Clock())
    for n in range(20):
        assert throttle.wait_seconds(f"user{n}", "203.0.113.7") == 0
        throttle.failed(f"user{n}", "203.0.113.7")
    assert throttle.wait_seconds("someone-else", "203.0.113.7") == FIRST_DELAY_SECONDS
    assert throttle.wait_seconds("someone-else", "203.0.113.8") == 0


def test_the_owners_own_typos_are_forgiven_by_signing_in() -> None:
    throttle = LoginThrottle(now=Clock())
    for _ in range(4):
        throttle.failed("li", "192.0.2.10")
    throttle.succeeded("li", "192.0.2.10")
    for _ in range(5):
        assert throttle.wait_seconds("li", "192.0.2.10") == 0
        throttle.failed("li", "192.0.2.10")
