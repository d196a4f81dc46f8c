"""Console sessions end on the server: a copied cookie is worthless after sign-out, a password
change or the user being disabled (issue 8)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.console import SESSION_COOKIE
from orderpilot.services import accounts

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "first-password"


@pytest.fixture
def app(hub: Hub) -> Iterator[object]:
    with hub.db.write() as conn:
        accounts.create_user(AccountRepository(conn), "wang", PASSWORD, "ops", hub.clock)
    yield create_app(hub)


def csrf(client: TestClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found, path
    return found.group(1)


def browser(app: object, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    signed_in = client.post("/console/login", data={
        "username": "wang", "password": password, "csrf_token": csrf(client, "/console/login")})
    assert signed_in.status_code == 303, signed_in.text
    return client


def copy_of(app: object, client: TestClient) -> TestClient:
    """What a thief holds: the cookie as it was, in another client."""
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    return TestClient(app, follow_redirects=False,  # type: ignore[arg-type]
                      cookies={SESSION_COOKIE: cookie})


def assert_signed_out(client: TestClient) -> None:
    page = client.get("/console")
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    assert client.get("/api/v1/orders").status_code == 401


def test_a_cookie_copied_before_sign_out_does_not_work_after_it(app: object) -> None:
    owner = browser(app)
    thief = copy_of(app, owner)
    assert thief.get("/console").status_code == 200
    assert owner.post("/console/logout",
                      data={"csrf_token": csrf(owner, "/console")}).status_code == 303
    assert_signed_out(thief)
    assert_signed_out(owner)


def test_changing_the_password_ends_every_other_session(app: object) -> None:
    owner, elsewhere = browser(app), browser(app)
    thief = copy_of(app, owner)
    token = csrf(owner, "/console/account/password")
    wrong = owner.post("/console/account/password", data={
        "current": "not-it-at-all", "new": "second-password", "repeat": "second-password",
        "csrf_token": token})
    assert wrong.status_code == 403 and "当前密码不正确" in wrong.text
    assert thief.get("/console").status_code == 200  # nothing changed yet
    differ = owner.post("/console/account/password", data={
        "current": PASSWORD, "new": "second-password", "repeat": "second-passw0rd",
        "csrf_token": token})
    assert differ.status_code == 422
    changed = owner.post("/console/account/password", data={
        "current": PASSWORD, "new": "second-password", "repeat": "second-password",
        "csrf_token": token})
    assert changed.status_code == 200 and "密码已修改" in changed.text
    assert_signed_out(thief)
    assert_signed_out(elsewhere)
    assert owner.get("/console").status_code == 200  # the browser that changed it goes on
    browser(app, "second-password")


def test_a_password_set_by_an_administrator_ends_the_users_sessions(hub: Hub,
                                                                   app: object) -> None:
    thief = copy_of(app, browser(app))
    with hub.db.write() as conn:
        assert accounts.change_password(AccountRepository(conn), "wang", "reset-by-admin") == 1
    assert_signed_out(thief)


def test_a_one_time_password_must_be_replaced_before_anything_else(hub: Hub,
                                                                  app: object) -> None:
    with hub.db.write() as conn:
        one_time, _ = accounts.reset_password(AccountRepository(conn), "wang")
    client = browser(app, one_time)
    for page in ("/console", "/console/orders", "/console/rules"):
        sent = client.get(page)
        assert sent.status_code == 303 and sent.headers["location"] == "/console/account/password"
    htmx = client.get("/console/orders", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == "/console/account/password"
    refused = client.get("/api/v1/orders")
    assert refused.status_code == 403 and "password" in refused.json()["error"]["message"]
    form = client.get("/console/account/password")
    assert form.status_code == 200 and "管理员已重置您的密码" in form.text

    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    changed = client.post("/console/account/password", data={
        "current": one_time, "new": "chosen-by-wang", "repeat": "chosen-by-wang",
        "csrf_token": token})
    assert changed.status_code == 200 and "管理员已重置您的密码" not in changed.text
    assert client.get("/console").status_code == 200
    assert client.get("/api/v1/orders").status_code == 200
    assert browser(app, "chosen-by-wang").get("/console/orders").status_code == 200


def test_disabling_a_user_ends_their_sessions_for_good(hub: Hub, app: object) -> None:
    owner = browser(app)
    thief = copy_of(app, owner)
    with hub.db.write() as conn:
        accounts.set_disabled(AccountRepository(conn), "wang", True)
    assert_signed_out(thief)
    with hub.db.write() as conn:
        accounts.set_disabled(AccountRepository(conn), "wang", False)
    assert_signed_out(thief)  # enabling again does not bring old sessions back
    assert_signed_out(owner)
    assert browser(app).get("/console").status_code == 200


def test_a_session_ends_when_its_time_is_up(hub: Hub, app: object, clock: FakeClock) -> None:
    owner = browser(app)
    clock.advance(hours=hub.settings.session_max_age_hours - 0.1)
    assert owner.get("/console").status_code == 200
    clock.advance(hours=0.2)
    assert_signed_out(owner)


def test_the_session_cookie_is_http_only_and_same_site(app: object) -> None:
    client = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    response = client.post("/console/login", data={
        "username": "wang", "password": PASSWORD, "csrf_token": csrf(client, "/console/login")})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_guessing_the_current_password_on_a_borrowed_session_is_slowed(hub: Hub,
                                                                      app: object) -> None:
    thief = copy_of(app, browser(app))
    token = csrf(thief, "/console/account/password")
    codes = [thief.post("/console/account/password", data={
        "current": f"guess-{n}", "new": "thiefs-password", "repeat": "thiefs-password",
        "csrf_token": token}).status_code for n in range(6)]
    assert codes == [403] * 5 + [429]
    right = thief.post("/console/account/password", data={
        "current": PASSWORD, "new": "thiefs-password", "repeat": "thiefs-password",
        "csrf_token": token})
    assert right.status_code == 429
    with hub.db.write() as conn:  # the password is unchanged
        assert accounts.authenticate(AccountRepository(conn), "wang", PASSWORD) is not None
