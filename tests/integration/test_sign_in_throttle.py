"""Sign-in throttling by the real client address, the owner never locked out, and the session
cookie's Secure flag (issue 8)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.console import SESSION_COOKIE
from orderpilot.services.accounts import create_user
from reliability.support.processes import Server, orderpilot_env

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "owners-password"


def make_hub(tmp_path: Path, **settings: str) -> Hub:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", embedded_dispatcher=False,
                             _env_file=None, **settings))  # type: ignore[call-arg, arg-type]
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        create_user(AccountRepository(conn), "li", PASSWORD, "ops", hub.clock)
    return hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    made = make_hub(tmp_path)
    yield made
    made.close()


def client_at(app: FastAPI, address: str, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False, client=(address, 40000))


def sign_in(client: TestClient, username: str, password: str,
            headers: dict[str, str] | None = None) -> httpx.Response:
    found = CSRF.search(client.get("/console/login").text)
    assert found
    return client.post("/console/login", headers=headers, data={
        "username": username, "password": password, "csrf_token": found.group(1)})


def test_the_owner_gets_in_while_someone_hammers_the_account_elsewhere(hub: Hub) -> None:
    app = create_app(hub)
    attacker = client_at(app, "203.0.113.66")
    codes = [sign_in(attacker, "li", f"guess-{n}").status_code for n in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    # The attacker's address is held back even with the right password...
    assert sign_in(attacker, "li", PASSWORD).status_code == 429
    # ...but the owner, from their own address, signs in.
    owner = client_at(app, "192.0.2.10")
    assert sign_in(owner, "li", PASSWORD).status_code == 303
    assert owner.get("/console").status_code == 200


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_count(hub: Hub) -> None:
    app = create_app(hub)
    sprayer = client_at(app, "127.0.0.1")
    codes = [sign_in(sprayer, f"user{n}", "guess", {"X-Forwarded-For": f"198.51.100.{n}"})
             .status_code for n in range(22)]
    assert codes[:20] == [401] * 20 and codes[20:] == [429, 429]


def test_a_trusted_proxy_passes_on_the_client_address(tmp_path: Path) -> None:
    hub = make_hub(tmp_path, trusted_proxies="10.0.0.5")
    try:
        proxy = client_at(create_app(hub), "10.0.0.5", "https://orders.example.com")
        for _ in range(6):
            sign_in(proxy, "li", "guess", {"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
        blocked = sign_in(proxy, "li", PASSWORD, {"X-Forwarded-For": "198.51.100.1"})
        assert blocked.status_code == 429
        # Whatever the client writes on the left, the proxy's own hop decides.
        assert sign_in(proxy, "li", PASSWORD,
                       {"X-Forwarded-For": "198.51.100.1, 192.0.2.10"}).status_code == 303
    finally:
        hub.close()


def test_orderpilot_serve_does_not_take_forwarded_for_from_loopback(tmp_path: Path) -> None:
    """Through the real server: uvicorn by default believes X-Forwarded-For from 127.0.0.1."""
    server = Server(orderpilot_env(tmp_path / "serve", None), tmp_path)
    server.start()
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            codes = []
            for n in range(22):
                found = CSRF.search(client.get("/console/login").text)
                assert found
                codes.append(client.post("/console/login", data={
                    "username": f"user{n}", "password": "guess", "csrf_token": found.group(1)},
                    headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code)
        assert codes[-2:] == [429, 429], codes
    finally:
        server.stop()


@pytest.mark.parametrize(("settings", "base_url", "secure"), [
    ({}, "http://testserver", False),  # the default bind is 127.0.0.1
    ({"host": "0.0.0.0"}, "https://orders.example.com", True),
    ({"host": "0.0.0.0"}, "http://orders.example.com", True),
    ({"host": "0.0.0.0"}, "http://localhost:8000", False),
    ({"host": "0.0.0.0"}, "http://127.0.0.1:8000", False),
    ({"host": "0.0.0.0"}, "http://[::1]:8000", False),
    ({"host": "0.0.0.0", "secure_cookies": "false"}, "http://orders.example.com", False),
    ({"secure_cookies": "true"}, "http://localhost", True),
    ({"trusted_proxies": "203.0.113.1"}, "http://127.0.0.1", True),  # behind a proxy
])
def test_the_session_cookie_is_secure_outside_loopback(
        tmp_path: Path, settings: dict[str, str], base_url: str, secure: bool) -> None:
    hub = make_hub(tmp_path, **settings)
    try:
        client = client_at(create_app(hub), "203.0.113.1", base_url)
        # The sign-in page starts the session (its anti-forgery token) and sets the cookie.
        response = client.get("/console/login")
        cookie = next(v for v in response.headers.get_list("set-cookie")
                      if v.startswith(SESSION_COOKIE))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert ("secure" in flags) is secure
        assert "httponly" in flags and "samesite=lax" in flags
    finally:
        hub.close()
